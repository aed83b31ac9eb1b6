"""LIVE_STREAM delivery: a worker thread, at most one waiting frame, results to a callback."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from blazepose_onnx.errors import LandmarkerClosedError

log = logging.getLogger(__name__)


class LiveStreamWorker:
    """Runs `process(payload, timestamp_ms) -> (result, image)` off the caller's thread and hands
    `(result, image, timestamp_ms)` to `callback`.

    While one frame is in flight, one newer frame may wait; a frame still waiting when a newer
    one arrives is dropped (`dropped` counts them). An exception in the callback is logged and
    the stream goes on. `close()` finishes the frame in flight and the waiting one, then joins.
    """

    def __init__(
        self,
        process: Callable[[Any, int], tuple[Any, np.ndarray]],
        callback: Callable[[Any, np.ndarray, int], None],
    ) -> None:
        self._process = process
        self._callback = callback
        self._condition = threading.Condition()
        self._waiting: tuple[Any, int] | None = None
        self._closing = False
        self.dropped = 0
        self.delivered = 0
        self._thread = threading.Thread(target=self._run, name="blazepose-live-stream", daemon=True)
        self._thread.start()

    def submit(self, payload: Any, timestamp_ms: int) -> None:
        """Queue a frame without waiting for inference."""
        with self._condition:
            if self._closing:
                raise LandmarkerClosedError("detect_async() called after close()")
            if self._waiting is not None:
                self.dropped += 1
            self._waiting = (payload, timestamp_ms)
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._waiting is None and not self._closing:
                    self._condition.wait()
                if self._waiting is None:
                    return
                payload, timestamp_ms = self._waiting
                self._waiting = None
            try:
                result, image = self._process(payload, timestamp_ms)
            except Exception:
                log.exception("pose landmarker failed on the frame at %d ms", timestamp_ms)
                continue
            try:
                self._callback(result, image, timestamp_ms)
            except Exception:
                log.exception(
                    "result_callback raised on the frame at %d ms; the stream goes on", timestamp_ms
                )
            self.delivered += 1

    def is_current_thread(self) -> bool:
        """Whether the caller is the worker thread itself (inside the result callback)."""
        return threading.current_thread() is self._thread

    def close(self) -> None:
        """Process what is queued, then stop the worker thread (joined unless called from the
        result callback, which runs on that thread)."""
        with self._condition:
            self._closing = True
            self._condition.notify()
        if not self.is_current_thread():
            self._thread.join()
