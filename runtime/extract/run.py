"""`extract`: poses of many photos and videos into a Parquet dataset, resumable, on the local
engine (worker processes) or on a Ray cluster."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from blazepose_onnx.common.errors import EXIT_SOME_FAILED, EXIT_TRUNCATED, InvalidValueError
from blazepose_onnx.common.install import require
from blazepose_onnx.common.plural import counted
from blazepose_onnx.extract.models import model_hashes
from blazepose_onnx.extract.progress import Progress
from blazepose_onnx.extract.ray_engine import CONNECT_TIMEOUT, ray_session, run_ray
from blazepose_onnx.extract.schema import FAILED, OK, Entry, PoseRows
from blazepose_onnx.extract.sources import VIDEO, Source, expand_sources
from blazepose_onnx.extract.store import Store
from blazepose_onnx.extract.work import Job, one_line
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.builtin_detectors import is_builtin

ENGINES = ("local", "ray")
PHOTOS_PER_UNIT = 32
RESULT_OPTIONS = (
    "model",
    "precision",
    "num_poses",
    "min_pose_detection_confidence",
    "min_pose_presence_confidence",
    "min_tracking_confidence",
)


@dataclass
class Summary:
    """What a run did: the sources asked for by status (those done before included), what
    this run processed, and the failures.

    Attributes:
        out: the dataset's location.
        sources: every source asked for.
        skipped: those done before (not processed again).
        ok: those processed now without error.
        failed: those that failed (now or before, unless retried).
        truncated: videos that ended before their stream did (the frames read were kept).
        frames: frames (photos count one) processed by this run.
        seconds: this run's wall time.
        failures: (source, reason) of each source that failed.
    """

    out: str
    sources: int = 0
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    truncated: int = 0
    frames: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        """Frames processed per second of this run (0 when nothing ran)."""
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def exit_code(self) -> int:
        """0 when every source is ok; EXIT_SOME_FAILED when some failed, else EXIT_TRUNCATED
        when some videos were truncated (the exit codes of `blazepose video`)."""
        if self.failed:
            return EXIT_SOME_FAILED
        return EXIT_TRUNCATED if self.truncated else 0

    def count(self, sources: list[Source], entries: dict[str, Entry]) -> None:
        """Count `sources` by the status of their entries (none: failed)."""
        for source in sources:
            entry = entries.get(source.path)
            status = entry.status if entry else FAILED
            setattr(self, status, getattr(self, status) + 1)
            if status != OK:
                self.failures.append((source.path, f"{status}: {entry.error if entry else ''}"))

    def lines(self, shown: int = 5) -> list[str]:
        """The summary as text: counts and speed, then the first `shown` failures."""
        lines = [
            f"{self.out}: {counted(self.sources, 'source')}: {self.ok} ok, {self.failed} failed, "
            f"{self.truncated} truncated ({self.skipped} done before); this run: "
            f"{self.frames} frames in {self.seconds:.1f} s, {self.frames_per_second:.1f} frames/s"
        ]
        lines += [f"  {source}: {status}" for source, status in self.failures[:shown]]
        if len(self.failures) > shown:
            lines.append(f"  ... and {len(self.failures) - shown} more (see manifest.parquet)")
        return lines


def run_config(options: PoseLandmarkerOptions, rotate: int) -> dict:
    """What the rows depend on: the result-changing options and the model files' hashes."""
    chosen = {name: getattr(options, name) for name in RESULT_OPTIONS}
    chosen["model"] = os.fspath(chosen["model"])
    if os.path.exists(chosen["model"]):
        chosen["model"] = os.path.abspath(chosen["model"])
    chosen["rotate"] = rotate
    chosen["person_detector"] = _person_detector_name(options.person_detector)
    if options.person_detector is not None:  # tracking's cadence changes the rows then only
        chosen["person_detection_interval"] = options.person_detection_interval
    return {"options": json.dumps(chosen, sort_keys=True), **model_hashes(options)}


def _person_detector_name(detector: object) -> str | None:
    """How the config names a person detector: a built-in's name or its file (either hashed
    too), or a callable's name."""
    if detector is None or is_builtin(detector):
        return detector
    if isinstance(detector, (str, os.PathLike)):
        return os.path.abspath(detector)
    named = detector if hasattr(detector, "__qualname__") else type(detector)
    return f"{named.__module__}.{named.__qualname__}"


def _units(sources: list[Source]) -> list[list[Source]]:
    """A unit per video (the longest first, so none starts last) and batches of photos."""
    videos = sorted((s for s in sources if s.kind == VIDEO), key=_size, reverse=True)
    photos = [s for s in sources if s.kind != VIDEO]
    return [[v] for v in videos] + [
        photos[at : at + PHOTOS_PER_UNIT] for at in range(0, len(photos), PHOTOS_PER_UNIT)
    ]


def _size(source: Source) -> int:
    try:
        return os.stat(source.path).st_size
    except OSError:
        return 0


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # None where it cannot be told


def extract(
    sources: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    options: PoseLandmarkerOptions | None = None,
    *,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    gpus_per_worker: float = 0.0,
    rotate: int = 0,
    retry_failed: bool = False,
    overwrite: bool = False,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Summary:
    """Poses of every photo and video in `sources` into the Parquet dataset `out`
    (docs/datasets.md); sources done before with the same options and models are skipped.

    Args:
        sources: files, folders (searched recursively), globs and `@list.txt` files of paths.
        out: the dataset's folder (local, or a URI pyarrow's filesystems open).
        options: the landmarker's options (None: the defaults).
        engine: 'local' (worker processes) or 'ray' (tasks on a Ray cluster).
        workers: local worker processes (None: the cores divided by `options.num_threads`,
            which is then 1).
        address: the Ray cluster's address (None: a local one).
        gpus_per_worker: GPUs each Ray task asks for.
        rotate: the clockwise rotation (a multiple of 90) applied to every source.
        retry_failed: redo the sources that failed before.
        overwrite: redo every source (the dataset is cleared first).
        connect_timeout: seconds to reach the Ray cluster.

    Returns:
        The run's Summary; per-source failures are in it and in the manifest, not raised.

    Raises:
        InputError: no sources, a path on the command line that does not exist, `out` made with
            other options or models, or a Ray cluster that does not answer.
        InvalidValueError: a bad option (`PoseLandmarkerOptions.validated`, `engine`).
        MissingExtraError: `engine="ray"` without Ray.
        BlazePoseError: every error above is one; so is a model that cannot be loaded.
    """
    if engine not in ENGINES:
        raise InvalidValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "ray":  # before anything is read or written
        require("ray", "ray", "--engine ray")
    start = time.perf_counter()
    options = (options or PoseLandmarkerOptions()).validated()
    cores = _cores()
    threads = options.num_threads
    if threads is None:
        threads = max(1, cores // workers) if workers and engine == "local" else 1
        options = dataclasses.replace(options, num_threads=threads)
    found = expand_sources([os.fspath(s) for s in sources])
    # a Ray cluster is reached before anything is written: a wrong address leaves no dataset
    with ray_session(address, connect_timeout) if engine == "ray" else contextlib.nullcontext():
        store = Store.at(out)
        config = run_config(options, rotate)
        if overwrite:
            store.clear()
        store.check_config(config)
        before = store.entries()
        redo = (FAILED,) if retry_failed else ()
        pending = [s for s in found if s.path not in before or before[s.path].status in redo]
        job = Job(store, options, rotate, config)
        progress = Progress(len(found), before=len(found) - len(pending))
        summary = Summary(store.uri, sources=len(found), skipped=len(found) - len(pending))

        def done(unit: list[Source], result: list[Entry] | BaseException) -> None:
            if isinstance(result, BaseException):  # the unit's process died (and its retries)
                result = [_commit_failure(job, source, result) for source in unit]
            summary.frames += sum(e.frames for e in result)
            progress.update(len(unit), sum(e.frames for e in result))

        units = _units(pending)
        try:
            if units and engine == "ray":
                run_ray(job, units, threads, gpus_per_worker, workers, done)
            elif units:
                from blazepose_onnx.extract.local import run_local, start_pool
                from blazepose_onnx.pose_landmarker import PoseLandmarker

                count = min(workers or max(1, cores // threads), len(units))
                pool = start_pool(job, units, count)  # the workers start while the model is checked
                try:
                    PoseLandmarker.create_from_options(options).close()  # a bad model fails here
                except BaseException:
                    pool.shutdown(cancel_futures=True)
                    raise
                run_local(job, units, pool, count, done)
        finally:
            progress.close()
        entries = store.entries()
        store.write_manifest(list(entries.values()))
        summary.count(found, entries)
        summary.seconds = time.perf_counter() - start
        return summary


def _commit_failure(job: Job, source: Source, error: BaseException) -> Entry:
    entry = dataclasses.replace(job.entry(source), status=FAILED, error=one_line(error))
    job.store.write_source(PoseRows(source.path).table(entry))
    return entry
