"""Progress of a run on a terminal: sources done of all, frames, frames/s and the time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """One line on `stream`, redrawn as sources finish; silent unless it is a terminal. The
    time left is estimated from this run's sources (`before`: those done by earlier runs)."""

    def __init__(self, total: int, before: int = 0, stream: TextIO = sys.stderr) -> None:
        self.total, self.before, self.done, self.frames = total, before, before, 0
        self.stream = stream
        self.enabled = total > 0 and stream.isatty()
        self.start = time.perf_counter()

    def update(self, sources: int, frames: int) -> None:
        self.done += sources
        self.frames += frames
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        run = self.done - self.before
        left = elapsed / run * (self.total - self.done) if run else 0.0
        self.stream.write(
            f"\rsources {self.done}/{self.total}, frames {self.frames}, "
            f"{self.frames / elapsed:.1f} frames/s, ETA {_clock(left)}  "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
