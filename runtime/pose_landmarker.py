"""PoseLandmarker: MediaPipe's Pose Landmarker task on ONNX Runtime (same API)."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Sequence
from typing import Literal, cast, overload

import numpy as np
from numpy.typing import ArrayLike

from blazepose_onnx.backend.placement import Placement
from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError
from blazepose_onnx.errors import LandmarkerClosedError
from blazepose_onnx.io.image import check_rotation, rotate_clockwise, to_rgb_uint8, unrotate_points
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode, as_running_mode
from blazepose_onnx.pipeline.person_boxes import upright_person_boxes
from blazepose_onnx.pipeline.pose_pipeline import FramePoses, PosePipeline
from blazepose_onnx.results import PoseLandmarkerResult
from blazepose_onnx.stream.lifecycle import CallGuard
from blazepose_onnx.stream.live import LiveStreamWorker
from blazepose_onnx.stream.pose_stream import PoseStream
from blazepose_onnx.stream.timestamps import TimestampCheck
from blazepose_onnx.typing import ColorOrder, ErrorMode, ImageLike


def open_pipeline(pipeline: PosePipeline | None) -> PosePipeline:
    """A landmarker's `pipeline`: LandmarkerClosedError where close() released it (None)."""
    if pipeline is None:
        raise LandmarkerClosedError("pipeline: the landmarker is closed")
    return pipeline


class PoseLandmarker:
    """Finds up to `num_poses` people and their 33 landmarks, world landmarks and masks.

    Create with `create_from_options` or `create_from_model_path`; use as a context manager
    or call `close()`. Images are numpy HxWx3 uint8 RGB by default (see `to_rgb_uint8` for
    BGR, RGBA, gray and float input via `color=`). Safe to share between threads; `close()`
    from any thread waits for the calls in flight, and later calls raise
    LandmarkerClosedError.

    Args:
        options: as `create_from_options` takes them.

    Raises:
        BlazePoseError: as `create_from_options`.
    """

    def __init__(self, options: PoseLandmarkerOptions) -> None:
        self._options = options.validated()
        self._mode = as_running_mode(self._options.running_mode)
        self._pipeline: PosePipeline | None = PosePipeline(self._options)
        self._model_stats = self._pipeline.stats
        self._placement = self._pipeline.placement
        self._guard = CallGuard()
        self._timestamps = TimestampCheck()
        self._stream_lock = threading.Lock()
        self._stream: PoseStream | None = None
        self._worker: LiveStreamWorker | None = None
        if self._mode is not RunningMode.IMAGE:
            self._stream = PoseStream(self.pipeline, self._options)
        if self._options.result_callback is not None:  # LIVE_STREAM mode, which needs one
            self._worker = LiveStreamWorker(self._process_live, self._options.result_callback)

    @classmethod
    def create_from_options(cls, options: PoseLandmarkerOptions) -> PoseLandmarker:
        """A landmarker for these options (a validated copy of them).

        Args:
            options: what to run and how (`PoseLandmarkerOptions`).

        Returns:
            The landmarker, its models loaded.

        Raises:
            InvalidTypeError: `options` is not PoseLandmarkerOptions (a `TypeError`).
            InvalidValueError: an option out of range (`PoseLandmarkerOptions.validated`), or a
                model that is not one (a `ValueError`).
            ProviderError: a provider that is unknown, not installed, or cannot run the model.
            MissingFileError: a model path that does not exist (a `FileNotFoundError`).
            BlazePoseError: every error above is one; so is a model that cannot be fetched or
                converted on first use (`blazepose_onnx.converter.errors`).
        """
        if not isinstance(options, PoseLandmarkerOptions):
            raise InvalidTypeError(
                f"options must be PoseLandmarkerOptions, got {type(options).__name__}"
            )
        return cls(options)

    @classmethod
    def create_from_model_path(cls, model_path: str | os.PathLike) -> PoseLandmarker:
        """An IMAGE-mode landmarker with default options for a variant name or model path.

        Args:
            model_path: 'lite', 'full', 'heavy', a `.task` bundle or a folder of converted
                models (as `PoseLandmarkerOptions.model`).

        Returns:
            The landmarker, its models loaded.

        Raises:
            BlazePoseError: as `create_from_options`.
        """
        return cls(PoseLandmarkerOptions(model=model_path))

    @property
    def options(self) -> PoseLandmarkerOptions:
        """A copy of the validated options this landmarker was created with (read-only)."""
        return dataclasses.replace(self._options, providers=list(self._options.providers))

    def detect(
        self,
        image: ImageLike,
        rotation_degrees: int = 0,
        *,
        color: ColorOrder = "rgb",
        person_boxes: ArrayLike | None = None,
    ) -> PoseLandmarkerResult:
        """Poses in a single image (IMAGE mode). Coordinates refer to the image as passed in.

        Args:
            image: a numpy array (uint8, or float in [0, 1]), an `mp.Image`-like object or an
                image file's path (`blazepose_onnx.typing.ImageLike`).
            rotation_degrees: the clockwise rotation (a multiple of 90) that makes the person
                upright; the models see the rotated image, results are mapped back.
            color: the channel order of an array: 'rgb' (MediaPipe's), 'bgr' (OpenCV's),
                'rgba', 'bgra' or 'gray'.
            person_boxes: pixel boxes (n, 4) x1, y1, x2, y2, or (n, 5) with a score, from any
                person detector: they replace the pose detector, and each box gives one pose at
                most (the best `num_poses` boxes by score).

        Returns:
            The poses found, best first: up to `num_poses`.

        Raises:
            InvalidValueError: an image, rotation or boxes that cannot be used, or a call
                outside IMAGE mode (a `ValueError`).
            InvalidTypeError: an image or rotation of the wrong type (a `TypeError`).
            MissingFileError: an image path that does not exist (a `FileNotFoundError`).
            LandmarkerClosedError: a call after `close()`.
        """
        with self._call("detect", RunningMode.IMAGE):
            boxes = None if person_boxes is None else [person_boxes]
            (outcome,) = self._detect_images([image], rotation_degrees, color, boxes, "raise")
            return cast(PoseLandmarkerResult, outcome)  # errors="raise" raised any refusal

    @overload
    def detect_batch(
        self,
        images: Sequence[ImageLike],
        rotation_degrees: int = 0,
        *,
        color: ColorOrder = "rgb",
        person_boxes: Sequence[ArrayLike] | None = None,
        errors: Literal["raise"] = "raise",
    ) -> list[PoseLandmarkerResult]: ...

    @overload
    def detect_batch(
        self,
        images: Sequence[ImageLike],
        rotation_degrees: int = 0,
        *,
        color: ColorOrder = "rgb",
        person_boxes: Sequence[ArrayLike] | None = None,
        errors: ErrorMode,
    ) -> list[PoseLandmarkerResult | ValueError | TypeError]: ...

    def detect_batch(
        self,
        images: Sequence[ImageLike],
        rotation_degrees: int = 0,
        *,
        color: ColorOrder = "rgb",
        person_boxes: Sequence[ArrayLike] | None = None,
        errors: ErrorMode = "raise",
    ) -> list[PoseLandmarkerResult] | list[PoseLandmarkerResult | ValueError | TypeError]:
        """`detect()` for many images (IMAGE mode) with one detector call for all of them and
        one landmarker call for all their poses; images may differ in size.

        Args:
            images: the images, each as `detect` takes it.
            rotation_degrees: as in `detect`, for every image.
            color: as in `detect`, for every array.
            person_boxes: one box array per image (as in `detect`), or None.
            errors: 'raise' (default): the first image (or box array) refused raises its error.
                'return': it gets its ValueError or TypeError in its place in the list and the
                others are still detected, so one bad request of a served batch fails only
                itself.

        Returns:
            One result per image, in order (with `errors="return"`, an error in place of each
            image refused).

        Raises:
            InvalidValueError: `errors` not 'raise' or 'return', and as `detect` (with
                `errors="return"`, only for what concerns the whole call: the mode,
                `rotation_degrees`, the number of box arrays).
            InvalidTypeError: as `detect`.
            LandmarkerClosedError: a call after `close()`.
        """
        if errors not in ("raise", "return"):
            raise InvalidValueError(f"errors must be 'raise' or 'return', got {errors!r}")
        with self._call("detect_batch", RunningMode.IMAGE):
            return self._detect_images(images, rotation_degrees, color, person_boxes, errors)

    def _detect_images(
        self,
        images: Sequence[ImageLike],
        rotation_degrees: int,
        color: ColorOrder,
        person_boxes: Sequence[ArrayLike] | None,
        errors: ErrorMode,
    ) -> list[PoseLandmarkerResult | ValueError | TypeError]:
        degrees = check_rotation(rotation_degrees)
        if person_boxes is not None and (
            isinstance(person_boxes, np.ndarray) or len(person_boxes) != len(images)
        ):
            raise InvalidValueError("person_boxes must be a list with one box array per image")
        refused: dict[int, ValueError | TypeError] = {}
        accepted: list[tuple[int, np.ndarray, np.ndarray | None]] = []
        for k, image in enumerate(images):
            try:
                rgb = self._rgb(image, color)
                boxes = None if person_boxes is None else self._boxes(person_boxes[k], rgb, degrees)
            except (ValueError, TypeError) as exc:
                if errors == "raise":
                    raise
                refused[k] = exc
                continue
            accepted.append((k, rgb, boxes))
        found: dict[int, PoseLandmarkerResult] = {}
        if accepted:
            pipeline = self.pipeline
            uprights = [rotate_clockwise(rgb, degrees) for _, rgb, _ in accepted]
            if person_boxes is None:
                rois = pipeline.detect_rois_batch(uprights)
            else:
                given = [boxes for _, _, boxes in accepted if boxes is not None]
                rois = pipeline.box_rois_batch(uprights, given)
            poses = pipeline.landmarks_batch(uprights, rois)
            for (k, rgb, _), pose, upright in zip(accepted, poses, uprights, strict=True):
                found[k] = result_from_poses(pose, degrees, rgb.shape[1], upright.shape[1])
        return [refused[k] if k in refused else found[k] for k in range(len(images))]

    def detect_for_video(
        self,
        image: ImageLike,
        timestamp_ms: int,
        rotation_degrees: int = 0,
        *,
        color: ColorOrder = "rgb",
        person_boxes: ArrayLike | None = None,
    ) -> PoseLandmarkerResult:
        """Poses in the next frame of a video (VIDEO mode); timestamps must increase strictly.

        Tracks poses across frames (the detector runs only when fewer than `num_poses` are
        tracked) and smooths landmarks as MediaPipe does.

        Args:
            image: the frame, as `detect` takes it.
            timestamp_ms: the frame's time in milliseconds, above the previous frame's.
            rotation_degrees: as in `detect`.
            color: as in `detect`.
            person_boxes: boxes on this frame (as in `detect`) seed or refresh tracks in place
                of the detector (merged with tracked poses as its ROIs are).

        Returns:
            The frame's poses, smoothed, each with its tracked `pose_ids` entry.

        Raises:
            InvalidValueError: as `detect` (outside VIDEO mode), and a timestamp that does not
                increase.
            InvalidTypeError: as `detect`, and a timestamp that is not an int.
            MissingFileError: as `detect`.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._call("detect_for_video", RunningMode.VIDEO):
            rgb, degrees, boxes = self._frame(image, color, rotation_degrees, person_boxes)
            with self._stream_lock:
                self._timestamps.check(timestamp_ms)
                return self._process_frame(rgb, degrees, int(timestamp_ms), boxes)

    def detect_async(
        self,
        image: ImageLike,
        timestamp_ms: int,
        rotation_degrees: int = 0,
        *,
        color: ColorOrder = "rgb",
        person_boxes: ArrayLike | None = None,
    ) -> None:
        """Queue a live frame (LIVE_STREAM mode); its result goes to `result_callback`.

        Returns at once. If frames arrive faster than they are processed, a waiting frame is
        replaced by the newer one (see `stats["dropped_frames"]`).

        Args:
            image: the frame, as `detect` takes it (copied: the caller may reuse its buffer).
            timestamp_ms: as in `detect_for_video`.
            rotation_degrees: as in `detect`.
            color: as in `detect`.
            person_boxes: as in `detect_for_video`.

        Raises:
            InvalidValueError: as `detect_for_video` (outside LIVE_STREAM mode); the frame is
                checked before it is queued.
            InvalidTypeError: as `detect_for_video`.
            MissingFileError: as `detect`.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._call("detect_async", RunningMode.LIVE_STREAM):
            rgb, degrees, boxes = self._frame(image, color, rotation_degrees, person_boxes)
            rgb = np.array(rgb, copy=True)  # the caller may reuse its buffer
            worker = self._worker
            if worker is None:  # made in LIVE_STREAM mode, which `_call` checked
                raise RuntimeError("detect_async: no live-stream worker")
            with self._stream_lock:
                self._timestamps.check(timestamp_ms)
                worker.submit((rgb, degrees, boxes), int(timestamp_ms))

    @property
    def stats(self) -> dict[str, int]:
        """Stream-mode counters: frames processed, detector runs, dropped and delivered frames."""
        stream, worker = self._stream, self._worker
        return {
            "frames": stream.frames if stream else 0,
            "detector_runs": stream.detector_runs if stream else 0,
            "dropped_frames": worker.dropped if worker else 0,
            "delivered_frames": worker.delivered if worker else 0,
        }

    @property
    def model_stats(self) -> dict[str, dict[str, float]]:
        """Per model ("detector", "landmarker"): the seconds spent inside it, its runs and the
        batch items (images, crops) they were given, since creation. A consistent snapshot, safe
        to read from any thread while calls run, and after close()."""
        return self._model_stats.snapshot()

    @property
    def placement(self) -> dict[str, Placement]:
        """Where ONNX Runtime placed each model's nodes, by model ("detector", "landmarker"):
        nodes per execution provider, read from ONNX Runtime's record of the session (still there
        after close())."""
        return dict(self._placement)

    @property
    def pipeline(self) -> PosePipeline:
        """The pipeline this landmarker runs, for diagnostics and evaluation: its model sessions
        (`detector`, `landmarker`, `person_detector`, with their providers and placement) and its
        stages (`detect_rois`, `box_rois_batch`, `landmarks_batch`, ...) on upright RGB images.

        Raises:
            LandmarkerClosedError: after `close()` (the sessions are released).
        """
        return open_pipeline(self._pipeline)

    def close(self) -> None:
        """Finish the calls in flight and queued live frames, release the sessions; further
        calls raise LandmarkerClosedError. Safe from any thread, the result callback too (the
        sessions are then released when the landmarker is garbage-collected)."""
        if not self._guard.close():
            return
        if self._worker is not None:
            self._worker.close()
            if self._worker.is_current_thread():
                return
        self._pipeline = None

    def __enter__(self) -> PoseLandmarker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _process_frame(
        self, rgb: np.ndarray, degrees: int, timestamp_ms: int, boxes: np.ndarray | None = None
    ) -> PoseLandmarkerResult:
        stream = self._stream
        if stream is None:  # made in VIDEO and LIVE_STREAM modes, which `_call` checked
            raise RuntimeError("a stream frame in IMAGE mode")
        upright = rotate_clockwise(rgb, degrees)
        poses = stream.process(upright, timestamp_ms, boxes)
        return result_from_poses(poses, degrees, rgb.shape[1], upright.shape[1])

    def _process_live(
        self, frame: tuple[np.ndarray, int, np.ndarray | None], timestamp_ms: int
    ) -> tuple[PoseLandmarkerResult, np.ndarray]:
        rgb, degrees, boxes = frame
        return self._process_frame(rgb, degrees, timestamp_ms, boxes), rgb

    def _frame(
        self,
        image: ImageLike,
        color: ColorOrder,
        rotation_degrees: int,
        person_boxes: ArrayLike | None,
    ) -> tuple[np.ndarray, int, np.ndarray | None]:
        """A stream frame's checked RGB image, rotation and upright person boxes (or None)."""
        rgb = self._rgb(image, color)
        degrees = check_rotation(rotation_degrees)
        boxes = None if person_boxes is None else self._boxes(person_boxes, rgb, degrees)
        return rgb, degrees, boxes

    def _boxes(self, person_boxes: ArrayLike, rgb: np.ndarray, degrees: int) -> np.ndarray:
        return upright_person_boxes(person_boxes, rgb, self._options.resolved_num_poses, degrees)

    def _call(self, method: str, mode: RunningMode):
        """Context of one public call: refused after close() or in the wrong running mode."""
        if self._mode is not mode:
            if self._guard.closed:
                raise LandmarkerClosedError(f"{method}() called after close()")
            raise InvalidValueError(
                f"{method}() is for {mode.value} mode; this landmarker was created in "
                f"{self._mode.value} mode"
            )
        return self._guard.call(method)

    def _rgb(self, image: ImageLike, color: ColorOrder) -> np.ndarray:
        return to_rgb_uint8(image, color, self._options.max_image_pixels)


def result_from_poses(
    poses: FramePoses, degrees: int, width: int, upright_width: int
) -> PoseLandmarkerResult:
    """The public result, with image coordinates and masks mapped back through the rotation."""
    landmarks = unrotate_points(poses.landmarks, degrees, upright_width / width)
    masks = poses.masks
    if masks is not None and degrees:
        masks = [np.ascontiguousarray(np.rot90(mask, k=degrees // 90)) for mask in masks]
    ids = None if poses.ids is None else poses.ids.tolist()
    return PoseLandmarkerResult(landmarks, poses.world, masks, ids)
