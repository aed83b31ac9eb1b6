"""SSD anchors of MediaPipe's pose detector (224x224 input, 2254 anchors)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
NUM_LAYERS = len(STRIDES)
ANCHOR_OFFSET = 0.5


@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """Anchor centres as a read-only (2254, 2) float32 array of (x, y), normalised.

    Layers with equal strides share one feature map; each map location gets two anchors per
    merged layer (aspect ratio 1 and the interpolated scale). MediaPipe's fixed anchor size
    makes every anchor 1x1, so the scales (0.1484375 to 0.75) do not enter the decoding.
    """
    centres = []
    layer = 0
    while layer < NUM_LAYERS:
        stride = STRIDES[layer]
        anchors_per_location = 0
        while layer < NUM_LAYERS and STRIDES[layer] == stride:
            anchors_per_location += 2
            layer += 1
        size = math.ceil(INPUT_SIZE / stride)
        grid = (np.arange(size, dtype=np.float32) + ANCHOR_OFFSET) / size
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        locations = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(locations, anchors_per_location, axis=0))
    anchors = np.concatenate(centres).astype(np.float32)
    anchors.flags.writeable = False
    return anchors
