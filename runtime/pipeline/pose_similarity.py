"""Poses that describe the same person: an object-keypoint-similarity (OKS) test on landmarks.

For two poses, OKS = mean over the 33 landmarks of exp(-d^2 / (2 (k s)^2)), with d the distance
in pixels, s the square root of the first pose's landmark box area and k = 0.1. The same person
found twice scores near 1, two people side by side near 0; poses at OKS >= 0.5 are duplicates,
and the later one (lower detection score, or a newer track) is dropped.
"""

from __future__ import annotations

import numpy as np

KAPPA = 0.1
DUPLICATE_OKS = 0.5


def oks_matrix(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(n, n) OKS of (n, 33, >=2) image-normalised landmarks; row i uses pose i's scale."""
    pixels = landmarks[..., :2].astype(np.float64) * (width, height)
    extent = pixels.max(axis=1) - pixels.min(axis=1)
    area = np.maximum(extent[:, 0] * extent[:, 1], 1.0)
    squared = ((pixels[:, None] - pixels[None]) ** 2).sum(axis=-1)  # (n, n, 33)
    return np.exp(-squared / (2 * KAPPA**2 * area[:, None, None])).mean(axis=-1)


def duplicates(
    landmarks: np.ndarray, width: int, height: int, threshold: float = DUPLICATE_OKS
) -> np.ndarray:
    """(n,) bool: poses that repeat an earlier pose (OKS >= threshold either way)."""
    n = len(landmarks)
    if n < 2:
        return np.zeros(n, bool)
    oks = oks_matrix(landmarks, width, height)
    similar = np.maximum(oks, oks.T) >= threshold
    dropped = np.zeros(n, bool)
    for j in range(1, n):  # at most num_poses poses: a tiny loop over poses, not landmarks
        dropped[j] = bool((similar[j, :j] & ~dropped[:j]).any())
    return dropped
