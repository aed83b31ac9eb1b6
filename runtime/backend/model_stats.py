"""Time spent inside each model, counted thread-safely for the public `model_stats`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

ROLES = ("detector", "landmarker")


class ModelStats:
    """Per model: seconds inside its runs, the number of runs and of batch items (images for
    the detector, crops for the landmarker) they were given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = {role: {"seconds": 0.0, "runs": 0, "batch_items": 0} for role in ROLES}

    @contextmanager
    def timed(self, role: str, batch_items: int) -> Iterator[None]:
        """Count one run of `role` on `batch_items` inputs, timing the block."""
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            with self._lock:
                totals = self._totals[role]
                totals["seconds"] += seconds
                totals["runs"] += 1
                totals["batch_items"] += batch_items

    def snapshot(self) -> dict[str, dict[str, float]]:
        """A consistent copy of the totals."""
        with self._lock:
            return {role: dict(totals) for role, totals in self._totals.items()}
