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
