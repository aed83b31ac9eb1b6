"""MediaPipe's SSD person detector (`person_detector="ssd"`): the box detector of MediaPipe's
Objectron graph (SSD-MobileNetV2, Open Images v4), decoded as that graph decodes it.

MediaPipe's `object_detection_oid_v4_cpu.pbtxt`: a 300x300 input in [-1, 1];
SsdAnchorsCalculator with 6 layers, scales 0.2 to 0.95, strides 16 to 512, aspect ratios 1, 2,
0.5, 3, 0.3333 plus an interpolated-scale anchor per location (the lowest layer: the three fixed
boxes (1, 0.1), (2, s0), (0.5, s0)), 1917 anchors; TfLiteTensorsToDetectionsCalculator with
sigmoid scores, box scales 10, 10, 5, 5 and exponential sizes. Where the graph labels an anchor
with its best class, a person detector reads the Person class's own score (class 4), so a person
whose best class is a garment is still found. Two choices differ from that graph, both measured
(docs/performance.md#the-built-in-person-detector): the image is letterboxed (its aspect kept;
the graph stretches it), and overlapping boxes are merged by the weighted non-maximum
suppression of MediaPipe's pose detector (the graph keeps the best box alone, which flips
between two near-equal anchors when the input changes by a rounding: bus.jpg's fourth person
under OpenCV 4.11 and 5.1).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from blazepose_onnx.pipeline.activations import sigmoid
from blazepose_onnx.pipeline.detector import Detections, letterboxed, weighted_nms

INPUT_SIZE = 300
STRIDES = (16, 32, 64, 128, 256, 512)
MIN_SCALE, MAX_SCALE = 0.2, 0.95
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 0.3333)
LOWEST_LAYER = ((1.0, 0.1), (2.0, None), (0.5, None))  # (aspect ratio, scale; None: the layer's)
BOX_SCALES = np.array([10.0, 10.0, 5.0, 5.0], np.float32)  # y, x, h, w
PERSON_CLASS = 4  # the label map's "Person"
MIN_SCORE = 0.2
NMS_IOU = 0.4  # the graph's min_suppression_threshold
MERGE_IOU = 0.6  # boxes overlapping the best by more are averaged into it


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


class SsdPersonDetector:
    """Person boxes from MediaPipe's SSD, on a session of its converted model with the runtime's
    uint8 NHWC input (`graph_edits`): the letterboxed image, the Person boxes decoded, and
    overlapping boxes merged by MediaPipe's weighted non-maximum suppression."""

    # boxes from this score up start tracks (`person_tracking`; the people of the composed
    # clips score 0.28-0.6, the other boxes there 0.2-0.3)
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
        tensor, letterbox = letterboxed(image, INPUT_SIZE)
        encodings, logits = self.session.run(["boxes", "scores"], {self.input_name: tensor})
        boxes, scores = decode_person_boxes(encodings[0], logits[0], self.min_score)
        no_keypoints = np.zeros((len(boxes), 0, 2), np.float32)
        people = weighted_nms(Detections(boxes, no_keypoints, scores), self.iou, MERGE_IOU)
        return letterbox.to_image_pixels(people.boxes, image.shape), people.scores
