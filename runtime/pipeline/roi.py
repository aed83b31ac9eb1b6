"""Regions of interest: rotated rectangles, their crop matrices, and detection-to-ROI rules.

A ROI array has shape (n, 5): centre x, centre y, width, height (normalised to the image) and
rotation (radians, clockwise in image coordinates), as MediaPipe's NormalizedRect.
"""

from __future__ import annotations

import cv2
import numpy as np

ROI_SCALE = 1.25
TARGET_ANGLE = np.pi / 2  # the keypoint 0 -> 1 vector points up in an upright ROI


def normalize_radians(angle: np.ndarray) -> np.ndarray:
    """Wrap angles into [-pi, pi)."""
    return angle - 2 * np.pi * np.floor((angle + np.pi) / (2 * np.pi))


def rois_from_keypoints(
    centre: np.ndarray, scale_point: np.ndarray, width: int, height: int, scale: float = ROI_SCALE
) -> np.ndarray:
    """ROIs from two alignment points each, normalised (n, 2) arrays (MediaPipe's rules).

    Centre at `centre`; side 2 * |scale_point - centre| in pixels (square in pixels) times
    `scale`; rotation so that centre -> scale_point points up.
    """
    size = np.array([width, height], np.float64)
    c = centre.astype(np.float64) * size
    s = scale_point.astype(np.float64) * size
    delta = s - c
    side = 2.0 * np.hypot(delta[:, 0], delta[:, 1]) * scale
    rotation = normalize_radians(TARGET_ANGLE - np.arctan2(-delta[:, 1], delta[:, 0]))
    return np.stack([centre[:, 0], centre[:, 1], side / width, side / height, rotation], axis=1)


def crop_matrices(rois: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """(n, 2, 3) affine matrices taking image pixels to `size` x `size` crop pixels.

    The ROI's corners map to the crop's corners (OpenCV's rotated-rect convention, as in
    MediaPipe's ImageToTensor on CPU).
    """
    cx, cy = rois[:, 0] * width, rois[:, 1] * height
    w, h = rois[:, 2] * width, rois[:, 3] * height
    cos, sin = np.cos(rois[:, 4]), np.sin(rois[:, 4])
    matrices = np.empty((len(rois), 2, 3), np.float64)
    matrices[:, 0, 0] = size * cos / w
    matrices[:, 0, 1] = size * sin / w
    matrices[:, 0, 2] = size / 2 - size * (cx * cos + cy * sin) / w
    matrices[:, 1, 0] = -size * sin / h
    matrices[:, 1, 1] = size * cos / h
    matrices[:, 1, 2] = size / 2 - size * (-cx * sin + cy * cos) / h
    return matrices


def warp_crops(
    image: np.ndarray, rois: np.ndarray, size: int, border: int = cv2.BORDER_CONSTANT
) -> np.ndarray:
    """(n, size, size, 3) uint8: each ROI warped out of an RGB uint8 image, bilinear, with a
    zero (`cv2.BORDER_CONSTANT`) or replicated (`cv2.BORDER_REPLICATE`) border."""
    height, width = image.shape[:2]
    crops = np.empty((len(rois), size, size, 3), np.uint8)
    for i, matrix in enumerate(crop_matrices(rois, width, height, size)):  # one call per crop
        cv2.warpAffine(
            image,
            matrix,
            (size, size),
            dst=crops[i],
            flags=cv2.INTER_LINEAR,
            borderMode=border,
            borderValue=0,
        )
    return crops


def project_to_image(points: np.ndarray, rois: np.ndarray) -> np.ndarray:
    """Map crop-normalised (n, k, >=2) x/y into image-normalised coordinates of each ROI.

    MediaPipe's LandmarkProjection: rotate about the crop centre, scale by the ROI size.
    Columns past x and y are returned unchanged.
    """
    out = points.copy()
    dx, dy = points[..., 0] - 0.5, points[..., 1] - 0.5
    cos, sin = np.cos(rois[:, 4])[:, None], np.sin(rois[:, 4])[:, None]
    out[..., 0] = (cos * dx - sin * dy) * rois[:, 2, None] + rois[:, 0, None]
    out[..., 1] = (sin * dx + cos * dy) * rois[:, 3, None] + rois[:, 1, None]
    return out


def axis_aligned_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of the ROIs' axis-aligned boxes (rotation ignored)."""
    a_min, a_max = a[:, None, :2] - a[:, None, 2:4] / 2, a[:, None, :2] + a[:, None, 2:4] / 2
    b_min, b_max = b[None, :, :2] - b[None, :, 2:4] / 2, b[None, :, :2] + b[None, :, 2:4] / 2
    overlap = np.clip(np.minimum(a_max, b_max) - np.maximum(a_min, b_min), 0, None)
    intersection = overlap[..., 0] * overlap[..., 1]
    union = (a[:, None, 2] * a[:, None, 3]) + (b[None, :, 2] * b[None, :, 3]) - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)
