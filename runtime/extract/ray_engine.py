"""The Ray engine: the same units as Ray tasks on a cluster. A worker that dies mid-unit is
retried by Ray; the unit's sources are committed atomically, so each is written once.

Connecting to an existing cluster is bounded: Ray's own client retries an address where no
cluster answers for many minutes, logging every try, so the connection is made within
`connect_timeout` seconds or fails with one line naming the address."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

from blazepose_onnx.errors import InputError
from blazepose_onnx.extract.schema import Entry
from blazepose_onnx.extract.sources import Source
from blazepose_onnx.extract.work import Job, run_unit

RETRIES = 3  # tries of a unit after its worker process died
CONNECT_TIMEOUT = 30.0  # seconds to reach an existing cluster (CLI: --connect-timeout)
RAY_OPTIONS = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}


@contextlib.contextmanager
def ray_session(address: str | None, timeout: float = CONNECT_TIMEOUT) -> Iterator[None]:
    """Connected, for the block, to the existing cluster at `address` ('auto', host:port,
    ray://...) or RAY_ADDRESS, within `timeout` seconds; with neither, `run_ray` starts a local
    cluster if there is work. Nothing to do where Ray is initialized already."""
    import ray  # extract() checked that it is installed

    target = address or os.environ.get("RAY_ADDRESS")
    if target is None or ray.is_initialized():
        yield
        return
    _connect(ray, target, timeout)
    try:
        yield
    finally:
        ray.shutdown()


def run_ray(
    job: Job,
    units: list[list[Source]],
    threads: int,
    gpus_per_worker: float,
    workers: int | None,
    done: Callable[[list[Source], list[Entry] | BaseException], None],
) -> None:
    """Run `units` as tasks of `threads` CPUs (and `gpus_per_worker` GPUs) each on the cluster
    connected to (`ray_session`); at most `workers` at a time (default: as many as the
    cluster's resources allow)."""
    import ray

    started = not ray.is_initialized()
    if started:  # a new local cluster
        ray.init(**RAY_OPTIONS)
    try:
        task = ray.remote(run_unit).options(
            num_cpus=threads, num_gpus=gpus_per_worker, max_retries=RETRIES, name="extract_unit"
        )
        limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1) // threads))
        pending: dict = {}
        queued = iter(units)
        while True:
            while len(pending) < 2 * limit and (unit := next(queued, None)) is not None:
                pending[task.remote(job, unit)] = unit
            if not pending:
                return
            (finished,), _ = ray.wait(list(pending), num_returns=1)
            unit = pending.pop(finished)
            try:
                entries = ray.get(finished)
            except ray.exceptions.RayError as exc:  # its retries failed too
                entries = exc
            done(unit, entries)
    finally:
        if started:
            ray.shutdown()


def _connect(ray, target: str, timeout: float) -> None:
    """`ray.init` to the existing cluster at `target`, once it answered within `timeout`
    seconds; InputError naming it otherwise."""
    deadline = time.monotonic() + timeout
    try:
        _check_listening(target, deadline)
        _probe(target, deadline)
    except TimeoutError:
        raise InputError(
            f"no Ray cluster answered at {target} within {timeout:g} s (--connect-timeout)"
        ) from None
    ray.init(address=target, **RAY_OPTIONS)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.1)


def _check_listening(target: str, deadline: float) -> None:
    """Fail at once, naming `target`, where nothing listens at its host and port (a typo, a
    stopped cluster); 'auto' and addresses without a port are left to the probe."""
    host, _, port = target.removeprefix("ray://").rpartition(":")
    if not (host and port.isdigit()):
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=_left(deadline)).close()
    except TimeoutError:
        raise
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise InputError(f"no Ray cluster at {target}: {reason}") from exc


PROBE = (
    "import sys, ray; ray.init(address=sys.argv[1], include_dashboard=False, "
    "log_to_driver=False, logging_level='ERROR'); ray.shutdown()"
)


def _probe(target: str, deadline: float) -> None:
    """Connect from a throwaway process first: where no cluster answers, Ray's client retries
    for many minutes, logging every try, and could not be stopped in this process; that one is
    killed at the deadline (TimeoutError) and its log dropped."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, target],
            capture_output=True,
            text=True,
            timeout=_left(deadline),
        )
    except subprocess.TimeoutExpired as exc:
        raise TimeoutError from exc
    if done.returncode != 0:
        said = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = said[-1] if said else f"exit code {done.returncode}"
        raise InputError(f"cannot connect to the Ray cluster at {target}: {reason}")
