"""Pose detector stage: letterbox to 224x224, SSD decoding, weighted NMS, detections to ROIs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blazepose_onnx.pipeline.activations import sigmoid
from blazepose_onnx.pipeline.anchors import INPUT_SIZE, ssd_anchors
from blazepose_onnx.pipeline.roi import rois_from_keypoints, warp_crops

SCORE_CLIP = 100.0
NMS_IOU_THRESHOLD = 0.5
NUM_KEYPOINTS = 4


@dataclass(frozen=True)
class Letterbox:
    """Padding fractions of a square model input (left, top, right, bottom), normalised."""

    left: float
    top: float
    right: float
    bottom: float

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) points normalised to the model input -> normalised to the image."""
        offset = np.array([self.left, self.top])
        scale = np.array([1 - self.left - self.right, 1 - self.top - self.bottom])
        return (points - offset) / scale

    def to_image_pixels(self, boxes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """(n, 4) boxes x1, y1, x2, y2 normalised to the model input -> image pixels."""
        size = np.array([shape[1], shape[0]])
        return (self.to_image(boxes.reshape(-1, 2, 2)) * size).reshape(-1, 4)


@dataclass(frozen=True)
class Detections:
    """Pose detections, normalised to the image (or to the tensor before letterbox removal).

    boxes: (n, 4) xmin, ymin, xmax, ymax of the face box; keypoints: (n, 4, 2); scores: (n,).
    """

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def take(self, index: np.ndarray | slice) -> Detections:
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index])


def letterbox_roi(width: int, height: int) -> tuple[np.ndarray, Letterbox]:
    """The whole-image ROI padded to a square (as MediaPipe's keep_aspect_ratio) and its padding."""
    side = max(width, height)
    pad_x = (1.0 - width / side) / 2
    pad_y = (1.0 - height / side) / 2
    roi = np.array([[0.5, 0.5, side / width, side / height, 0.0]])
    return roi, Letterbox(pad_x, pad_y, pad_x, pad_y)


def letterboxed(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """(1, size, size, 3) uint8 from an RGB uint8 image, letterboxed with a zero border, and
    the letterbox."""
    roi, letterbox = letterbox_roi(image.shape[1], image.shape[0])
    return warp_crops(image, roi, size), letterbox


def detector_input(image: np.ndarray) -> tuple[np.ndarray, Letterbox]:
    """The pose detector's (1, 224, 224, 3) letterboxed input and its letterbox. The model
    scales it to [-1, 1] itself."""
    return letterboxed(image, INPUT_SIZE)


def decode_detections(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, min_score: float
) -> Detections:
    """Decode one image's (2254, 12) box offsets and (2254, 1) logits into scored detections.

    Only anchors scoring at least `min_score` are decoded (usually a handful of 2254).
    """
    logits = np.clip(raw_scores[:, 0].astype(np.float32), -SCORE_CLIP, SCORE_CLIP)
    scores = sigmoid(logits)
    candidates = np.flatnonzero(scores >= min_score)
    anchors = ssd_anchors()[candidates]
    raw = raw_boxes[candidates].astype(np.float32) / np.float32(INPUT_SIZE)
    centre = raw[:, 0:2] + anchors
    size = raw[:, 2:4]
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + anchors[:, None, :]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    valid = np.all(size >= 0, axis=1) & np.isfinite(raw).all(axis=1)
    return Detections(boxes[valid], keypoints[valid], scores[candidates][valid])


def _iou_with(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    overlap = np.clip(
        np.minimum(box[2:], boxes[:, 2:]) - np.maximum(box[:2], boxes[:, :2]), 0, None
    )
    intersection = overlap[:, 0] * overlap[:, 1]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = (box[2] - box[0]) * (box[3] - box[1]) + areas - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def weighted_nms(
    detections: Detections,
    iou_threshold: float = NMS_IOU_THRESHOLD,
    merge_threshold: float | None = None,
) -> Detections:
    """MediaPipe's weighted non-maximum suppression, best score first.

    Each cluster (IoU with the best remaining box > threshold) becomes the score-weighted mean
    of its boxes and keypoints, keeping the best score. With a higher `merge_threshold`, the
    cluster's boxes overlapping the best one by more than that are averaged, the others only
    removed (neighbours suppressed without blurring the box into them).
    """
    order = np.argsort(-detections.scores, kind="stable")
    boxes, keypoints, scores = [], [], []
    while order.size:
        best = order[0]
        overlaps = _iou_with(detections.boxes[best], detections.boxes[order])
        cluster = order[overlaps > (iou_threshold if merge_threshold is None else merge_threshold)]
        if cluster.size == 0:  # a degenerate box overlaps nothing, not even itself
            break
        weights = detections.scores[cluster, None]
        total = weights.sum()
        if not total > 0:  # scores that underflow to 0 (min confidence 0): no weighting
            weights, total = np.ones_like(weights), float(len(cluster))
        boxes.append((detections.boxes[cluster] * weights).sum(axis=0) / total)
        keypoints.append((detections.keypoints[cluster] * weights[:, :, None]).sum(axis=0) / total)
        scores.append(detections.scores[best])
        order = order[overlaps <= iou_threshold]
    if not scores:
        return Detections(
            np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32)
        )
    return Detections(np.array(boxes), np.array(keypoints), np.array(scores))


def remove_letterbox(detections: Detections, letterbox: Letterbox) -> Detections:
    """Map tensor-normalised coordinates back to the image (undo the padding)."""
    boxes = letterbox.to_image(detections.boxes.reshape(-1, 2, 2))
    keypoints = letterbox.to_image(detections.keypoints)
    return Detections(boxes.reshape(-1, 4), keypoints, detections.scores)


def detection_rois(detections: Detections, width: int, height: int) -> np.ndarray:
    """Landmarker ROIs: centred on keypoint 0 (mid-hip), sized and rotated by keypoint 1."""
    return rois_from_keypoints(
        detections.keypoints[:, 0], detections.keypoints[:, 1], width, height
    )
