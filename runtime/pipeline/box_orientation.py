"""The body's rotation for ROIs seeded from person boxes: MediaPipe's pose detector in each box.

A box has no rotation, and a ROI seeded upright from it loses a person lying down or upside down
(docs/performance.md#the-built-in-person-detector: measured on photos turned 90/180/270
degrees). MediaPipe's pose detector finds a body in any orientation, as its hip centre and the
point above the head; run on a square crop around each box (1.25x its longer side, upright), its
best detection whose face lies in the box (the detector keys on faces; the hips of an upper body
may lie outside the picture) seeds that box's ROI by MediaPipe's own detection rule when it
turns the body more than 45 degrees from upright. Every other box keeps the upright rule
(`person_boxes`), so an upright person is seeded exactly as without this step.
"""

from __future__ import annotations

import numpy as np

from blazepose_onnx.pipeline.detector import decode_detections, weighted_nms
from blazepose_onnx.pipeline.roi import project_to_image, rois_from_keypoints

CROP_SCALE = 1.25  # the crop's side, in the box's longer sides
MIN_SCORE = 0.3  # the pose detector's score for a body in a box's crop
MIN_TURN = np.pi / 4  # a detection turned less than this from upright leaves the box's ROI


def box_crop_rois(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Upright square ROIs (n, 5), normalised, around pixel boxes (n, 4): 1.25x the longer side."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = np.max(boxes[:, 2:] - boxes[:, :2], axis=1) * CROP_SCALE
    upright = np.zeros(len(boxes))
    return np.stack(
        [centre[:, 0] / width, centre[:, 1] / height, side / width, side / height, upright], axis=1
    )


def turned_roi(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    crop_roi: np.ndarray,
    box: np.ndarray,
    width: int,
    height: int,
) -> np.ndarray | None:
    """The ROI (5,) of the body the pose detector found in one box's crop (its (2254, 12) and
    (2254, 1) outputs), when its face lies in the box and it is turned more than 45 degrees
    from upright; None otherwise."""
    detections = weighted_nms(decode_detections(raw_boxes, raw_scores, MIN_SCORE))
    if not len(detections):
        return None
    crops = np.repeat(crop_roi[None], len(detections), axis=0)
    keypoints = project_to_image(detections.keypoints, crops)  # normalised to the image
    faces = (detections.boxes[:, None, :2] + detections.boxes[:, None, 2:]) / 2
    faces = project_to_image(faces, crops)[:, 0] * (width, height)
    inside = np.all((faces >= box[:2]) & (faces <= box[2:]), axis=1)
    if not inside.any():
        return None
    best = keypoints[np.flatnonzero(inside)[np.argmax(detections.scores[inside])]]
    roi = rois_from_keypoints(best[None, 0], best[None, 1], width, height)[0]
    return roi if abs(roi[4]) > MIN_TURN else None
