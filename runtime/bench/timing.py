"""Step timing shared by `blazepose bench` and the benchmark scripts: per-step seconds, split
into the time inside each model (from a landmarker's `model_stats`) and the rest (`STAGES`),
and their percentiles."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from blazepose_onnx.bench.results import STAGES

ModelStatsReader = Callable[[], Mapping[str, Mapping[str, float]]]
T = TypeVar("T")
FRAME_STEP_MS = 33


def elapsed(call: Callable[[], object]) -> float:
    """How long one call of `call` takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def frame_feeder(frames: Sequence[Any], call: Callable[[Any, int], object]) -> Callable[[], object]:
    """A no-argument step: `call(frame, timestamp_ms)` with the next frame (looping) and a
    timestamp 33 ms after the last."""
    counter = itertools.count()
    cycle = itertools.cycle(frames)
    return lambda: call(next(cycle), next(counter) * FRAME_STEP_MS)


def concurrently(work: Sequence[Callable[[], T]]) -> tuple[list[T | None], float]:
    """Run each callable in its own thread, all released at once: their results (None where
    one raised; its thread prints the traceback) and the wall time until the last ends."""
    results: list[T | None] = [None] * len(work)
    release = threading.Barrier(len(work) + 1)

    def run(k: int) -> None:
        release.wait()
        results[k] = work[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(work))]
    for thread in threads:
        thread.start()
    release.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - start


def timed_step(
    step: Callable[[], object],
    model_stats: ModelStatsReader | None,
    samples: dict[str, list[float]],
) -> None:
    """Run `step` once; append its time (s) to samples["total"] and, given a reader of the
    landmarker's `model_stats`, the time inside each model and the rest to the other `STAGES`."""
    before = model_stats() if model_stats is not None else None
    total = elapsed(step)
    samples["total"].append(total)
    if model_stats is not None and before is not None:
        after = model_stats()
        inside = {
            role: after[role]["seconds"] - before[role]["seconds"]
            for role in ("detector", "landmarker")
        }
        samples["detector"].append(inside["detector"])
        samples["landmarker"].append(inside["landmarker"])
        samples["other"].append(total - inside["detector"] - inside["landmarker"])


def time_steps(
    step: Callable[[], object],
    iterations: int,
    warmup: int = 0,
    model_stats: ModelStatsReader | None = None,
) -> dict[str, list[float]]:
    """`warmup` untimed calls of `step`, then `iterations` timed ones.

    Args:
        step: one timed unit of work.
        iterations: timed calls.
        warmup: untimed calls first.
        model_stats: a reader of the landmarker's `model_stats`, to split each call's time
            by model (`timed_step`).

    Returns:
        Seconds per call by stage: 'total', and with `model_stats` 'detector', 'landmarker'
        and 'other'.
    """
    for _ in range(warmup):
        step()
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(iterations):
        timed_step(step, model_stats, samples)
    return samples


def percentiles_ms(samples: Mapping[str, list[float]]) -> dict[str, dict[str, float]]:
    """p50/p90/p99 in milliseconds of each stage that has samples."""
    return {
        stage: {f"p{q}": float(np.percentile(np.array(values) * 1e3, q)) for q in (50, 90, 99)}
        for stage, values in samples.items()
        if values
    }
