"""Pose landmarker stage: rotated 256x256 crops, landmark decoding, heatmap refinement,
projection to the image, world landmarks and segmentation masks. All vectorised over poses.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from blazepose_onnx.pipeline.activations import sigmoid
from blazepose_onnx.pipeline.roi import crop_matrices, project_to_image, warp_crops

INPUT_SIZE = 256
NUM_POINTS = 39  # 33 landmarks, 2 auxiliary (tracking), 4 unused
NUM_LANDMARKS = 33
AUX_POINTS = slice(33, 35)
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class RawPoses:
    """Decoded landmarker outputs for n crops, before projection.

    points: (n, 39, 5) crop-normalised x, y, z and sigmoid visibility, presence;
    world: (n, 39, 3) metres; pose_flag: (n,); segmentation: (n, 256, 256) logits or None.
    """

    points: np.ndarray
    world: np.ndarray
    pose_flag: np.ndarray
    segmentation: np.ndarray | None


def crop_inputs(image: np.ndarray, rois: np.ndarray) -> np.ndarray:
    """(n, 256, 256, 3) uint8: each ROI warped out of the RGB uint8 image, bilinear with a
    replicated border (as MediaPipe on CPU). The model scales them to [0, 1] itself."""
    return warp_crops(image, rois, INPUT_SIZE, cv2.BORDER_REPLICATE)


def decode_outputs(
    landmarks: np.ndarray, pose_flag: np.ndarray, world: np.ndarray, segmentation: np.ndarray | None
) -> RawPoses:
    """Landmarker tensors -> crop-normalised points with sigmoid visibility and presence."""
    raw = landmarks.reshape(-1, NUM_POINTS, 5).astype(np.float32)
    points = np.empty_like(raw)
    points[..., :3] = raw[..., :3] / np.float32(INPUT_SIZE)
    points[..., 3:] = sigmoid(raw[..., 3:])
    masks = None if segmentation is None else segmentation[:, 0]
    return RawPoses(points, world.reshape(-1, NUM_POINTS, 3), pose_flag.reshape(-1), masks)


def refine_with_heatmap(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """MediaPipe's heatmap refinement of x/y, for (n, 39, >=2) points and (n, 39, 64, 64) logits.

    Within a 7x7 window (clipped at the borders) around each point, x/y become the
    sigmoid-confidence-weighted mean cell position / 64, when the window's max confidence is
    at least 0.5. Replicates MediaPipe's bounds check, which tests the column twice (a row
    below the map only shrinks the window).
    """
    n, num, rows, cols = heatmap.shape
    centre_col = np.trunc(points[..., 0] * cols).astype(np.int64)  # C++ float->int cast
    centre_row = np.trunc(points[..., 1] * rows).astype(np.int64)
    inside = (centre_col >= 0) & (centre_col < cols) & (centre_row >= 0)
    half = (HEATMAP_KERNEL - 1) // 2
    window = np.arange(-half, half + 1)
    row_idx = centre_row[..., None] + window  # (n, 39, 7)
    col_idx = centre_col[..., None] + window
    valid = ((row_idx >= 0) & (row_idx < rows))[..., :, None] & ((col_idx >= 0) & (col_idx < cols))[
        ..., None, :
    ]
    pose_idx = np.arange(n)[:, None, None, None]
    point_idx = np.arange(num)[None, :, None, None]
    logits = heatmap[
        pose_idx,
        point_idx,
        np.clip(row_idx, 0, rows - 1)[..., :, None],
        np.clip(col_idx, 0, cols - 1)[..., None, :],
    ]
    confidence = np.where(valid, sigmoid(logits.astype(np.float32)), np.float32(0))
    total = confidence.sum(axis=(2, 3))
    weighted_col = (confidence * col_idx[..., None, :]).sum(axis=(2, 3))
    weighted_row = (confidence * row_idx[..., :, None]).sum(axis=(2, 3))
    refine = inside & (confidence.max(axis=(2, 3)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    safe_total = np.where(total > 0, total, 1)
    out = points.copy()
    out[..., 0] = np.where(refine, weighted_col / cols / safe_total, points[..., 0])
    out[..., 1] = np.where(refine, weighted_row / rows / safe_total, points[..., 1])
    return out


def project_landmarks(points: np.ndarray, rois: np.ndarray) -> np.ndarray:
    """Crop-normalised (n, 39, 5) points -> image-normalised; z scales with the ROI width."""
    projected = project_to_image(points, rois)
    projected[..., 2] = points[..., 2] * rois[:, 2, None]
    return projected


def rotate_world(world: np.ndarray, rois: np.ndarray) -> np.ndarray:
    """Rotate world landmarks' x/y by each ROI's rotation (z unchanged)."""
    cos, sin = np.cos(rois[:, 4])[:, None], np.sin(rois[:, 4])[:, None]
    out = world.copy()
    out[..., 0] = cos * world[..., 0] - sin * world[..., 1]
    out[..., 1] = sin * world[..., 0] + cos * world[..., 1]
    return out


def masks_to_image(
    logits: np.ndarray, rois: np.ndarray, width: int, height: int
) -> list[np.ndarray]:
    """Segmentation logits (n, 256, 256) -> one float32 (height, width) mask in [0, 1] per pose.

    Sigmoid, then the inverse crop transform (bilinear, zero outside the ROI).
    """
    matrices = crop_matrices(rois, width, height, INPUT_SIZE)
    probabilities = sigmoid(logits.astype(np.float32))
    return [
        cv2.warpAffine(
            mask,
            matrix,
            (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        for mask, matrix in zip(probabilities, matrices, strict=True)
    ]
