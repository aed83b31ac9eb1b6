"""PoseLandmarkerOptions: MediaPipe's option names, defaults and ranges, plus ours."""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.common.install import install_command
from blazepose_onnx.pipeline.builtin_detectors import BUILTIN_PERSON_DETECTORS, is_builtin
from blazepose_onnx.typing import Precision, ProviderSpec, RunningModeName

MAX_NUM_POSES = 64
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000  # 8660x5773: a 48-megapixel photo fits
DEFAULT_PERSON_DETECTION_INTERVAL = 10  # frames (measured: docs/performance.md#tracking)


class RunningMode(enum.Enum):
    """How frames arrive: single images, a video (timestamps), or a live stream (callback)."""

    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    LIVE_STREAM = "LIVE_STREAM"


@dataclass
class BaseOptions:
    """MediaPipe-compatible holder of the model path (`model_asset_path`)."""

    model_asset_path: str | os.PathLike | None = None


@dataclass
class PoseLandmarkerOptions:
    """Options of a PoseLandmarker, named and defaulted as in MediaPipe Tasks, plus ours.

    A landmarker validates a copy of its options when it is created (`validated`): changing
    this object afterwards does not affect it. Limits on what one call may cost: `num_poses` is
    at most MAX_NUM_POSES (64), and an image may have at most `max_image_pixels` pixels. Masks
    cost 4 bytes per image pixel and pose.

    Attributes:
        base_options: MediaPipe's holder of the model path; its `model_asset_path`, when set,
            replaces `model`.
        running_mode: IMAGE (`detect`, `detect_batch`), VIDEO (`detect_for_video`) or
            LIVE_STREAM (`detect_async`); a `RunningMode` or its name.
        num_poses: the most poses per image. Unset (None): 1 without a person detector
            (MediaPipe's default) and everyone, up to MAX_NUM_POSES, with one.
        min_pose_detection_confidence: the pose detector's score threshold, in [0, 1].
        min_pose_presence_confidence: a pose is kept when its presence exceeds this, in
            [0, 1] (0 keeps one pose per person box).
        min_tracking_confidence: in VIDEO and LIVE_STREAM modes, the overlap (IoU) above
            which a detected person is taken for a tracked pose (MediaPipe Tasks' use of it),
            in [0, 1].
        output_segmentation_masks: compute a person mask per pose
            (`PoseLandmarkerResult.segmentation_masks`).
        result_callback: LIVE_STREAM mode only (and required there):
            `callback(result, image, timestamp_ms)` for each processed frame.
        model: 'lite', 'full', 'heavy', a `.task` bundle, or a directory holding
            `detector.onnx` and `landmarker.onnx`.
        providers: execution providers in order of preference: names ('cpu', 'cuda',
            'tensorrt', 'openvino', 'coreml', 'directml', 'auto') or (name, options) pairs. The
            first must really run the model unless `provider_fallback` is set.
        provider_fallback: let the first provider hand the model (or some of its nodes) to
            the next one with a warning, instead of raising `ProviderError`.
        smooth_landmarks: smooth landmarks across frames in VIDEO and LIVE_STREAM modes.
        smooth_multiple_poses: smooth every pose when `num_poses` > 1 without a person
            detector (MediaPipe smooths one pose only; with a person detector every tracked
            person is smoothed).
        num_threads: ONNX Runtime's intra-op threads per model (None: the environment's
            BLAZEPOSE_NUM_THREADS where set, else one per core).
        precision: 'fp32'; 'fp16' runs fp16 compute models (for GPUs; inputs and outputs stay
            float32); 'bf16' (opt-in) runs the fp32 models in bfloat16 on OpenVINO's CPU
            plugin, about 1.5-2x faster on CPUs with native bfloat16 (AVX512-BF16, AMX), with
            landmarks that drift from fp32; it needs `providers=["openvino"]`.
        trust_unverified: accept a `.task` bundle whose weights match no known model (a
            user's own or fine-tuned one; converted on first use, with a warning).
        max_image_pixels: the largest image accepted, in pixels (50 million by default: a
            48-megapixel photo fits); None for no limit.
        suppress_duplicate_poses: drop poses that describe a person already found (OKS >= 0.5,
            see `pose_similarity`).
        person_detector: replaces the pose detector as the first stage: a built-in's name
            ('ssd': MediaPipe's SSD person detector, fetched on first use), a callable
            `rgb -> (boxes, scores)`, or a YOLO-layout ONNX file. Each person box gets its
            refinement pass (a box is a person). In VIDEO, LIVE_STREAM and multi-stream modes
            people are tracked with lasting ids (`person_tracking`), and the detector runs only
            when it may find someone: just after a track is lost, while a lost track may be in
            sight, while people it found are not yet tracked, and at least every
            `person_detection_interval` frames.
        person_detection_interval: the most frames between two runs of the person detector
            while people are tracked.
    """

    base_options: BaseOptions | None = None
    running_mode: RunningMode | RunningModeName = RunningMode.IMAGE
    num_poses: int | None = None
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    output_segmentation_masks: bool = False
    result_callback: Callable[..., Any] | None = None
    model: str | os.PathLike = "full"
    providers: Sequence[ProviderSpec] = field(default_factory=lambda: ["cpu"])
    provider_fallback: bool = False
    smooth_landmarks: bool = True
    smooth_multiple_poses: bool = False
    num_threads: int | None = None
    precision: Precision = "fp32"
    trust_unverified: bool = False
    max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS
    suppress_duplicate_poses: bool = True
    person_detector: Callable[[Any], Any] | str | os.PathLike | None = None
    person_detection_interval: int = DEFAULT_PERSON_DETECTION_INTERVAL

    def validated(self) -> PoseLandmarkerOptions:
        """A checked copy of these options: `running_mode` a RunningMode, `num_poses`
        resolved (`resolved_num_poses`), the model path of `base_options` in `model`.

        Returns:
            The checked copy (this object is left as it is).

        Raises:
            InvalidValueError: names the first bad option (a `ValueError`).
        """
        return dataclasses.replace(
            self, providers=list(self.providers) if _is_list(self.providers) else self.providers
        )._check()

    def _check(self) -> PoseLandmarkerOptions:
        self.running_mode = as_running_mode(self.running_mode)
        self.num_poses = self.resolved_num_poses
        if (
            isinstance(self.num_poses, bool)
            or not isinstance(self.num_poses, int)
            or not 1 <= self.num_poses <= MAX_NUM_POSES
        ):
            raise InvalidValueError(
                f"num_poses must be an int in [1, {MAX_NUM_POSES}], got {self.num_poses!r}"
            )
        for name in (
            "min_pose_detection_confidence",
            "min_pose_presence_confidence",
            "min_tracking_confidence",
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0.0 <= value <= 1.0
            ):
                raise InvalidValueError(f"{name} must be a number in [0, 1], got {value!r}")
        for name in (
            "output_segmentation_masks",
            "smooth_landmarks",
            "smooth_multiple_poses",
            "provider_fallback",
            "trust_unverified",
            "suppress_duplicate_poses",
        ):
            if not isinstance(getattr(self, name), bool):
                raise InvalidValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.num_threads is not None and (
            isinstance(self.num_threads, bool)
            or not isinstance(self.num_threads, int)
            or self.num_threads < 1
        ):
            raise InvalidValueError(
                f"num_threads must be an int >= 1 or None, got {self.num_threads!r}"
            )
        if (
            isinstance(self.person_detection_interval, bool)
            or not isinstance(self.person_detection_interval, int)
            or self.person_detection_interval < 1
        ):
            raise InvalidValueError(
                "person_detection_interval must be an int >= 1 (frames), got "
                f"{self.person_detection_interval!r}"
            )
        if self.max_image_pixels is not None and (
            isinstance(self.max_image_pixels, bool)
            or not isinstance(self.max_image_pixels, int)
            or self.max_image_pixels < 64
        ):
            raise InvalidValueError(
                f"max_image_pixels must be an int >= 64 or None, got {self.max_image_pixels!r}"
            )
        detector = self.person_detector
        if not (detector is None or known_person_detector(detector)):
            raise InvalidValueError(
                "person_detector must be a built-in's name "
                f"({', '.join(map(repr, BUILTIN_PERSON_DETECTORS))}), a callable or an ONNX "
                f"file, got {detector!r}"
            )
        if self.result_callback is not None and not callable(self.result_callback):
            raise InvalidValueError("result_callback must be callable")
        if self.running_mode is RunningMode.LIVE_STREAM and self.result_callback is None:
            raise InvalidValueError("result_callback must be provided in LIVE_STREAM mode")
        if self.running_mode is not RunningMode.LIVE_STREAM and self.result_callback is not None:
            raise InvalidValueError(
                f"result_callback must not be provided in {self.running_mode.value} mode "
                "(only in LIVE_STREAM mode)"
            )
        if isinstance(self.providers, (str, bytes)) or not all(
            isinstance(p, str) or (isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str))
            for p in self.providers
        ):
            raise InvalidValueError(
                f"providers must be a list of provider names, got {self.providers!r}"
            )
        if not self.providers:
            raise InvalidValueError("providers must name at least one execution provider")
        self._check_precision()
        if self.base_options is not None and self.base_options.model_asset_path is not None:
            self.model = self.base_options.model_asset_path
        if not isinstance(self.model, (str, os.PathLike)):
            raise InvalidValueError(f"model must be a variant name or a path, got {self.model!r}")
        return self

    def _check_precision(self) -> None:
        if self.precision not in PRECISIONS:
            raise InvalidValueError(
                f"precision must be 'fp32', 'fp16' or 'bf16', got {self.precision!r}"
            )
        first = self.providers[0]
        first = first if isinstance(first, str) else first[0]
        needed = required_provider(self.precision)
        if needed is not None and first.lower() != needed:
            raise InvalidValueError(
                f"precision={self.precision!r} runs on OpenVINO's CPU plugin: set "
                f"providers=[{needed!r}] ({install_command(needed)}), got "
                f"providers={self.providers!r}"
            )

    @property
    def resolved_num_poses(self) -> int:
        """`num_poses`, or when unset (None) MediaPipe's 1 without a person detector and
        everyone (MAX_NUM_POSES) with one."""
        if self.num_poses is not None:
            return self.num_poses
        return 1 if self.person_detector is None else MAX_NUM_POSES

    @property
    def model_precision(self) -> str:
        """The precision of the model files: 'bf16' runs the fp32 models."""
        return "fp32" if self.precision == "bf16" else self.precision


def as_running_mode(value: object) -> RunningMode:
    """A `running_mode` option as a RunningMode: one already, or its name (either case).

    Raises:
        InvalidValueError: anything else.
    """
    if isinstance(value, str) and value.upper() in RunningMode.__members__:
        return RunningMode[value.upper()]
    if not isinstance(value, RunningMode):
        raise InvalidValueError(f"running_mode must be a RunningMode, got {value!r}")
    return value


def known_person_detector(detector: object) -> bool:
    """Whether a `person_detector` names one that runs: a built-in's name, a callable or an
    ONNX file that exists."""
    is_file = isinstance(detector, (str, os.PathLike)) and os.path.isfile(detector)
    return callable(detector) or is_file or is_builtin(detector)


def required_provider(precision: str) -> str | None:
    """The one execution provider `precision` runs on, None for any: 'bf16' runs in bfloat16
    on OpenVINO's CPU plugin only."""
    return "openvino" if precision == "bf16" else None


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))
