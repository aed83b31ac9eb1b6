"""Annotated video files: H.264 (plays in browsers) through PyAV when it is installed, else
OpenCV's MPEG-4 Part 2 (`mp4v`; the opencv-python wheels have no H.264 encoder); every file is
checked after it is closed.

`cv2.VideoWriter.write` fails silently (a full disk leaves an unplayable file), so `close()`
reopens the file and raises `VideoWriteError` unless it holds every frame written.
"""

from __future__ import annotations

import contextlib
import importlib.util
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np


class VideoWriteError(OSError):
    """A video file could not be written completely."""


H264 = "H.264 (libx264, via PyAV)"
MPEG4 = "MPEG-4 Part 2 (mp4v, via OpenCV; install PyAV - the [video] extra - for H.264)"


def pyav_available() -> bool:
    return importlib.util.find_spec("av") is not None


class VideoFile:
    """Writes RGB uint8 frames of one size to `path` (an .mp4) and checks the result on close."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], h264: bool | None = None):
        self.path, self.size, self.frames = path, size, 0
        width, height = size
        even = width % 2 == 0 and height % 2 == 0  # H.264 in yuv420p needs even sides
        self._pyav = (pyav_available() if h264 is None else h264) and even
        self.codec = H264 if self._pyav else MPEG4
        if self._pyav:
            import av

            self._container = av.open(str(path), mode="w", format="mp4")
            self._stream = self._container.add_stream(
                "libx264", rate=Fraction(fps).limit_denominator(1001)
            )
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"preset": "veryfast"}  # keeps up with the pipeline
            self._av = av
        else:
            self._writer, self.codec = _opencv_writer(path, fps, size)

    def write(self, rgb: np.ndarray) -> None:
        """Append one frame (HxWx3 uint8 RGB, the size given at creation)."""
        try:
            if self._pyav:
                frame = self._av.VideoFrame.from_ndarray(rgb, format="rgb24")
                self._container.mux(self._stream.encode(frame))
            else:
                self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        except Exception as exc:  # PyAV's OSError (ENOSPC, EIO), cv2.error
            raise VideoWriteError(f"could not write video {self.path}: {exc}") from exc
        self.frames += 1

    def release(self) -> None:
        """Let the file go unfinished and unchecked (it is being thrown away)."""
        with contextlib.suppress(Exception):  # the run's own error is the one to report
            if self._pyav:
                self._container.close()
            else:
                self._writer.release()

    def close(self) -> None:
        """Finish the file, then check that it opens and holds every frame written."""
        try:
            if self._pyav:
                self._container.mux(self._stream.encode(None))
                self._container.close()
            else:
                self._writer.release()
        except Exception as exc:  # OSError, cv2.error, PyAV's FFmpegError
            raise VideoWriteError(f"could not write video {self.path}: {exc}") from exc
        problem = playback_problem(self.path, self.frames)
        if problem:
            raise VideoWriteError(f"could not write video {self.path}: {problem} (disk full?)")


def _opencv_writer(path: Path, fps: float, size: tuple[int, int]):
    """An OpenCV writer in MPEG-4 Part 2 (mp4v)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        writer.release()
        raise VideoWriteError(f"cannot write video {path}")
    return writer, MPEG4


def playback_problem(path: Path, frames: int) -> str | None:
    """Why a video file does not hold `frames` readable frames (None when it does): it must
    open, state that frame count, and decode its last frame."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return "the file does not open"
        stated = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if stated != frames:
            return f"it holds {stated} of the {frames} frames written"
        if frames and not (capture.set(cv2.CAP_PROP_POS_FRAMES, frames - 1) and capture.read()[0]):
            return "its last frame cannot be decoded"
        return None
    finally:
        capture.release()
