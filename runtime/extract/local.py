"""The local engine: worker processes on this machine, one landmarker each, one unit at a time."""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from blazepose_onnx.extract.schema import Entry
from blazepose_onnx.extract.sources import Source
from blazepose_onnx.extract.work import Job, run_unit

PR_SET_PDEATHSIG = 1


def _init_worker() -> None:
    """A worker dies with the command (even on SIGKILL, on Linux) and leaves Ctrl-C to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    from blazepose_onnx.quiet import silence_opencv_logging

    silence_opencv_logging()


def run_local(
    job: Job,
    units: list[list[Source]],
    workers: int,
    done: Callable[[list[Source], list[Entry] | BaseException], None],
) -> None:
    """Run `units` on `workers` processes; `done(unit, entries or the error)` as each ends."""
    context = multiprocessing.get_context("spawn")  # no forked ONNX Runtime or decoder threads
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        pending: dict[Future, list[Source]] = {}
        queued = iter(units)
        for unit in queued:  # a few per worker in flight, the rest submitted as they finish
            pending[pool.submit(run_unit, job, unit)] = unit
            if len(pending) >= 2 * workers:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                unit = pending.pop(future)
                error = future.exception()
                done(unit, error if error is not None else future.result())
                following = next(queued, None)
                if following is not None:
                    pending[pool.submit(run_unit, job, following)] = following
