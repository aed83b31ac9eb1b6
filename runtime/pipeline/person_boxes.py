"""Person boxes (from any person detector) as landmarker ROIs.

A box has no body rotation, so a ROI is built from it (square, 1.25x its longer side, upright),
the landmarker runs once, and the ROI is rebuilt from the resulting auxiliary keypoints exactly
as tracking does; the pipeline's normal landmarker pass then runs on that refined ROI.

A box less than 1.4x as tall as it is wide is taken for a partly visible person (an upper body:
head to hips, legs cut off or hidden). MediaPipe centres a ROI on the hips with the body's
circle around it, so such a box's ROI is centred 0.9 of the way down the box and is twice the
box's height (at least 1.25x its longer side): the visible body fills the crop's upper half, as
it does in MediaPipe's own ROI of an upper body
(docs/performance.md#photos-the-ways-to-a-pose-per-person: measured against the plain rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError

BOX_ROI_SCALE = 1.25
UPPER_BODY_ASPECT = 1.4  # height / width below which a box is an upper body
UPPER_BODY_CENTRE = 0.9  # the hips: this fraction of an upper-body box's height from its top
UPPER_BODY_SIDE = 2.0  # an upper-body ROI's side, in box heights


def box_table(boxes: Any, what: str = "person_boxes") -> np.ndarray:
    """(n, 4) or (n, 5) float64 boxes x1, y1, x2, y2[, score] from any array-like, whatever the
    image; ValueError/TypeError name the problem (shape, dtype, NaN, empty or negative size)."""
    try:
        array = np.asarray(boxes)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(
            f"{what} must be an (n, 4) or (n, 5) array of numbers: {exc}"
        ) from exc
    if array.size == 0:
        return np.zeros((0, 4))
    if array.dtype.kind not in "iuf":
        raise InvalidTypeError(f"{what} must hold numbers, got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[1] not in (4, 5):
        raise InvalidValueError(
            f"{what} must have shape (n, 4) or (n, 5) (x1, y1, x2, y2[, score]), got {array.shape}"
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise InvalidValueError(f"{what} contain NaN or infinite values")
    x1, y1, x2, y2 = array[:, :4].T
    if ((x2 <= x1) | (y2 <= y1)).any():
        raise InvalidValueError(f"{what} need x2 > x1 and y2 > y1 (no empty or negative sizes)")
    return array


def check_person_boxes(
    boxes: Any, width: int, height: int, limit: int, what: str = "person_boxes"
) -> np.ndarray:
    """(n, 4) float64 pixel boxes x1, y1, x2, y2 from an (n, 4) or (n, 5) array (the fifth
    column a score), best score first and at most `limit`; ValueError/TypeError name the
    problem (`box_table`'s, or outside the image)."""
    array = box_table(boxes, what)
    x1, y1, x2, y2 = array[:, :4].T
    if ((x2 <= 0) | (y2 <= 0) | (x1 >= width) | (y1 >= height)).any():
        raise InvalidValueError(f"{what} must overlap the {width}x{height} image")
    if array.shape[1] == 5:
        array = array[np.argsort(-array[:, 4], kind="stable")]
    return array[:limit, :4]


def box_rois(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Upright square ROIs (n, 5), normalised, around pixel boxes: centred, 1.25x their longer
    side; for upper-body boxes centred on the assumed hips (see the module docstring)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = boxes[:, 2:] - boxes[:, :2]
    side = np.max(size, axis=1) * BOX_ROI_SCALE
    upper = size[:, 1] < UPPER_BODY_ASPECT * size[:, 0]
    centre[upper, 1] = boxes[upper, 1] + UPPER_BODY_CENTRE * size[upper, 1]
    side[upper] = np.maximum(side[upper], UPPER_BODY_SIDE * size[upper, 1])
    return np.stack(
        [
            centre[:, 0] / width,
            centre[:, 1] / height,
            side / width,
            side / height,
            np.zeros(len(boxes)),
        ],
        axis=1,
    )


def rotate_boxes(boxes: np.ndarray, degrees: int, width: int, height: int) -> np.ndarray:
    """Pixel boxes of an image mapped into that image rotated clockwise by `degrees`."""
    if degrees == 0 or not len(boxes):
        return boxes
    x1, y1, x2, y2 = boxes.T
    if degrees == 90:
        return np.stack([height - y2, x1, height - y1, x2], axis=1)
    if degrees == 180:
        return np.stack([width - x2, height - y2, width - x1, height - y1], axis=1)
    return np.stack([y1, width - x2, y2, width - x1], axis=1)


def upright_person_boxes(
    person_boxes: Any, image: np.ndarray, num_poses: int, degrees: int
) -> np.ndarray:
    """Checked pixel boxes of `image` (as passed in) mapped into it turned upright by `degrees`."""
    height, width = image.shape[:2]
    boxes = check_person_boxes(person_boxes, width, height, num_poses)
    return rotate_boxes(boxes, degrees, width, height)
