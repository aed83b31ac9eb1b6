"""Reading a video source, the one way `blazepose video` and `blazepose extract` read frames:
decode in order, keep every Nth frame or at most N per second of video time (`FrameSampler`),
stamp each with its time in the video, and, read to its end, say whether a file was cut short
(`truncation`: exit code 3 in both, `EXIT_TRUNCATED`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx.common.quiet import native_stderr_silenced
from blazepose_onnx.errors import InputError
from blazepose_onnx.io.inputs import is_stream_url
from blazepose_onnx.io.truncation import Truncation, truncation


def is_camera(source: str) -> bool:
    """Whether a video source is a camera index (0, 1, ...)."""
    return source.isdigit()


def is_file(source: str) -> bool:
    """Whether a video source is a file (not a camera index or a stream URL)."""
    return not (is_camera(source) or is_stream_url(source))


def open_video(source: str, threads: int | None = None) -> tuple[cv2.VideoCapture, float]:
    """An opened capture for a video file, a stream URL or a camera index, and its frame rate
    (30 if unknown). `threads`: a video file's decoder threads (default: FFmpeg's choice, all
    cores); cameras and streams keep their backend's own."""
    stream = is_stream_url(source)
    if is_file(source):
        if not Path(source).is_file():
            raise InputError(f"no such video file: {source}")
        if cv2.haveImageReader(source):
            raise InputError(f"{source} is a still image, not a video (use blazepose detect)")
    with native_stderr_silenced():
        params = [] if threads is None or not is_file(source) else [cv2.CAP_PROP_N_THREADS, threads]
        target = int(source) if is_camera(source) else source
        capture = cv2.VideoCapture(target, cv2.CAP_ANY, params)
    if not capture.isOpened():
        if is_camera(source):
            raise InputError(f"camera {source} could not be opened")
        raise InputError(
            f"stream {source} could not be opened" if stream else f"not a readable video: {source}"
        )
    fps = capture.get(cv2.CAP_PROP_FPS)
    return capture, fps if fps and fps > 0 else 30.0


@dataclass
class FrameSampler:
    """Which frames are processed: every `stride`-th, or at most `fps` per second of video
    time (the first frame of each 1/fps interval). Timestamps stay those of the video."""

    stride: int = 1
    fps: float | None = None
    _last_slot: int = -1

    def keep(self, index: int, timestamp_ms: int) -> bool:
        if self.fps is None:
            return index % self.stride == 0
        slot = int(timestamp_ms * self.fps / 1000 + 1e-9)
        if slot == self._last_slot:
            return False
        self._last_slot = slot
        return True

    def output_fps(self, source_fps: float) -> float:
        """The frame rate of a video of the kept frames."""
        return min(self.fps, source_fps) if self.fps else source_fps / self.stride


@dataclass(frozen=True)
class VideoFrame:
    """A kept frame: its index among all the source's frames, its time in the video, its
    pixels as RGB uint8."""

    index: int
    timestamp_ms: int
    rgb: np.ndarray


class VideoReader:
    """A video source's kept frames, in order, as `VideoFrame`s; InputError for a source that
    cannot be opened or has no frame. Use as a context manager (or `close()`).

    `threads`: a file's decoder threads (`open_video`). `silence_stderr` keeps the decoder's own
    messages off stderr while a frame is read; that silences the whole process's stderr for the
    call, so a reader whose process logs from other threads meanwhile (LIVE_STREAM) reads
    without it. After the iteration, `frames_read` counts every frame decoded, and `ended`
    whether the source was read to its end (not stopped early).
    """

    def __init__(
        self,
        source: str,
        sampler: FrameSampler | None = None,
        threads: int | None = None,
        silence_stderr: bool = False,
    ) -> None:
        self.source = source
        self.sampler = sampler or FrameSampler()
        self.silence_stderr = silence_stderr
        self.capture, self.fps = open_video(source, threads)
        self.frames_read = 0
        self.ended = False

    @property
    def frame_count_estimate(self) -> int:
        """The frames a file says it has, for a progress bar only (OpenCV's count may include
        an audio track's tail); 0 for cameras and streams."""
        return int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT)) if is_file(self.source) else 0

    def _read(self) -> np.ndarray | None:
        """The next BGR frame, or None at the end."""
        if not self.silence_stderr:
            ok, frame = self.capture.read()
        else:
            with native_stderr_silenced():
                ok, frame = self.capture.read()
        return frame if ok else None

    def __iter__(self) -> Iterator[VideoFrame]:
        for index in itertools.count():
            frame = self._read()
            if frame is None:
                self.ended = True
                if index == 0:
                    raise InputError(f"no frames in video {self.source}")
                return
            self.frames_read = index + 1
            timestamp_ms = round(index * 1000 / self.fps)
            if self.sampler.keep(index, timestamp_ms):
                yield VideoFrame(index, timestamp_ms, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))

    def truncation(self) -> Truncation | None:
        """How a file read to its end fell short of its video stream (None: it did not, or it
        was not read to its end, or it is a camera or a stream)."""
        if not (self.ended and is_file(self.source)):
            return None
        return truncation(self.source, self.frames_read)

    def close(self) -> None:
        self.capture.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_frames(source: str, limit: int | None = None) -> list[np.ndarray]:
    """Up to `limit` frames (all when None) of a video file or camera, as RGB uint8."""
    with VideoReader(source) as reader:
        return [frame.rgb for frame in itertools.islice(reader, limit)]
