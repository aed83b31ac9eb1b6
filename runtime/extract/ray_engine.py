"""The Ray engine: the same units as Ray tasks on a cluster. A worker that dies mid-unit is
retried by Ray; the unit's sources are committed atomically, so each is written once."""

from __future__ import annotations

from collections.abc import Callable

from blazepose_onnx.extract.schema import Entry
from blazepose_onnx.extract.sources import Source
from blazepose_onnx.extract.work import Job, run_unit

RETRIES = 3  # tries of a unit after its worker process died


def run_ray(
    job: Job,
    units: list[list[Source]],
    address: str | None,
    threads: int,
    gpus_per_worker: float,
    workers: int | None,
    done: Callable[[list[Source], list[Entry] | BaseException], None],
) -> None:
    """Run `units` as tasks of `threads` CPUs (and `gpus_per_worker` GPUs) each on the cluster
    at `address` ('auto', host:port, ray://...; None: RAY_ADDRESS or a new local cluster); at
    most `workers` at a time (default: as many as the cluster's resources allow)."""
    import ray  # extract() checked that it is installed

    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
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
