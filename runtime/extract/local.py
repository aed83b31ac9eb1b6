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
from blazepose_onnx.extract.work import Job, prepare, run_unit

PR_SET_PDEATHSIG = 1
TRIES = 3  # pool breaks a unit may be in flight at before it fails


def _init_worker(job: Job, kinds: frozenset[str]) -> None:
    """A worker dies with the command, even when it is SIGKILLed (Linux), and builds its
    landmarkers before its first unit."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    from blazepose_onnx.common.quiet import silence_opencv_logging

    silence_opencv_logging()
    prepare(job, kinds)


def start_pool(job: Job, units: list[list[Source]], workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes, started now: each builds the landmarkers `units` need
    while the caller goes on."""
    context = multiprocessing.get_context("spawn")  # no forked ONNX Runtime or decoder threads
    kinds = frozenset(unit[0].kind for unit in units)
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(job, kinds)
    )
    for _ in range(workers):  # processes start on demand: one per task submitted while none idles
        pool.submit(int)
    return pool


def run_local(
    job: Job,
    units: list[list[Source]],
    pool: ProcessPoolExecutor,
    workers: int,
    done: Callable[[list[Source], list[Entry] | BaseException], None],
) -> None:
    """Run `units` on `pool` (`start_pool`'s, of `workers`), a few per worker in flight; `done(unit,
    entries or the error)` as each ends. When a worker process dies (killed, a crashing
    decoder) the pool breaks: the units in flight go to a new pool, and a unit in flight at
    TRIES breaks fails. Ctrl-C and SIGTERM end the run (run it again to resume); the pool is
    shut down in every case."""
    broken = False
    pending: dict[Future, list[Source]] = {}
    tries: dict[int, int] = {}
    again: list[list[Source]] = []
    queued = iter(units)
    try:
        while True:
            while not broken and len(pending) < 2 * workers:
                unit = again.pop() if again else next(queued, None)
                if unit is None:
                    break
                try:
                    future = pool.submit(run_unit, job, unit)
                except BrokenProcessPool:  # a worker died since the last wait: not in flight
                    again.append(unit)
                    broken = True
                    break
                pending[future] = unit
            if broken and not pending:
                pool.shutdown()
                pool, broken = start_pool(job, units, workers), False
                continue
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                unit, error = pending.pop(future), future.exception()
                if error is not None and not isinstance(error, Exception):
                    raise error  # the worker was interrupted: so is the run
                if isinstance(error, BrokenProcessPool):
                    broken = True
                    tries[id(unit)] = tries.get(id(unit), 0) + 1
                    if tries[id(unit)] < TRIES:
                        again.append(unit)
                        continue
                done(unit, error if error is not None else future.result())
    finally:
        pool.shutdown(cancel_futures=True)
