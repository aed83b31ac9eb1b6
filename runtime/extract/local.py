"""The local engine: worker processes on this machine, one landmarker each, one unit at a time."""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from blazepose_onnx.extract.schema import Entry
from blazepose_onnx.extract.sources import Source
from blazepose_onnx.extract.work import Job, run_unit

PR_SET_PDEATHSIG = 1


def _init_worker() -> None:
    """A worker dies with the command, even when it is SIGKILLed (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    from blazepose_onnx.quiet import silence_opencv_logging

    silence_opencv_logging()


def _pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")  # no forked ONNX Runtime or decoder threads
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)


def run_local(
    job: Job,
    units: list[list[Source]],
    workers: int,
    done: Callable[[list[Source], list[Entry] | BaseException], None],
) -> None:
    """Run `units` on `workers` processes, a few per worker in flight; `done(unit, entries or
    the error)` as each ends. A worker process that dies (a crashing decoder) fails the units
    in flight and a new pool takes the rest. Ctrl-C and SIGTERM end the run (rerun resumes)."""
    pool = _pool(workers)
    pending: dict[Future, list[Source]] = {}
    queued = iter(units)
    try:
        while True:
            while len(pending) < 2 * workers and (unit := next(queued, None)) is not None:
                pending[pool.submit(run_unit, job, unit)] = unit
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                error = future.exception()
                if error is not None and not isinstance(error, Exception):
                    raise error  # the worker was interrupted: so is the run
                done(pending.pop(future), error if error is not None else future.result())
                if isinstance(error, BrokenProcessPool) and not pending:
                    pool.shutdown()
                    pool = _pool(workers)
    finally:
        pool.shutdown(cancel_futures=True)
