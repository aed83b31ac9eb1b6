"""uint8 images to model input tensors."""

from __future__ import annotations

import numpy as np


def to_nchw(images: np.ndarray, low: float, high: float) -> np.ndarray:
    """(n, H, W, 3) uint8 -> (n, 3, H, W) float32 scaled to [low, high], in one pass."""
    n, height, width, channels = images.shape
    out = np.empty((n, channels, height, width), np.float32)
    np.multiply(
        images.transpose(0, 3, 1, 2), np.float32((high - low) / 255.0), out=out, dtype=np.float32
    )
    if low:
        out += np.float32(low)
    return out
