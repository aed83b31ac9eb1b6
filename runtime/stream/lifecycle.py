"""Calls in flight and `close()`: a closed landmarker refuses calls, and close waits for the
calls already running, so none of them loses its sessions halfway."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from blazepose_onnx.errors import LandmarkerClosedError


class CallGuard:
    """Counts the calls in flight; after `close()` every new call raises LandmarkerClosedError."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self.closed = False

    @contextlib.contextmanager
    def call(self, method: str) -> Iterator[None]:
        """Run one call, or raise LandmarkerClosedError naming `method` when closed."""
        with self._condition:
            if self.closed:
                raise LandmarkerClosedError(f"{method}() called after close()")
            self._active += 1
        try:
            yield
        finally:
            with self._condition:
                self._active -= 1
                self._condition.notify_all()

    def close(self) -> bool:
        """Refuse new calls and wait for those in flight; False if already closed."""
        with self._condition:
            if self.closed:
                return False
            self.closed = True
            self._condition.wait_for(lambda: self._active == 0)
        return True
