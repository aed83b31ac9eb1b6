"""The built-in person detectors, by name (`person_detector="ssd"`, `--person-detector ssd`).

Each name maps to the class that runs it on a session of its converted model (imported on
first use, so naming a detector costs no import). A name here is looked up before any file
of that name: pass a file called like a built-in as `./ssd`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard


@dataclass(frozen=True)
class BuiltinPersonDetector:
    """A built-in person detector: what it is, the `module:class` that runs it on a session of
    its converted model, and whether the pose detector runs in each of its boxes to give the
    body's rotation (`box_orientation`)."""

    description: str
    runner: str
    orients_boxes: bool

    def build(self, session: Any) -> Callable[[Any], Any]:
        """The detector (`rgb -> (boxes, scores)`) on `session`."""
        module, _, name = self.runner.partition(":")
        return getattr(importlib.import_module(module), name)(session)


BUILTIN_PERSON_DETECTORS = {
    "ssd": BuiltinPersonDetector(
        "MediaPipe's SSD-MobileNetV2 (Open Images v4), fetched from npm on first use",
        "blazepose_onnx.pipeline.person_ssd:SsdPersonDetector",
        orients_boxes=True,
    ),
}


def is_builtin(detector: object) -> TypeGuard[str]:
    """Whether `detector` names a built-in person detector."""
    return isinstance(detector, str) and detector in BUILTIN_PERSON_DETECTORS


def orients_boxes(detector: object) -> bool:
    """Whether the boxes of this `person_detector` option get the body's rotation from the pose
    detector (built-ins that ask for it; not callables or ONNX files)."""
    return is_builtin(detector) and BUILTIN_PERSON_DETECTORS[detector].orients_boxes
