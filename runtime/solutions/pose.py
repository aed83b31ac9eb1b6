"""`Pose`: MediaPipe's legacy `mp.solutions.pose.Pose`, on ONNX Runtime.

    from blazepose_onnx.solutions import pose as mp_pose
    with mp_pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        results = pose.process(rgb)
        if results.pose_landmarks:
            nose = results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE]

Same positional parameters, defaults and result fields as MediaPipe 0.10.21; ours are
keyword-only (`providers`, `num_threads`, `precision`). Needs no MediaPipe, works on any Python
the package supports and with numpy 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError
from blazepose_onnx.errors import LandmarkerClosedError
from blazepose_onnx.io.image import to_rgb_uint8
from blazepose_onnx.landmarks import POSE_CONNECTIONS as _CONNECTIONS
from blazepose_onnx.landmarks import PoseLandmark
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.pose_pipeline import PosePipeline
from blazepose_onnx.solutions.landmark_lists import NormalizedLandmarkList, SolutionOutputs
from blazepose_onnx.solutions.legacy_tracking import LEGACY_NMS_IOU_THRESHOLD, legacy_policy
from blazepose_onnx.stream.lifecycle import CallGuard
from blazepose_onnx.stream.pose_stream import PoseStream
from blazepose_onnx.typing import Precision, ProviderSpec

POSE_CONNECTIONS = frozenset(_CONNECTIONS)
MODEL_COMPLEXITIES = {0: "lite", 1: "full", 2: "heavy"}

__all__ = ["POSE_CONNECTIONS", "Pose", "PoseLandmark", "SolutionOutputs"]


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


class Pose:
    """Pose landmarks of the most prominent person, frame after frame (legacy semantics).

    MediaPipe's `mp.solutions.pose.Pose`, on the same models; use as a context manager or call
    `close()`.

    Args:
        static_image_mode: run the detector on every image, with no tracking or smoothing;
            otherwise the pose is tracked from frame to frame and smoothed as MediaPipe's
            legacy graph does.
        model_complexity: 0 (lite), 1 (full) or 2 (heavy).
        smooth_landmarks: smooth landmarks across frames (not in static image mode).
        enable_segmentation: compute the person's mask.
        smooth_segmentation: blend each mask with the previous one.
        min_detection_confidence: the detector's score threshold, in [0, 1].
        min_tracking_confidence: below this pose presence the person is detected again, in
            [0, 1].
        providers: execution providers, as `PoseLandmarkerOptions.providers`.
        num_threads: as `PoseLandmarkerOptions.num_threads`.
        precision: as `PoseLandmarkerOptions.precision`.

    Raises:
        InvalidValueError: `model_complexity` not 0, 1 or 2, or another option out of range.
        InvalidTypeError: a flag that is not a bool.
        BlazePoseError: as `PoseLandmarker.create_from_options` (a provider that cannot run the
            model, a model that cannot be fetched or converted).
    """

    def __init__(
        self,
        static_image_mode: bool = False,
        model_complexity: int = 1,
        smooth_landmarks: bool = True,
        enable_segmentation: bool = False,
        smooth_segmentation: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        *,
        providers: Sequence[ProviderSpec] = ("cpu",),
        num_threads: int | None = None,
        precision: Precision = "fp32",
    ) -> None:
        if model_complexity not in MODEL_COMPLEXITIES or isinstance(model_complexity, bool):
            raise InvalidValueError(f"model_complexity must be 0, 1 or 2, got {model_complexity!r}")
        flags = {
            name: _check_bool(name, value)
            for name, value in (
                ("static_image_mode", static_image_mode),
                ("smooth_landmarks", smooth_landmarks),
                ("enable_segmentation", enable_segmentation),
                ("smooth_segmentation", smooth_segmentation),
            )
        }
        options = PoseLandmarkerOptions(
            model=MODEL_COMPLEXITIES[model_complexity],
            num_poses=1,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_tracking_confidence,  # the legacy graph's use of it
            output_segmentation_masks=flags["enable_segmentation"],
            providers=list(providers),
            num_threads=num_threads,
            precision=precision,
        ).validated()
        pipeline = PosePipeline(options, nms_iou_threshold=LEGACY_NMS_IOU_THRESHOLD)
        self._pipeline: PosePipeline | None = pipeline
        self._policy = legacy_policy(
            flags["static_image_mode"], flags["smooth_landmarks"], flags["smooth_segmentation"]
        )
        self._stream: PoseStream | None = PoseStream(pipeline, options, self._policy)
        self._guard = CallGuard()

    def process(self, image: np.ndarray) -> SolutionOutputs:
        """The most prominent person in the next image (frame).

        Args:
            image: an HxWx3 uint8 RGB array.

        Returns:
            `pose_landmarks`, `pose_world_landmarks` and (with segmentation)
            `segmentation_mask`; every field is None when nobody is found.

        Raises:
            InvalidValueError: an image that is not HxWx3, or too small or large.
            InvalidTypeError: an image that is not a uint8 numpy array.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._guard.call("process"):
            if not isinstance(image, np.ndarray):
                raise InvalidTypeError(f"image must be a numpy array, got {type(image).__name__}")
            if image.ndim != 3 or image.shape[2] != 3:
                raise InvalidValueError(
                    f"Input image must contain three channel rgb data (got shape {image.shape})"
                )
            if image.dtype != np.uint8:
                raise InvalidTypeError(f"image must be uint8 RGB, got dtype {image.dtype}")
            pipeline, stream = self._open()
            rgb = to_rgb_uint8(image, "rgb", pipeline.options.max_image_pixels)
            poses = stream.process(rgb)
        if len(poses.landmarks) == 0:
            return SolutionOutputs(None, None, None)
        mask = None if poses.masks is None else poses.masks[0]
        return SolutionOutputs(
            NormalizedLandmarkList(poses.landmarks[0]),
            NormalizedLandmarkList(poses.world[0]),
            mask,
        )

    def reset(self) -> None:
        """Forget the tracked pose and the filters (the next frame starts a new stream)."""
        with self._guard.call("reset"):
            pipeline, _ = self._open()
            self._stream = PoseStream(pipeline, pipeline.options, self._policy)

    def close(self) -> None:
        """Release the models; later calls raise LandmarkerClosedError."""
        if self._guard.close():
            self._pipeline = self._stream = None

    def _open(self) -> tuple[PosePipeline, PoseStream]:
        """The pipeline and stream of a call the guard let in (they go at `close()`)."""
        if self._pipeline is None or self._stream is None:
            raise LandmarkerClosedError("process() called after close()")
        return self._pipeline, self._stream

    def __enter__(self) -> Pose:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
