"""Stream processing (VIDEO and LIVE_STREAM): tracking, detector on demand, smoothing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline import FramePoses, PosePipeline
from blazepose_onnx.pose_similarity import oks_matrix
from blazepose_onnx.smoothing import PoseSmoother, object_scale
from blazepose_onnx.tracking import RoiTracker

IDENTITY_OKS = 0.3  # a track's pose below this OKS with its last one is someone else


class PoseStream:
    """State of one video stream: tracked ROIs and per-track smoothers.

    `detector_runs` and `frames` count what happened, for users and tests.
    """

    def __init__(self, pipeline: PosePipeline, options: PoseLandmarkerOptions) -> None:
        self.pipeline = pipeline
        self.options = options
        self.tracker = RoiTracker(options.num_poses, options.min_tracking_confidence)
        self.smoothers: dict[int, PoseSmoother] = {}
        self.smooth = options.smooth_landmarks and (
            options.num_poses == 1 or options.smooth_multiple_poses
        )
        self.frames = 0
        self.detector_runs = 0
        self.pose_ids: dict[int, int] = {}  # tracker id -> public pose id
        self.last_landmarks: dict[int, np.ndarray] = {}  # tracker id -> its last pose
        self.next_pose_id = 0

    def process(
        self, image: np.ndarray, timestamp_ms: int, person_boxes: np.ndarray | None = None
    ) -> FramePoses:
        """Poses of the next frame of this stream (the image is RGB uint8, upright); checked
        pixel `person_boxes` seed or refresh tracks in place of the detector."""
        needs = self.needs_detection(image)
        if person_boxes is not None:
            detected = self.pipeline.box_rois_batch([image], [person_boxes])[0]
        else:
            detected = self.pipeline.detect_rois(image) if needs else None
        rois, ids = self.frame_rois(image, detected, distinct=person_boxes is not None)
        return self.finish(image, self.pipeline.landmarks(image, rois), ids, timestamp_ms)

    def needs_detection(self, image: np.ndarray) -> bool:
        """Whether this frame needs the detector (fewer than num_poses tracked poses)."""
        height, width = image.shape[:2]
        if self.tracker.frame_size not in (None, (width, height)):
            self.smoothers.clear()  # pixel-space filter state does not carry over a resize
        return self.tracker.needs_detection()

    def frame_rois(
        self, image: np.ndarray, detected: np.ndarray | None, distinct: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """This frame's ROIs and track ids (tracked ones merged with any detections;
        `distinct` ones, from person boxes, never replace each other)."""
        if detected is not None:
            self.detector_runs += 1
        height, width = image.shape[:2]
        return self.tracker.frame_rois(
            width, height, np.zeros((0, 5)) if detected is None else detected, distinct
        )

    def finish(
        self, image: np.ndarray, poses: FramePoses, ids: np.ndarray, timestamp_ms: int
    ) -> FramePoses:
        """Update tracking from this frame's poses and smooth them."""
        height, width = image.shape[:2]
        track_ids = ids[poses.indices]
        self.tracker.update(poses.aux, track_ids, width, height)
        self.frames += 1
        if self.smooth:
            poses = self._smoothed(poses, track_ids, width, height, timestamp_ms)
        return replace(poses, ids=self._public_ids(track_ids, poses.landmarks, width, height))

    def _public_ids(
        self, track_ids: np.ndarray, landmarks: np.ndarray, width: int, height: int
    ) -> np.ndarray:
        """Pose ids: a track's id while its pose stays the same person; a new one when the
        tracked ROI jumped to someone else (OKS with the track's last pose below 0.3), which
        MediaPipe's ROI tracking does between people who overlap."""
        out = []
        for k, track in enumerate(track_ids.tolist()):
            previous = self.last_landmarks.get(track)
            jumped = previous is not None and (
                oks_matrix(np.stack([previous, landmarks[k]]), width, height)[0, 1] < IDENTITY_OKS
            )
            if track not in self.pose_ids or jumped:
                self.pose_ids[track] = self.next_pose_id
                self.next_pose_id += 1
            out.append(self.pose_ids[track])
        tracks = track_ids.tolist()
        self.last_landmarks = {t: landmarks[k] for k, t in enumerate(tracks)}
        self.pose_ids = {t: self.pose_ids[t] for t in tracks}
        return np.array(out, np.int64)

    def _smoothed(
        self, poses: FramePoses, track_ids: np.ndarray, width: int, height: int, timestamp_ms: int
    ) -> FramePoses:
        self.smoothers = {i: self.smoothers.get(i) or PoseSmoother() for i in track_ids.tolist()}
        landmarks, world = poses.landmarks.copy(), poses.world.copy()
        for k, track in enumerate(track_ids.tolist()):  # one vectorised filter per pose
            landmarks[k], world[k] = self.smoothers[track].apply(
                poses.landmarks[k],
                poses.world[k],
                object_scale(self.tracker.rois[k], width, height),
                width,
                height,
                timestamp_ms * 1000,
            )
        return replace(poses, landmarks=landmarks, world=world)
