"""The built-in person detectors, by name (`person_detector="ssd"`, `--person-detector ssd`).

Each name maps to the function that builds its detector from a session factory (imported on
first use, so naming a detector costs no import). A name here is looked up before any file
of that name: pass a file called like a built-in as `./ssd`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BuiltinPersonDetector:
    """A built-in person detector: what it is, and `module:function` building it."""

    description: str
    factory: str

    def build(self, session_factory: Callable[[bytes], Any]) -> Callable[[Any], Any]:
        module, _, function = self.factory.partition(":")
        return getattr(importlib.import_module(module), function)(session_factory)


BUILTIN_PERSON_DETECTORS = {
    "ssd": BuiltinPersonDetector(
        "MediaPipe's SSD-MobileNetV2 (Open Images v4), fetched from npm on first use",
        "blazepose_onnx.person_ssd:ssd_person_detector",
    ),
}


def is_builtin(detector: object) -> bool:
    """Whether `detector` names a built-in person detector."""
    return isinstance(detector, str) and detector in BUILTIN_PERSON_DETECTORS
