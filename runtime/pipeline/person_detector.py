"""A pluggable first stage: any person detector in place of MediaPipe's pose detector.

`person_detector=` is a built-in's name (`builtin_detectors`: "ssd"), a callable
`rgb -> (boxes, scores)` (pixel x1, y1, x2, y2), or the path of an ONNX person detector in the
common YOLO export layout: input (1, 3, S, S) float RGB in [0, 1], letterboxed with grey 114;
output (1, 4 + classes, N) of box centre, size (input pixels) and class scores, class 0 being
person. Built-ins and ONNX files run on the landmarker's providers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from blazepose_onnx.backend.model_form import ANY_FORM, ModelForm
from blazepose_onnx.backend.models import builtin_person_detector_model
from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.pipeline.builtin_detectors import BUILTIN_PERSON_DETECTORS, is_builtin
from blazepose_onnx.pipeline.person_boxes import check_person_boxes

MIN_SCORE = 0.25
NMS_IOU = 0.45
LETTERBOX_GREY = 114


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """(1, 3, size, size) float32 in [0, 1], the scale and the (x, y) padding in pixels."""
    height, width = image.shape[:2]
    scale = min(size / width, size / height)
    new_w, new_h = round(width * scale), round(height * scale)
    pad_x, pad_y = (size - new_w) / 2, (size - new_h) / 2
    canvas = np.full((size, size, 3), LETTERBOX_GREY, np.uint8)
    top, left = round(pad_y - 0.1), round(pad_x - 0.1)
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(
        image, (new_w, new_h), interpolation=cv2.INTER_LINEAR
    )
    tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255)
    return tensor, scale, (left, top)


def decode_yolo(
    output: np.ndarray,
    scale: float,
    padding: tuple[float, float],
    min_score: float = MIN_SCORE,
    iou: float = NMS_IOU,
) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes (n, 4) in image pixels and scores (n,) from a (1, 4 + classes, N) output,
    after non-maximum suppression, best first."""
    predictions = np.asarray(output, np.float32)[0].T  # (N, 4 + classes)
    scores = predictions[:, 4]
    keep = np.flatnonzero(scores >= min_score)
    centre, size = predictions[keep, :2], predictions[keep, 2:4]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    boxes = (boxes - np.tile(padding, 2)) / scale
    kept = cv2.dnn.NMSBoxes(
        [[float(x1), float(y1), float(x2 - x1), float(y2 - y1)] for x1, y1, x2, y2 in boxes],
        scores[keep].tolist(),
        min_score,
        iou,
    )
    chosen = np.asarray(kept, np.int64).reshape(-1)
    order = chosen[np.argsort(-scores[keep][chosen], kind="stable")]
    return boxes[order].astype(np.float64), scores[keep][order].astype(np.float64)


class OnnxPersonDetector:
    """A YOLO-layout ONNX person detector (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, session_factory: Callable[[bytes], Any]) -> None:
        self.path = Path(path)
        self.session = session_factory(self.path.read_bytes())
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.size = int(model_input.shape[-1]) if isinstance(model_input.shape[-1], int) else 640

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tensor, scale, padding = letterbox(image, self.size)
        (output,) = self.session.run(None, {self.input_name: tensor})[:1]
        return decode_yolo(output, scale, padding)


def person_detector_stage(
    detector: Callable[[np.ndarray], Any] | str | os.PathLike | None,
    session_factory: Callable[[bytes], Any],
    model: str | os.PathLike | None = None,
    form: ModelForm = ANY_FORM,
) -> Callable[[np.ndarray], Any] | None:
    """The first stage that replaces the pose detector, if any: the callable itself, the named
    built-in (the copy a `model` folder carries, else the model directory's; in the `form` the
    provider needs), or the ONNX person detector at that path as it is, with sessions from
    `session_factory`."""
    if detector is None or callable(detector):
        return detector
    if is_builtin(detector):
        _, data = builtin_person_detector_model(detector, model, form)
        return BUILTIN_PERSON_DETECTORS[detector].build(session_factory(data))
    return OnnxPersonDetector(detector, session_factory)


def checked_person_boxes(
    detector: Callable[[np.ndarray], Any], image: np.ndarray, num_poses: int
) -> np.ndarray:
    """The detector's boxes for this image, checked as `person_boxes` are (the best
    `num_poses`); any failure of a user's callable becomes a ValueError naming it."""
    boxes, _ = checked_detections(detector, image, num_poses)
    return boxes


def checked_detections(
    detector: Callable[[np.ndarray], Any], image: np.ndarray, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The detector's pixel boxes (n, 4) and scores (n,) for this image, best first (at most
    `limit`), checked as `person_boxes` are; any failure of a user's callable becomes a
    ValueError naming it."""
    try:
        boxes, scores = detector(image)
    except Exception as exc:  # a user's callable: any failure becomes a clear error
        raise InvalidValueError(f"person_detector failed: {type(exc).__name__}: {exc}") from exc
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(scores) != len(boxes):
        raise InvalidValueError(
            f"person_detector returned {len(boxes)} boxes but {len(scores)} scores"
        )
    height, width = image.shape[:2]
    table = np.concatenate([boxes, scores[:, None]], axis=1)
    checked = check_person_boxes(
        table, width, height, len(table) if limit is None else limit, "person_detector's boxes"
    )
    order = np.argsort(-scores, kind="stable")[: len(checked)]
    return checked, scores[order]
