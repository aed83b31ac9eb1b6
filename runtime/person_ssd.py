"""MediaPipe's SSD person detector (`person_detector="ssd"`): the box detector of MediaPipe's
Objectron graph (SSD-MobileNetV2, Open Images v4), decoded as that graph decodes it.

MediaPipe's `object_detection_oid_v4_cpu.pbtxt`: a 300x300 input in [-1, 1]; SsdAnchorsCalculator
with 6 layers, scales 0.2 to 0.95, strides 16 to 512, aspect ratios 1, 2, 0.5, 3, 0.3333 plus
an interpolated-scale anchor per location (the lowest layer: the three fixed boxes (1, 0.1),
(2, s0), (0.5, s0)), 1917 anchors; TfLiteTensorsToDetectionsCalculator with sigmoid scores,
box scales 10, 10, 5, 5 and exponential sizes. Where the graph labels an anchor with its best
class, a person detector reads the Person class's own score (class 4), so a person whose best
class is a garment is still found. The image is letterboxed (its aspect kept, the graph
stretches it: measured, README Many people) and boxes go through non-maximum suppression.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from blazepose_onnx.activations import sigmoid
from blazepose_onnx.detector import letterboxed
from blazepose_onnx.models import builtin_session_model

INPUT_SIZE = 300
STRIDES = (16, 32, 64, 128, 256, 512)
MIN_SCALE, MAX_SCALE = 0.2, 0.95
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 0.3333)
LOWEST_LAYER = ((1.0, 0.1), (2.0, None), (0.5, None))  # (aspect ratio, scale; None: the layer's)
BOX_SCALES = np.array([10.0, 10.0, 5.0, 5.0], np.float32)  # y, x, h, w
PERSON_CLASS = 4  # the label map's "Person"
MIN_SCORE = 0.2
NMS_IOU = 0.45


def _layer_scale(layer: int) -> float:
    return MIN_SCALE + (MAX_SCALE - MIN_SCALE) * layer / (len(STRIDES) - 1)


def _layer_shapes(layer: int) -> list[tuple[float, float]]:
    """(width, height) of the anchors at each location of a layer, in MediaPipe's order."""
    scale = _layer_scale(layer)
    if layer == 0:
        ratios_scales = [(ratio, fixed or scale) for ratio, fixed in LOWEST_LAYER]
    else:
        following = _layer_scale(layer + 1) if layer + 1 < len(STRIDES) else 1.0
        ratios_scales = [(ratio, scale) for ratio in ASPECT_RATIOS]
        ratios_scales.append((1.0, math.sqrt(scale * following)))  # interpolated scale
    return [(s * math.sqrt(r), s / math.sqrt(r)) for r, s in ratios_scales]


@lru_cache(maxsize=1)
def ssd_anchor_boxes() -> np.ndarray:
    """The 1917 anchors as a read-only (1917, 4) float32 array of centre x, centre y, width,
    height, normalised (MediaPipe's SsdAnchorsCalculator for these options)."""
    layers = []
    for layer, stride in enumerate(STRIDES):
        cells = math.ceil(INPUT_SIZE / stride)
        grid = (np.arange(cells) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        shapes = np.array(_layer_shapes(layer))  # (k, 2)
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)  # (cells^2, 2)
        anchors = np.concatenate(
            [
                np.repeat(centres, len(shapes), axis=0),
                np.tile(shapes, (len(centres), 1)),
            ],
            axis=1,
        )
        layers.append(anchors)
    anchors = np.concatenate(layers).astype(np.float32)
    anchors.flags.writeable = False
    return anchors


def decode_person_boxes(
    encodings: np.ndarray, logits: np.ndarray, min_score: float = MIN_SCORE
) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes (n, 4) x1, y1, x2, y2 normalised to the model input and their sigmoid
    scores (n,), for one image's (1917, 4) box encodings and (1917, classes) logits, every
    anchor scoring at least `min_score` (before non-maximum suppression)."""
    scores = sigmoid(logits[:, PERSON_CLASS].astype(np.float32))
    keep = np.flatnonzero(scores >= min_score)
    anchors = ssd_anchor_boxes()[keep]
    raw = encodings[keep].astype(np.float32) / BOX_SCALES
    centre = raw[:, [1, 0]] * anchors[:, 2:] + anchors[:, :2]
    size = np.exp(raw[:, [3, 2]]) * anchors[:, 2:]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    return boxes, scores[keep]


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU) -> np.ndarray:
    """Indices of the boxes (n, 4) x1, y1, x2, y2 kept by greedy non-maximum suppression,
    best score first."""
    if not len(boxes):
        return np.zeros(0, np.int64)
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    kept = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), 0.0, iou)
    kept = np.asarray(kept, np.int64).reshape(-1)
    return kept[np.argsort(-scores[kept], kind="stable")]


class SsdPersonDetector:
    """Person boxes from MediaPipe's SSD on a session built by `session_factory` from the
    converted model's session bytes (uint8 NHWC input). `confident_score`: boxes from it up
    start tracks (`person_tracking`; people in the composed clips score 0.28-0.6)."""

    confident_score = 0.28

    def __init__(
        self,
        session: Any,
        min_score: float = MIN_SCORE,
        iou: float = NMS_IOU,
    ) -> None:
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.min_score = min_score
        self.iou = iou

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel boxes (n, 4) x1, y1, x2, y2 and scores (n,) of the people in an RGB image."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """`__call__` for several images, with one model run."""
        inputs = [letterboxed(image, INPUT_SIZE) for image in images]
        tensor = np.concatenate([tensor for tensor, _ in inputs])
        encodings, logits = self.session.run(["boxes", "scores"], {self.input_name: tensor})
        found = []
        for k, (image, (_, letterbox)) in enumerate(zip(images, inputs, strict=True)):
            boxes, scores = decode_person_boxes(encodings[k], logits[k], self.min_score)
            kept = non_max_suppression(boxes, scores, self.iou)
            found.append((letterbox.to_image_pixels(boxes[kept], image.shape), scores[kept]))
        return found


def ssd_person_detector(session_factory: Callable[[bytes], Any]) -> SsdPersonDetector:
    """The built-in `ssd` person detector: its converted model (fetched and converted on first
    use) on a session from `session_factory`."""
    return SsdPersonDetector(session_factory(builtin_session_model("ssd")))
