"""Many video streams through one pair of sessions: one detector call and one landmarker call
per step for all streams together, with independent tracking and smoothing per stream."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

from blazepose_onnx.backend.placement import Placement
from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.io.image import check_rotation, rotate_clockwise, to_rgb_uint8
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.person_boxes import upright_person_boxes
from blazepose_onnx.pipeline.pose_pipeline import PosePipeline
from blazepose_onnx.pose_landmarker import open_pipeline, result_from_poses
from blazepose_onnx.results import PoseLandmarkerResult
from blazepose_onnx.stream.lifecycle import CallGuard
from blazepose_onnx.stream.pose_stream import PoseStream, detected_rois
from blazepose_onnx.stream.timestamps import TimestampCheck
from blazepose_onnx.typing import ColorOrder, ImageLike


@dataclass
class _Step:
    """One stream's frame within a multi-stream step."""

    stream_id: Hashable
    stream: _OpenStream
    image: np.ndarray  # as passed in, RGB
    timestamp_ms: int

    @cached_property
    def upright(self) -> np.ndarray:
        """The frame as the models see it (turned by the stream's rotation)."""
        return rotate_clockwise(self.image, self.stream.degrees)


@dataclass
class _OpenStream:
    """An open stream's tracking state, timestamp check and rotation."""

    poses: PoseStream
    timestamps: TimestampCheck
    degrees: int


class MultiStreamPoseLandmarker:
    """Tracks poses in many video streams at once (VIDEO semantics per stream).

    `open_stream(id, rotation_degrees)` starts a stream; `process({id: (frame, timestamp_ms),
    ...})` runs one step for any subset of open streams and returns their results;
    `close_stream(id)` ends one (its id cannot be reused). Results equal running each stream
    through its own PoseLandmarker in VIDEO mode with that rotation.

    Args:
        options: as for `PoseLandmarker` (`running_mode` and `result_callback` aside: every
            stream runs with VIDEO semantics).

    Raises:
        InvalidValueError: an option out of range (`PoseLandmarkerOptions.validated`).
        BlazePoseError: as `PoseLandmarker.create_from_options`.
    """

    def __init__(self, options: PoseLandmarkerOptions) -> None:
        self._options = options.validated()
        self._pipeline: PosePipeline | None = PosePipeline(self._options)
        self._model_stats = self._pipeline.stats
        self._placement = self._pipeline.placement
        self._streams: dict[Hashable, _OpenStream] = {}
        self._closed_ids: set[Hashable] = set()
        self._guard = CallGuard()

    def open_stream(self, stream_id: Hashable, rotation_degrees: int = 0) -> None:
        """Start a new stream; ids of open or closed streams are refused.

        Args:
            stream_id: any hashable id, new to this landmarker.
            rotation_degrees: the clockwise rotation (a multiple of 90, as in
                `PoseLandmarker.detect_for_video`) that makes this stream's people upright;
                its results and boxes are in its frames as passed in.

        Raises:
            InvalidValueError: an id already used, or a rotation that is not a multiple of 90.
            InvalidTypeError: a rotation that is not an int.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._guard.call("open_stream"):
            self._open_stream(stream_id, check_rotation(rotation_degrees))

    def _open_stream(self, stream_id: Hashable, degrees: int) -> None:
        if stream_id in self._streams or stream_id in self._closed_ids:
            state = "open" if stream_id in self._streams else "closed and cannot be reused"
            raise InvalidValueError(f"stream id {stream_id!r} is already {state}")
        poses = PoseStream(self.pipeline, self._options)
        self._streams[stream_id] = _OpenStream(poses, TimestampCheck(), degrees)

    def close_stream(self, stream_id: Hashable) -> None:
        """End a stream; its id cannot be opened again.

        Raises:
            InvalidValueError: no open stream has this id.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._guard.call("close_stream"):
            self._stream(stream_id)
            del self._streams[stream_id]
            self._closed_ids.add(stream_id)

    def stream_stats(self, stream_id: Hashable) -> dict[str, int]:
        """Frames processed and detector runs of one open stream.

        Returns:
            `{"frames": ..., "detector_runs": ...}`.

        Raises:
            InvalidValueError: no open stream has this id.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._guard.call("stream_stats"):
            poses = self._stream(stream_id).poses
            return {"frames": poses.frames, "detector_runs": poses.detector_runs}

    @property
    def model_stats(self) -> dict[str, dict[str, float]]:
        """Per model ("detector", "landmarker"): the seconds spent inside it, its runs and the
        batch items (images, crops) they were given, since creation. A consistent snapshot, safe
        to read from any thread while calls run, and after close()."""
        return self._model_stats.snapshot()

    @property
    def placement(self) -> dict[str, Placement]:
        """Where ONNX Runtime placed each model's nodes (`PoseLandmarker.placement`)."""
        return dict(self._placement)

    def process(
        self,
        frames: Mapping[Hashable, tuple[ImageLike, int]],
        *,
        color: ColorOrder = "rgb",
        person_boxes: Mapping[Hashable, ArrayLike] | None = None,
    ) -> dict[Hashable, PoseLandmarkerResult]:
        """One step: the next frame of each given stream, in one batched pass of each model.

        Nothing changes when any frame, box or timestamp is refused.

        Args:
            frames: `{stream_id: (frame, timestamp_ms)}` for any subset of the open streams;
                each frame as `PoseLandmarker.detect` takes it, each timestamp above that
                stream's previous one.
            color: the channel order of the arrays (as in `PoseLandmarker.detect`).
            person_boxes: `{stream_id: boxes}`: pixel boxes (as in `PoseLandmarker.detect`)
                that seed or refresh that stream's tracks in place of the detector.

        Returns:
            Each given stream's result, by its id.

        Raises:
            InvalidValueError: a stream id that is not open, or a frame, box or timestamp that
                cannot be used.
            InvalidTypeError: a frame or timestamp of the wrong type.
            MissingFileError: a frame path that does not exist.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._guard.call("process"):
            return self._process(frames, color, person_boxes or {})

    def check_frame(
        self, stream_id: Hashable, image: ImageLike, timestamp_ms: int, *, color: ColorOrder = "rgb"
    ) -> np.ndarray:
        """The frame as `process` would take it for this stream; changes nothing.

        Returns:
            The frame as RGB uint8.

        Raises:
            InvalidValueError: as `process` would for this stream's frame (the id not open, the
                image unusable, the timestamp not newer).
            InvalidTypeError: as `process`.
            MissingFileError: as `process`.
            LandmarkerClosedError: a call after `close()`.
        """
        with self._guard.call("check_frame"):
            return self._checked_step(stream_id, image, timestamp_ms, color).image

    def _checked_step(
        self, stream_id: Hashable, image: ImageLike, timestamp_ms: int, color: ColorOrder
    ) -> _Step:
        stream = self._stream(stream_id)
        stream.timestamps.check(timestamp_ms, record=False)
        rgb = to_rgb_uint8(image, color, self._options.max_image_pixels)
        return _Step(stream_id, stream, rgb, int(timestamp_ms))

    def _process(
        self,
        frames: Mapping[Hashable, tuple[ImageLike, int]],
        color: ColorOrder,
        person_boxes: Mapping[Hashable, ArrayLike],
    ) -> dict[Hashable, PoseLandmarkerResult]:
        pipeline = self.pipeline
        steps = [
            self._checked_step(stream_id, image, timestamp_ms, color)
            for stream_id, (image, timestamp_ms) in frames.items()
        ]
        unknown = set(person_boxes) - set(frames)
        if unknown:
            raise InvalidValueError(
                f"person_boxes for streams without a frame: {sorted(map(str, unknown))}"
            )
        boxed = {
            id(step): upright_person_boxes(
                person_boxes[step.stream_id], step.image, self._options.resolved_num_poses,
                step.stream.degrees,
            )
            for step in steps
            if step.stream_id in person_boxes
        }  # fmt: skip
        for step in steps:
            step.stream.timestamps.check(step.timestamp_ms)
        detected = detected_rois(
            pipeline,
            [(step.stream.poses, step.upright, boxed.get(id(step))) for step in steps],
        )
        planned = [
            step.stream.poses.frame_rois(step.upright, found, distinct=id(step) in boxed)
            for step, found in zip(steps, detected, strict=True)
        ]
        poses = pipeline.landmarks_batch(
            [step.upright for step in steps], [rois for rois, _ in planned]
        )
        results = {}
        for step, (_, ids), frame_poses in zip(steps, planned, poses, strict=True):
            finished = step.stream.poses.finish(step.upright, frame_poses, ids, step.timestamp_ms)
            results[step.stream_id] = result_from_poses(
                finished, step.stream.degrees, step.image.shape[1], step.upright.shape[1]
            )
        return results

    @property
    def pipeline(self) -> PosePipeline:
        """The pipeline the streams run (as `PoseLandmarker.pipeline`).

        Raises:
            LandmarkerClosedError: after `close()` (the sessions are released).
        """
        return open_pipeline(self._pipeline)

    def close(self) -> None:
        """Wait for a step in flight, then release the sessions; later calls raise
        LandmarkerClosedError."""
        if self._guard.close():
            self._streams.clear()
            self._pipeline = None

    def __enter__(self) -> MultiStreamPoseLandmarker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _stream(self, stream_id: Hashable) -> _OpenStream:
        if stream_id not in self._streams:
            raise InvalidValueError(f"no open stream with id {stream_id!r}")
        return self._streams[stream_id]
