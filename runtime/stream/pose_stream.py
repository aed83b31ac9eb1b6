"""The one stream step (VIDEO, LIVE_STREAM, multi-stream and the legacy `Pose`): tracking,
the detector on demand, smoothing and pose ids, with the rules of a `StreamPolicy`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.pose_pipeline import FramePoses, PosePipeline
from blazepose_onnx.pipeline.pose_similarity import oks_matrix
from blazepose_onnx.pipeline.roi import rois_from_keypoints
from blazepose_onnx.stream.person_tracking import HIGH_SCORE, PersonTracker
from blazepose_onnx.stream.smoothing import OneEuroFilter, PoseSmoother, aux_box_px, object_scale
from blazepose_onnx.stream.tracking import RoiTracker, next_frame_rois

IDENTITY_OKS = 0.3  # a track's pose below this OKS with its last one is someone else


@dataclass(frozen=True)
class StreamPolicy:
    """How a stream carries poses from frame to frame; the defaults are MediaPipe Tasks' rules
    (the legacy graph's: `solutions.legacy_tracking.legacy_policy`).

    track: carry ROIs to the next frame (False: the detector on every frame);
    rescale_on_resize: a new frame size rescales the tracked ROIs (False: drops the tracks);
    roi_filter: one-euro parameters for the auxiliary points the next ROI comes from (None: raw);
    scale_with_margin: the smoothing scale is the next ROI's size (False: the auxiliary points'
    box, without the ROI margin); frame_step_us: a fixed clock (None: the frames' timestamps);
    smooth_mask: blends a track's mask with its previous one (None: masks pass through).
    """

    smooth_landmarks: bool = True
    track: bool = True
    rescale_on_resize: bool = True
    roi_filter: tuple[float, float, float] | None = None
    scale_with_margin: bool = True
    frame_step_us: int | None = None
    smooth_mask: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


def tasks_policy(options: PoseLandmarkerOptions) -> StreamPolicy:
    """MediaPipe Tasks' rules for these options; with a person detector, whose tracker keeps
    each person's id, every person is smoothed (MediaPipe smooths one pose only, as its ROIs
    move between people)."""
    return StreamPolicy(
        smooth_landmarks=options.smooth_landmarks
        and (
            options.resolved_num_poses == 1
            or options.smooth_multiple_poses
            or options.person_detector is not None
        )
    )


@dataclass
class Track:
    """What a stream keeps of one tracked pose between frames."""

    roi_filter: OneEuroFilter | None
    pose_id: int = -1  # none yet
    smoother: PoseSmoother = field(default_factory=PoseSmoother)
    landmarks: np.ndarray | None = None  # its last pose
    mask: np.ndarray | None = None  # its last (smoothed) mask


def roi_filter(track: Track) -> OneEuroFilter:
    """The track's filter of its ROI's auxiliary points (made when the policy has one)."""
    if track.roi_filter is None:
        raise RuntimeError("a track made without a ROI filter, under a policy that filters")
    return track.roi_filter


class PoseStream:
    """State of one video stream: tracked ROIs and per-track filters.

    `process` runs one step; a multi-stream step calls its phases (`needs_detection`,
    `frame_rois`, `finish`) around batched model calls. `detector_runs` and `frames` count
    what happened, for users and tests.
    """

    def __init__(
        self,
        pipeline: PosePipeline,
        options: PoseLandmarkerOptions,
        policy: StreamPolicy | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.policy = policy or tasks_policy(options)
        self.tracker = RoiTracker(options.resolved_num_poses, options.min_tracking_confidence)
        # With a person detector, identities come from a multi-person tracker (its module);
        # without one, from MediaPipe's own rules (RoiTracker and `_pose_ids`).
        self.people = (
            None
            if pipeline.person_detector is None
            else PersonTracker(
                options.resolved_num_poses,
                options.person_detection_interval,
                getattr(pipeline.person_detector, "confident_score", HIGH_SCORE),
            )
        )
        self.tracks: dict[int, Track] = {}  # tracker id -> its state
        self.frames = 0
        self.detector_runs = 0
        self.next_pose_id = 0

    @property
    def person_tracker(self) -> PersonTracker:
        """The multi-person tracker (streams whose pipeline has a person detector)."""
        if self.people is None:
            raise RuntimeError("this stream has no person detector, hence no person tracker")
        return self.people

    def process(
        self,
        image: np.ndarray,
        timestamp_ms: int | None = None,
        person_boxes: np.ndarray | None = None,
    ) -> FramePoses:
        """Poses of the next frame of this stream (the image is RGB uint8, upright); checked
        pixel `person_boxes` seed or refresh tracks in place of the detector. `timestamp_ms`
        may be None only with a fixed clock."""
        detected = detected_rois(self.pipeline, [(self, image, person_boxes)])[0]
        rois, ids = self.frame_rois(image, detected, distinct=person_boxes is not None)
        return self.finish(image, self.pipeline.landmarks(image, rois), ids, timestamp_ms)

    def needs_detection(self, image: np.ndarray) -> bool:
        """Whether this frame needs the detector (fewer than num_poses poses carried over to
        it; with a person detector, the person tracker's rule). Changes nothing."""
        if self.people is not None:
            return self.people.needs_detection(image.shape[1], image.shape[0])
        return not self._keeps_tracks(image) or self.tracker.needs_detection()

    def _keeps_tracks(self, image: np.ndarray) -> bool:
        """Whether the tracks carry over to this frame (the policy's rules on tracking and on
        a new frame size)."""
        height, width = image.shape[:2]
        resized = self.tracker.frame_size not in (None, (width, height))
        return self.policy.track and (self.policy.rescale_on_resize or not resized)

    def frame_rois(
        self, image: np.ndarray, detected: np.ndarray | None, distinct: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """This frame's ROIs and track ids (tracked ones merged with any detections;
        `distinct` ones, from person boxes, never replace each other; with a person detector,
        the person tracker's ROIs and the tracks they came from)."""
        if detected is not None:
            self.detector_runs += 1
        height, width = image.shape[:2]
        if self.people is not None:  # its ids are the tracks the ROIs came from
            return self.people.frame_rois(width, height, detected)
        if not self._keeps_tracks(image):
            self.tracker.rois, self.tracker.ids = np.zeros((0, 5)), np.zeros(0, np.int64)
            self.tracks = {}
        elif self.tracker.frame_size not in (None, (width, height)):
            for track in self.tracks.values():  # pixel-space filter state does not carry over
                track.smoother = PoseSmoother()
        return self.tracker.frame_rois(
            width, height, np.zeros((0, 5)) if detected is None else detected, distinct
        )

    def finish(
        self, image: np.ndarray, poses: FramePoses, ids: np.ndarray, timestamp_ms: int | None
    ) -> FramePoses:
        """Update tracking from this frame's poses, smooth them and give them pose ids."""
        height, width = image.shape[:2]
        step_us = self.policy.frame_step_us
        if step_us is not None:
            timestamp_us = self.frames * step_us
        elif timestamp_ms is not None:
            timestamp_us = timestamp_ms * 1000
        else:
            raise TypeError("a stream without a fixed clock needs each frame's timestamp_ms")
        if self.people is not None:
            owners = ids[poses.indices]
            track_ids = self.people.assign(poses.landmarks, owners, width, height, timestamp_us)
            poses = poses.take(track_ids >= 0)
            track_ids = track_ids[track_ids >= 0]
        else:
            track_ids = ids[poses.indices]
        tracks = [self._track(track) for track in track_ids.tolist()]
        next_rois = self._next_rois(poses.aux, tracks, width, height, timestamp_us)
        if self.people is not None:
            self.people.update_rois(track_ids, next_rois)
            pose_ids = self.people.pose_ids(track_ids)
            shown = pose_ids >= 0  # a tentative track's pose is not reported
            poses, next_rois, track_ids = poses.take(shown), next_rois[shown], track_ids[shown]
            tracks, pose_ids = [t for t, s in zip(tracks, shown, strict=True) if s], pose_ids[shown]
        else:
            self.tracker.update(next_rois, track_ids, width, height)
        self.frames += 1
        if self.policy.smooth_landmarks:
            poses = self._smoothed(poses, tracks, next_rois, width, height, timestamp_us)
        smooth_mask = self.policy.smooth_mask
        if poses.masks is not None and smooth_mask is not None:
            poses = replace(poses, masks=smoothed_masks(poses.masks, tracks, smooth_mask))
        if self.people is not None:
            for track, pose_id in zip(tracks, pose_ids.tolist(), strict=True):
                track.pose_id = pose_id
        else:
            pose_ids = self._pose_ids(tracks, poses.landmarks, width, height)
        self.tracks = dict(zip(track_ids.tolist(), tracks, strict=True))
        return replace(poses, ids=pose_ids)

    def _track(self, track_id: int) -> Track:
        """The state of a track, new for a track first seen in this frame."""
        if track_id in self.tracks:
            return self.tracks[track_id]
        parameters = self.policy.roi_filter
        return Track(None if parameters is None else OneEuroFilter(*parameters))

    def _next_rois(
        self, aux: np.ndarray, tracks: list[Track], width: int, height: int, timestamp_us: int
    ) -> np.ndarray:
        """The next frame's ROIs from the auxiliary points, raw or one-euro filtered."""
        if self.policy.roi_filter is None:
            return next_frame_rois(aux, width, height)
        if not tracks:
            return np.zeros((0, 5))
        size = (width, height)
        points = np.stack(
            [
                roi_filter(track).apply(
                    (aux[k, :, :2] * size).astype(np.float64),
                    timestamp_us,
                    1.0 / aux_box_px(aux[k], width, height),
                )
                for k, track in enumerate(tracks)
            ]
        )
        points = points / size
        return rois_from_keypoints(points[:, 0], points[:, 1], width, height)

    def _pose_ids(
        self, tracks: list[Track], landmarks: np.ndarray, width: int, height: int
    ) -> np.ndarray:
        """Pose ids: a track's id while its pose stays the same person; a new one when the
        tracked ROI jumped to someone else (OKS with the track's last pose below 0.3), which
        MediaPipe's ROI tracking does between people who overlap."""
        for k, track in enumerate(tracks):
            previous = track.landmarks
            jumped = previous is not None and (
                oks_matrix(np.stack([previous, landmarks[k]]), width, height)[0, 1] < IDENTITY_OKS
            )
            if track.pose_id < 0 or jumped:
                track.pose_id = self.next_pose_id
                self.next_pose_id += 1
            track.landmarks = landmarks[k]
        return np.array([track.pose_id for track in tracks], np.int64)

    def _smoothed(
        self,
        poses: FramePoses,
        tracks: list[Track],
        next_rois: np.ndarray,
        width: int,
        height: int,
        timestamp_us: int,
    ) -> FramePoses:
        landmarks, world = poses.landmarks.copy(), poses.world.copy()
        for k, track in enumerate(tracks):  # one vectorised filter per pose
            scale = (
                object_scale(next_rois[k], width, height)
                if self.policy.scale_with_margin
                else aux_box_px(poses.aux[k], width, height)
            )
            landmarks[k], world[k] = track.smoother.apply(
                poses.landmarks[k], poses.world[k], scale, width, height, timestamp_us
            )
        return replace(poses, landmarks=landmarks, world=world)


def smoothed_masks(
    masks: list[np.ndarray],
    tracks: list[Track],
    smooth: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[np.ndarray]:
    """Each mask blended with its track's previous one by `smooth` (same size only), then kept
    as the track's."""
    out = []
    for mask, track in zip(masks, tracks, strict=True):
        if track.mask is not None and track.mask.shape == mask.shape:
            mask = smooth(mask, track.mask)
        track.mask = mask
        out.append(mask)
    return out


def detected_rois(
    pipeline: PosePipeline, steps: list[tuple[PoseStream, np.ndarray, np.ndarray | None]]
) -> list[np.ndarray | None]:
    """Each stream's detected ROIs for its frame, None where it runs no detection: one batched
    call per model for all `(stream, upright image, person boxes or None)` steps. Person boxes
    stand in for the detector; with a person detector, its boxes (or the given ones) go
    through each stream's tracker, which picks the boxes that need seeding."""
    if pipeline.person_detector is None:
        boxed = [k for k, (_, _, boxes) in enumerate(steps) if boxes is not None]
        needing = [
            k for k, (stream, image, boxes) in enumerate(steps)
            if boxes is None and stream.needs_detection(image)
        ]  # fmt: skip
        boxes_given = [boxes for _, _, boxes in steps if boxes is not None]  # `boxed`'s order
        found = pipeline.box_rois_batch([steps[k][1] for k in boxed], boxes_given)
        found += pipeline.detect_rois_batch([steps[k][1] for k in needing])
        by_step = dict(zip(boxed + needing, found, strict=True))
        return [by_step.get(k) for k in range(len(steps))]
    seeding, seeds = [], []
    for k, (stream, image, given) in enumerate(steps):
        if given is not None:
            boxes, scores = given, np.ones(len(given))
        elif stream.needs_detection(image):
            boxes, scores = pipeline.person_detections(image)
        else:
            continue
        height, width = image.shape[:2]
        seeding.append(k)
        seeds.append(
            stream.person_tracker.seed_boxes(boxes, scores, width, height, given is not None)
        )
    found = pipeline.box_rois_batch([steps[k][1] for k in seeding], seeds)
    by_step = dict(zip(seeding, found, strict=True))
    return [by_step.get(k) for k in range(len(steps))]
