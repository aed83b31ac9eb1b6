"""The ways to get a pose from a person box that the evaluation compares with the library's
default (`detect(person_boxes=...)`); each returns the ROIs of the final landmarker pass."""

from __future__ import annotations

import cv2
import numpy as np

from blazepose_onnx.pipeline.detector import INPUT_SIZE, decode_detections, weighted_nms
from blazepose_onnx.pipeline.person_boxes import BOX_ROI_SCALE, box_rois
from blazepose_onnx.pipeline.pose_pipeline import PosePipeline
from blazepose_onnx.pipeline.roi import axis_aligned_iou, crop_matrices, rois_from_keypoints
from blazepose_onnx.stream.tracking import next_frame_rois

CROP_SCALE = 1.5  # the pose detector's crop: this many times the box's longer side
CROP_MIN_SCORE = 0.1
UNSURE_IOU = 0.6  # a refined ROI this far from the box's ROI gets another pass


def square_rois(boxes: np.ndarray, width: int, height: int, scale: float) -> np.ndarray:
    """Upright squares around boxes, `scale` x their longer side (no upper-body rule)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    side = np.max(boxes[:, 2:] - boxes[:, :2], axis=1) * scale
    zero = np.zeros(len(boxes))
    return np.stack(
        [centre[:, 0] / width, centre[:, 1] / height, side / width, side / height, zero], 1
    )


def refined(pipeline: PosePipeline, image: np.ndarray, rois: np.ndarray, **kw) -> np.ndarray:
    """One landmarker pass on `rois`, then the ROIs its auxiliary keypoints give."""
    poses = pipeline.landmarks_batch([image], [rois], with_masks=False, **kw)[0]
    height, width = image.shape[:2]
    return next_frame_rois(poses.aux, width, height) if len(poses.aux) else np.zeros((0, 5))


def plain_box(pipeline: PosePipeline, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Before: a centred square, one pass whose absent poses are dropped, the aux ROI."""
    height, width = image.shape[:2]
    return refined(pipeline, image, square_rois(boxes, width, height, BOX_ROI_SCALE))


def detector_in_box(pipeline: PosePipeline, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The pose detector on each box's crop, scaled up to its input: MediaPipe's own ROI (hip
    centre, rotation, body circle) from the best detection whose hips lie in the box; the
    default ROI where it finds none."""
    height, width = image.shape[:2]
    crops = square_rois(boxes, width, height, CROP_SCALE)
    rois = box_rois(boxes, width, height)
    for k, (box, crop) in enumerate(zip(boxes, crops, strict=True)):
        matrix = crop_matrices(crop[None], width, height, INPUT_SIZE)[0]
        square = cv2.warpAffine(image, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR)
        raw_boxes, raw_scores = pipeline.detector.run(
            ["boxes", "scores"], {pipeline.detector_spec.name: square[None]}
        )
        found = weighted_nms(decode_detections(raw_boxes[0], raw_scores[0], CROP_MIN_SCORE))
        side = crop[2] * width
        origin = np.array([crop[0] * width, crop[1] * height]) - side / 2
        keypoints = origin + found.keypoints * side  # pixels
        hips = keypoints[:, 0]
        inside = np.flatnonzero(((hips >= box[:2]) & (hips <= box[2:])).all(axis=1))
        if len(inside):
            best = keypoints[inside[np.argmax(found.scores[inside])]] / (width, height)
            rois[k] = rois_from_keypoints(best[None, 0], best[None, 1], width, height)[0]
    return refined(pipeline, image, rois, min_presence=0.0)


def third_pass(pipeline: PosePipeline, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The default, and one more refinement pass for boxes whose refined ROI moved far from
    the box's ROI (IoU < 0.6)."""
    height, width = image.shape[:2]
    first = box_rois(boxes, width, height)
    second = pipeline.box_rois_batch([image], [boxes])[0]
    if len(second) != len(first):  # a duplicate was dropped: no one-to-one pairing
        return second
    unsure = np.diag(axis_aligned_iou(first, second)) < UNSURE_IOU
    if unsure.any():
        again = refined(pipeline, image, second[unsure], min_presence=0.0)
        if len(again) == unsure.sum():
            second[unsure] = again
    return second


BOX_VARIANTS = {
    "(a) box ROI, refined once (before)": plain_box,
    "(b) pose detector in the box's crop": detector_in_box,
    "(d) default + a third pass where unsure": third_pass,
}
