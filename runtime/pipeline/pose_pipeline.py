"""One frame through the two models: detector ROIs, then batched landmarks for any ROIs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blazepose_onnx.backend.model_session import ModelSession
from blazepose_onnx.backend.model_stats import ModelStats
from blazepose_onnx.backend.models import InputSpec, input_spec, resolve_session_models
from blazepose_onnx.backend.placement import Placement
from blazepose_onnx.backend.providers import create_session, model_form
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.box_orientation import box_crop_rois, turned_roi
from blazepose_onnx.pipeline.builtin_detectors import orients_boxes
from blazepose_onnx.pipeline.detector import (
    NMS_IOU_THRESHOLD,
    decode_detections,
    detection_rois,
    detector_input,
    remove_letterbox,
    weighted_nms,
)
from blazepose_onnx.pipeline.landmarker import (
    AUX_POINTS,
    NUM_LANDMARKS,
    crop_inputs,
    decode_outputs,
    masks_to_image,
    project_landmarks,
    refine_with_heatmap,
    rotate_world,
)
from blazepose_onnx.pipeline.person_boxes import box_rois
from blazepose_onnx.pipeline.person_detector import (
    checked_detections,
    checked_person_boxes,
    person_detector_stage,
)
from blazepose_onnx.pipeline.pose_similarity import duplicates
from blazepose_onnx.pipeline.roi import warp_crops
from blazepose_onnx.stream.tracking import next_frame_rois

LANDMARKER_OUTPUTS = ["landmarks", "pose_flag", "heatmap", "world_landmarks"]


@dataclass(frozen=True)
class FramePoses:
    """Poses of one frame that passed the presence threshold, in that frame's coordinates.

    landmarks: (n, 33, 5) image-normalised x, y, z, visibility, presence;
    world: (n, 33, 5) metres plus the same visibility/presence; aux: (n, 2, 5) tracking points;
    rois: (n, 5) the ROIs they came from; indices: (n,) their positions in the ROIs passed in;
    masks: n float32 HxW masks or None; ids: (n,) track ids in stream modes (None: 0..n-1).
    """

    landmarks: np.ndarray
    world: np.ndarray
    aux: np.ndarray
    rois: np.ndarray
    indices: np.ndarray
    masks: list[np.ndarray] | None
    ids: np.ndarray | None = None

    def take(self, keep: np.ndarray) -> FramePoses:
        """The poses where the (n,) bool `keep` is True."""
        rows = np.flatnonzero(keep)
        return FramePoses(
            self.landmarks[rows],
            self.world[rows],
            self.aux[rows],
            self.rois[rows],
            self.indices[rows],
            None if self.masks is None else [self.masks[k] for k in rows],
            None if self.ids is None else self.ids[rows],
        )

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

    def __init__(
        self, options: PoseLandmarkerOptions, nms_iou_threshold: float = NMS_IOU_THRESHOLD
    ) -> None:
        self.options = options
        self.nms_iou_threshold = nms_iou_threshold  # Tasks: 0.5; MediaPipe's legacy graph: 0.3
        self.landmarker_outputs = LANDMARKER_OUTPUTS + (
            ["segmentation"] if options.output_segmentation_masks else []
        )
        # A person detector, when given, replaces the pose detector (a built-in may still run it
        # in each box, for the body's rotation); no masks: the landmarker's segmentation head is
        # pruned from the graph, never run.
        self.orients_boxes = orients_boxes(options.person_detector)
        needs_detector = options.person_detector is None or self.orients_boxes
        roles: dict[str, list[str] | None] = {"detector": None} if needs_detector else {}
        roles["landmarker"] = self.landmarker_outputs
        form = model_form(options.providers)
        models = resolve_session_models(
            options.model, options.model_precision, options.trust_unverified, roles, form
        )
        sessions = {role: self._session(role, *models[role]) for role in models}
        self.detector = sessions.get("detector")
        self.landmarker = sessions["landmarker"]
        self.person_detector = person_detector_stage(
            options.person_detector,
            lambda data: create_session(
                data, options.providers, options.num_threads, options.provider_fallback,
                label=str(options.person_detector), name="person_detector",
            ),
            options.model,
            form,
        )  # fmt: skip
        self.detector_spec = None if self.detector is None else input_spec(self.detector)
        self.landmarker_spec = input_spec(self.landmarker)
        self.stats = ModelStats()

    def _session(self, role: str, path: Path, model: bytes) -> ModelSession:
        options = self.options
        return create_session(
            model,
            options.providers,
            options.num_threads,
            options.provider_fallback,
            label=str(path),
            precision=options.precision,
            name=role,
        )

    @property
    def placement(self) -> dict[str, Placement]:
        """Where ONNX Runtime placed each model's nodes, by model ("detector", "landmarker",
        "person_detector" for a built-in or an ONNX file)."""
        sessions = {"detector": self.detector, "landmarker": self.landmarker}
        session = getattr(self.person_detector, "session", None)
        if isinstance(session, ModelSession):
            sessions["person_detector"] = session
        return {role: s.placement for role, s in sessions.items() if s is not None}

    def detect_rois(self, image: np.ndarray) -> np.ndarray:
        """Up to num_poses landmarker ROIs (n, 5) from the pose detector, best first."""
        return self.detect_rois_batch([image])[0]

    def detect_rois_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """Detector ROIs for several images with ONE detector call (or, with a
        `person_detector`, ROIs refined from its person boxes)."""
        if not images:
            return []
        if self.person_detector is not None:
            with self.stats.timed("detector", len(images)):
                boxes = [
                    checked_person_boxes(
                        self.person_detector, image, self.options.resolved_num_poses
                    )
                    for image in images
                ]
            return self.box_rois_batch(images, boxes)
        detector, spec = self._pose_detector()
        inputs = [detector_input(image) for image in images]
        tensor = np.concatenate([t for t, _ in inputs]) if len(inputs) > 1 else inputs[0][0]
        with self.stats.timed("detector", len(images)):
            raw_boxes, raw_scores = detector.run(["boxes", "scores"], {spec.name: tensor})
        rois = []
        for k, (image, (_, letterbox)) in enumerate(zip(images, inputs, strict=True)):
            detections = decode_detections(
                raw_boxes[k], raw_scores[k], self.options.min_pose_detection_confidence
            )
            detections = weighted_nms(detections, self.nms_iou_threshold)
            detections = remove_letterbox(detections, letterbox)
            detections = detections.take(slice(0, self.options.resolved_num_poses))
            height, width = image.shape[:2]
            rois.append(detection_rois(detections, width, height))
        return rois

    def person_detections(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The person detector's checked pixel boxes (n, 4) and scores (n,), best first, all of
        them (a tracker also uses the low-score ones). Timed as the "detector" stage."""
        if self.person_detector is None:
            raise RuntimeError("person_detections: these options have no person detector")
        with self.stats.timed("detector", 1):
            return checked_detections(self.person_detector, image)

    def _pose_detector(self) -> tuple[ModelSession, InputSpec]:
        """The pose detector's session and input (not loaded where a person detector that
        does not orient its boxes replaces it)."""
        if self.detector is None or self.detector_spec is None:
            raise RuntimeError("the pose detector is not loaded: a person detector replaces it")
        return self.detector, self.detector_spec

    def box_rois_batch(self, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[np.ndarray]:
        """Landmarker ROIs from checked pixel person boxes: a ROI around each box (turned with
        the body where `orients_boxes`), one landmarker pass that keeps every box (a box is a
        person), then the ROI the auxiliary keypoints give (as tracking does)."""
        rois = [
            box_rois(b, image.shape[1], image.shape[0])
            for image, b in zip(images, boxes, strict=True)
        ]
        if self.orients_boxes:
            rois = self.turned_box_rois(images, boxes, rois)
        poses = self.landmarks_batch(images, rois, with_masks=False, min_presence=0.0)
        return [
            next_frame_rois(p.aux, image.shape[1], image.shape[0])
            if len(p.aux)
            else np.zeros((0, 5))
            for image, p in zip(images, poses, strict=True)
        ]

    def turned_box_rois(
        self, images: list[np.ndarray], boxes: list[np.ndarray], rois: list[np.ndarray]
    ) -> list[np.ndarray]:
        """`rois` with the ROI of each box whose body the pose detector finds turned in the
        box's crop (`box_orientation`), with ONE detector call for every box."""
        crop_rois = [
            box_crop_rois(b, image.shape[1], image.shape[0])
            for image, b in zip(images, boxes, strict=True)
        ]
        count = sum(len(b) for b in boxes)
        if count == 0:
            return rois
        detector, spec = self._pose_detector()
        crops = np.concatenate(
            [warp_crops(image, c, spec.size) for image, c in zip(images, crop_rois, strict=True)]
        )
        with self.stats.timed("detector", count):
            raw_boxes, raw_scores = detector.run(["boxes", "scores"], {spec.name: crops})
        turned, at = [], 0
        for image, b, r, c in zip(images, boxes, rois, crop_rois, strict=True):
            r = r.copy()
            for k in range(len(b)):  # one decode per box, vectorised over its detections
                roi = turned_roi(
                    raw_boxes[at], raw_scores[at], c[k], b[k], image.shape[1], image.shape[0]
                )
                if roi is not None:
                    r[k] = roi
                at += 1
            turned.append(r)
        return turned

    def landmarks(self, image: np.ndarray, rois: np.ndarray) -> FramePoses:
        """Landmarks for all ROIs in one batched landmarker call; absent poses dropped."""
        return self.landmarks_batch([image], [rois])[0]

    def landmarks_batch(
        self,
        images: list[np.ndarray],
        rois: list[np.ndarray],
        with_masks: bool | None = None,
        min_presence: float | None = None,
    ) -> list[FramePoses]:
        """Landmarks for every ROI of every image with ONE landmarker call (vectorised decode);
        poses that fail the presence test (`min_presence`, by default the options'), or repeat
        an earlier pose of the same image (`suppress_duplicate_poses`), are dropped."""
        if with_masks is None:
            with_masks = self.options.output_segmentation_masks
        counts = [len(r) for r in rois]
        if sum(counts) == 0:
            return [FramePoses.empty(with_masks) for _ in images]
        spec = self.landmarker_spec
        crops = np.concatenate(
            [crop_inputs(image, r) for image, r in zip(images, rois, strict=True) if len(r)]
        )
        with self.stats.timed("landmarker", len(crops)):
            values = self.landmarker.run(self.landmarker_outputs, {spec.name: crops})
        outputs = dict(zip(self.landmarker_outputs, values, strict=True))
        raw = decode_outputs(
            outputs["landmarks"],
            outputs["pose_flag"],
            outputs["world_landmarks"],
            outputs.get("segmentation"),
        )
        all_rois = np.concatenate(rois)
        points = refine_with_heatmap(raw.points, outputs["heatmap"])
        projected = project_landmarks(points, all_rois)
        world = rotate_world(raw.world, all_rois)[:, :NUM_LANDMARKS]
        if min_presence is None:
            min_presence = self.options.min_pose_presence_confidence
        present = raw.pose_flag > min_presence
        results, start_index = [], 0
        for image, count in zip(images, counts, strict=True):
            span = slice(start_index, start_index + count)
            start_index += count
            keep = np.flatnonzero(present[span])
            if self.options.suppress_duplicate_poses and keep.size > 1:
                height, width = image.shape[:2]
                repeated = duplicates(projected[keep + span.start, :NUM_LANDMARKS], width, height)
                keep = keep[~repeated]
            if keep.size == 0:
                results.append(FramePoses.empty(with_masks))
                continue
            rows = keep + span.start
            landmarks = projected[rows, :NUM_LANDMARKS]
            masks = None
            if with_masks and raw.segmentation is not None:
                height, width = image.shape[:2]
                masks = masks_to_image(raw.segmentation[rows], all_rois[rows], width, height)
            results.append(
                FramePoses(
                    landmarks,
                    np.concatenate([world[rows], landmarks[..., 3:]], axis=2),
                    projected[rows][:, AUX_POINTS],
                    all_rois[rows],
                    keep,
                    masks,
                )
            )
        return results
