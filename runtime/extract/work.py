"""One unit of work, the same on every engine: a video (its tracking state stays in one
landmarker), or a batch of photos through `detect_batch`; each source's rows and manifest entry
are committed to the store as the source finishes."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx._version import __version__
from blazepose_onnx.common.quiet import quiet_ffmpeg
from blazepose_onnx.errors import InputError
from blazepose_onnx.extract.models import model_hashes
from blazepose_onnx.extract.prefetch import prefetched
from blazepose_onnx.extract.schema import FAILED, TRUNCATED, Entry, PoseRows
from blazepose_onnx.extract.sources import PHOTO, VIDEO, Source
from blazepose_onnx.extract.store import Store
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import VideoReader
from blazepose_onnx.multistream import MultiStreamPoseLandmarker
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pose_landmarker import PoseLandmarker

PHOTO_BATCH = 8  # photos per detect_batch call
# One landmarker per worker process, kind, options and model files (`_landmarker`): its sessions
# serve every unit, and each video is a stream of its own (fresh tracking), so a video's rows
# equal detect_for_video's.
_LANDMARKERS: dict[tuple[type, str, tuple], PoseLandmarker | MultiStreamPoseLandmarker] = {}
_VIDEO_IDS = itertools.count()
LANDMARKER_OF = {VIDEO: MultiStreamPoseLandmarker, PHOTO: PoseLandmarker}  # by unit kind


@dataclass(frozen=True)
class Job:
    """What every unit of one run shares: where rows go, how they are made, and the options
    and model hashes (`config`) every entry records."""

    store: Store
    options: PoseLandmarkerOptions
    rotate: int
    config: dict

    def entry(self, source: Source) -> Entry:
        return Entry(
            source=source.path,
            kind=source.kind,
            options=self.config["options"],
            detector_sha256=self.config["detector_sha256"],
            landmarker_sha256=self.config["landmarker_sha256"],
            version=__version__,
        )


def run_unit(job: Job, unit: list[Source]) -> list[Entry]:
    """Extract a unit (one video, or photos) and commit each source; their entries."""
    hashes = _set_up(job)
    if unit[0].kind == VIDEO:
        return [_video(job, source, hashes) for source in unit]
    return _photos(job, unit, hashes)


def prepare(job: Job, kinds: frozenset[str]) -> None:
    """Build this process's landmarkers for units of `kinds` before its first unit arrives
    (a worker's start-up then overlaps the run's own); a failure is left to `run_unit`, which
    raises it with the unit."""
    try:
        hashes = _set_up(job)
        for kind in kinds:
            _landmarker(LANDMARKER_OF[kind], job.options, hashes)
    except Exception:
        return


def _set_up(job: Job) -> dict[str, str]:
    """Check that this process's model files are the run's and set its threads; their hashes."""
    hashes = model_hashes(job.options)
    if any(job.config[name] != value for name, value in hashes.items()):
        raise InputError(f"this worker's model files differ from the run's: {hashes}")
    if job.options.num_threads is not None:  # `extract` sets it for each worker
        cv2.setNumThreads(job.options.num_threads)  # colour conversion and crops: the worker's
    quiet_ffmpeg()  # before this process's first video: stderr stays open while frames are read
    return hashes


def one_line(exc: BaseException) -> str:
    """An error as one line: its message, or its type when it has none."""
    text = " ".join(str(exc).split())
    return text if isinstance(exc, InputError) and text else f"{type(exc).__name__}: {text}"


def _failed(entry: Entry, exc: BaseException) -> Entry:
    return dataclasses.replace(
        entry, status=FAILED, frames=0, frames_with_pose=0, poses=0, error=one_line(exc)
    )


def _video(job: Job, source: Source, hashes: dict[str, str]) -> Entry:
    start = time.perf_counter()
    entry, rows = job.entry(source), PoseRows(source.path)
    try:
        with VideoReader(source.path, threads=job.options.num_threads) as reader:
            streams = _landmarker(LANDMARKER_OF[VIDEO], job.options, hashes)
            stream = next(_VIDEO_IDS)
            streams.open_stream(stream, job.rotate)
            try:
                for frame in prefetched(reader):
                    result = streams.process({stream: (frame.rgb, frame.timestamp_ms)})[stream]
                    size = (frame.rgb.shape[1], frame.rgb.shape[0])
                    found = rows.add(frame.index, frame.timestamp_ms, result, size)
                    entry.frames += 1
                    entry.frames_with_pose += found > 0
                    entry.poses += found
            finally:
                streams.close_stream(stream)
        cut = reader.truncation()
        if cut is not None:
            entry.status, entry.error = TRUNCATED, str(cut)
    except Exception as exc:
        entry, rows = _failed(entry, exc), PoseRows(source.path)
    entry.seconds = time.perf_counter() - start
    job.store.write_source(rows.table(entry))
    return entry


def built_landmarkers() -> list[PoseLandmarker | MultiStreamPoseLandmarker]:
    """The landmarkers this process has built for its units so far."""
    return list(_LANDMARKERS.values())


def _landmarker(kind: type, options: PoseLandmarkerOptions, hashes: dict[str, str]):
    """This process's landmarker of `kind` for `options` and these model files (`hashes`: a
    file changed under a reused process gets new sessions), made on first use."""
    key = (kind, repr(options), tuple(sorted(hashes.items())))
    if key not in _LANDMARKERS:
        _LANDMARKERS[key] = kind(options)
    return _LANDMARKERS[key]


def _read_batches(sources: list[Source]) -> Iterator[list[tuple[Source, np.ndarray | Exception]]]:
    """Batches of (source, RGB image or the exception reading it raised)."""
    for at in range(0, len(sources), PHOTO_BATCH):
        batch: list[tuple[Source, np.ndarray | Exception]] = []
        for source in sources[at : at + PHOTO_BATCH]:
            try:
                batch.append((source, read_image(Path(source.path))))
            except Exception as exc:
                batch.append((source, exc))
        yield batch


def _photos(job: Job, sources: list[Source], hashes: dict[str, str]) -> list[Entry]:
    landmarker = _landmarker(LANDMARKER_OF[PHOTO], job.options, hashes)
    entries = []
    for batch in prefetched(_read_batches(sources), depth=2):
        start = time.perf_counter()
        images = [image for _, image in batch if isinstance(image, np.ndarray)]
        try:
            results = iter(landmarker.detect_batch(images, job.rotate))
        except Exception:  # one bad image (e.g. too large): each on its own
            results = iter(_each(landmarker, images, job.rotate))
        seconds = (time.perf_counter() - start) / len(batch)
        for source, image in batch:
            entry, rows = job.entry(source), PoseRows(source.path)
            result = image if isinstance(image, Exception) else next(results)
            if isinstance(result, BaseException):
                entry = _failed(entry, result)
            elif isinstance(image, np.ndarray):
                found = rows.add(0, 0, result, (image.shape[1], image.shape[0]))
                entry.frames, entry.frames_with_pose, entry.poses = 1, int(found > 0), found
            entry.seconds = seconds
            job.store.write_source(rows.table(entry))
            entries.append(entry)
    return entries


def _each(landmarker: PoseLandmarker, images: list[np.ndarray], rotate: int) -> list:
    """`detect` per image: its result, or the exception it raised."""
    results: list = []
    for image in images:
        try:
            results.append(landmarker.detect(image, rotate))
        except Exception as exc:
            results.append(exc)
    return results
