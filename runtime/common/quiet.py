"""Keeping native libraries' own messages (libjpeg, FFmpeg, TensorFlow) off the terminal:
our errors say what went wrong, in one line."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Silence what C libraries (libjpeg, FFmpeg) print to stderr: our error says it in one line."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def silence_opencv_logging() -> None:
    """OpenCV's own log lines off (our errors say what failed). `cv2.utils.logging` exists in
    OpenCV 5 builds; 4.x wheels have only `cv2.setLogLevel` (0 = silent)."""
    import cv2

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    elif hasattr(cv2, "setLogLevel"):
        cv2.setLogLevel(0)


def quiet_ffmpeg() -> None:
    """FFmpeg's own messages (a damaged frame, a missing index) off, for the videos this process
    opens from now on, without touching stderr: OpenCV reads OPENCV_FFMPEG_LOGLEVEL when it
    first opens a video, so call this before (later calls change nothing). -8 is AV_LOG_QUIET."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
