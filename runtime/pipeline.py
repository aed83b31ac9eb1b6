"""One frame through the two models: detector ROIs, then batched landmarks for any ROIs."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from runtime.detector import (
    decode_detections,
    detection_rois,
    detector_input,
    remove_letterbox,
    weighted_nms,
)
from runtime.landmarker import (
    AUX_POINTS,
    NUM_LANDMARKS,
    crop_inputs,
    decode_outputs,
    masks_to_image,
    project_landmarks,
    refine_with_heatmap,
    rotate_world,
)
from runtime.models import input_spec, resolve_model
from runtime.options import PoseLandmarkerOptions
from runtime.providers import create_session

LANDMARKER_OUTPUTS = ["landmarks", "pose_flag", "heatmap", "world_landmarks"]


@dataclass(frozen=True)
class FramePoses:
    """Poses of one frame that passed the presence threshold, in that frame's coordinates.

    landmarks: (n, 33, 5) image-normalised x, y, z, visibility, presence;
    world: (n, 33, 5) metres plus the same visibility/presence; aux: (n, 2, 5) tracking points;
    rois: (n, 5) the ROIs they came from; indices: (n,) their positions in the ROIs passed in;
    masks: n float32 HxW masks or None.
    """

    landmarks: np.ndarray
    world: np.ndarray
    aux: np.ndarray
    rois: np.ndarray
    indices: np.ndarray
    masks: list[np.ndarray] | None

    @classmethod
    def empty(cls, with_masks: bool) -> FramePoses:
        return cls(
            np.zeros((0, 33, 5), np.float32),
            np.zeros((0, 33, 5), np.float32),
            np.zeros((0, 2, 5), np.float32),
            np.zeros((0, 5)),
            np.zeros(0, np.int64),
            [] if with_masks else None,
        )


class PosePipeline:
    """Owns the two InferenceSessions and runs the pure pipeline steps around them."""

    def __init__(self, options: PoseLandmarkerOptions) -> None:
        paths = resolve_model(options.model)
        self.options = options
        self.detector = create_session(
            paths["detector"], options.providers, options.num_threads, options.provider_fallback
        )
        self.landmarker = create_session(
            paths["landmarker"], options.providers, options.num_threads, options.provider_fallback
        )
        self.detector_spec = input_spec(self.detector, "detector")
        self.landmarker_spec = input_spec(self.landmarker, "landmarker")
        self.landmarker_outputs = LANDMARKER_OUTPUTS + (
            ["segmentation"] if options.output_segmentation_masks else []
        )
        self.model_seconds = {"detector": 0.0, "landmarker": 0.0}  # time spent in each model

    def detect_rois(self, image: np.ndarray) -> np.ndarray:
        """Up to num_poses landmarker ROIs (n, 5) from the pose detector, best first."""
        spec = self.detector_spec
        tensor, letterbox = detector_input(image, spec.low, spec.high)
        start = time.perf_counter()
        boxes, scores = self.detector.run(["boxes", "scores"], {spec.name: tensor})
        self.model_seconds["detector"] += time.perf_counter() - start
        detections = decode_detections(
            boxes[0], scores[0], self.options.min_pose_detection_confidence
        )
        detections = remove_letterbox(weighted_nms(detections), letterbox)
        detections = detections.take(slice(0, self.options.num_poses))
        height, width = image.shape[:2]
        return detection_rois(detections, width, height)

    def landmarks(self, image: np.ndarray, rois: np.ndarray) -> FramePoses:
        """Landmarks for all ROIs in one batched landmarker call; absent poses dropped."""
        with_masks = self.options.output_segmentation_masks
        if len(rois) == 0:
            return FramePoses.empty(with_masks)
        spec = self.landmarker_spec
        crops = crop_inputs(image, rois, spec.low, spec.high)
        start = time.perf_counter()
        values = self.landmarker.run(self.landmarker_outputs, {spec.name: crops})
        self.model_seconds["landmarker"] += time.perf_counter() - start
        outputs = dict(zip(self.landmarker_outputs, values, strict=True))
        raw = decode_outputs(
            outputs["landmarks"],
            outputs["pose_flag"],
            outputs["world_landmarks"],
            outputs.get("segmentation"),
        )
        present = raw.pose_flag > self.options.min_pose_presence_confidence
        if not present.any():
            return FramePoses.empty(with_masks)
        rois = rois[present]
        points = refine_with_heatmap(raw.points[present], outputs["heatmap"][present])
        projected = project_landmarks(points, rois)
        landmarks = projected[:, :NUM_LANDMARKS]
        world = np.concatenate(
            [rotate_world(raw.world[present], rois)[:, :NUM_LANDMARKS], landmarks[..., 3:]], axis=2
        )
        masks = None
        if with_masks:
            height, width = image.shape[:2]
            masks = masks_to_image(raw.segmentation[present], rois, width, height)
        return FramePoses(
            landmarks, world, projected[:, AUX_POINTS], rois, np.flatnonzero(present), masks
        )
