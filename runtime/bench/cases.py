"""The timed cases of a benchmark, one configuration each: IMAGE batches, VIDEO streams stepped
together, independent VIDEO streams run in parallel, many people tracked in one stream, and
MediaPipe's own PoseLandmarker on the same inputs.

Each case is warmed up, then timed for `iterations` steps; per step it records the end-to-end
time and the time inside each model (`timing`), and gives a `CaseResult`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, cast

import numpy as np

from blazepose_onnx.backend.providers import default_num_threads
from blazepose_onnx.bench.composed_clips import compose, people_scene
from blazepose_onnx.bench.results import CaseResult
from blazepose_onnx.bench.timing import (
    STAGES,
    ModelStatsReader,
    concurrently,
    frame_feeder,
    percentiles_ms,
    time_steps,
)
from blazepose_onnx.converter import load_manifest
from blazepose_onnx.errors import InputError
from blazepose_onnx.multistream import MultiStreamPoseLandmarker
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.typing import Precision, ProviderName

OURS = "blazepose-onnx"


def threads_label(num_threads: int | None) -> str:
    """The threads per model that sessions made with `num_threads` use, as results name them:
    the count given, else BLAZEPOSE_NUM_THREADS's, else 'all' (ONNX Runtime's one per core)."""
    return str(num_threads or default_num_threads() or "all")


def case_options(
    provider: str, model: str, precision: str = "fp32", threads: int | None = None, **more: Any
) -> PoseLandmarkerOptions:
    """The options of a timed case: a provider that runs only part of a model is measured
    anyway (`provider_fallback`), its placement flagged in the results.

    Args:
        provider: the execution provider's short name.
        model: a variant name or model path.
        precision: 'fp32', 'fp16' or 'bf16'.
        threads: as `PoseLandmarkerOptions.num_threads`.
        **more: any other PoseLandmarkerOptions field.

    Returns:
        The options (checked when a landmarker is made from them).
    """
    return PoseLandmarkerOptions(  # the strings are checked when a landmarker validates them
        model=model,
        providers=[cast(ProviderName, provider)],
        provider_fallback=True,
        num_threads=threads,
        precision=cast(Precision, precision),
        **more,
    )


def placement_of(landmarker: PoseLandmarker | MultiStreamPoseLandmarker) -> dict[str, dict]:
    """A landmarker's placement per model, as the results keep it."""
    return {role: placed.to_dict() for role, placed in landmarker.placement.items()}


def stats_reader(landmarker: PoseLandmarker) -> ModelStatsReader:
    """A reader of the landmarker's `model_stats` now (for `timed_step`)."""
    return lambda: landmarker.model_stats


def _time(
    landmarker: PoseLandmarker | MultiStreamPoseLandmarker,
    step: Callable[[], object],
    warmup: int,
    iterations: int,
) -> tuple[dict[str, list[float]], dict[str, dict]]:
    """`step` warmed up and timed, split by model (`timing.time_steps`), and the landmarker's
    placement."""
    samples = time_steps(step, iterations, warmup, lambda: landmarker.model_stats)
    return samples, placement_of(landmarker)


def samples_in_ms(samples: dict[str, list[float]]) -> dict[str, list[float]]:
    """Every timed step's seconds per stage as milliseconds, to 0.1 us (what the JSON keeps)."""
    return {
        stage: [round(t * 1e3, 4) for t in values] for stage, values in samples.items() if values
    }


def _ours(
    options: PoseLandmarkerOptions,
    mode: str,
    size: int,
    samples: dict[str, list[float]],
    frames_per_step: int,
    warmup: int,
    placement: dict[str, dict],
    mean_rate: bool = False,
) -> CaseResult:
    """The result of a case of ours. `mean_rate`: frames/s from the mean step (steps differ
    in kind, as frames with and without a detector run), else from the median."""
    typical = np.mean if mean_rate else np.median
    provider = options.providers[0]
    return CaseResult(
        OURS,
        provider if isinstance(provider, str) else provider[0],
        str(options.model),
        mode,
        size,
        threads_label(options.num_threads),
        len(samples["total"]),
        frames_per_step / float(typical(samples["total"])),
        percentiles_ms(samples),
        options.precision,
        warmup,
        samples_in_ms(samples),
        placement,
    )


def time_image(
    options: PoseLandmarkerOptions,
    images: Sequence[np.ndarray],
    batch: int,
    warmup: int,
    iterations: int,
) -> CaseResult:
    """IMAGE mode: `detect_batch` on `batch` images per step (batch 1 = `detect`).

    Args:
        options: the landmarker's options (IMAGE mode).
        images: RGB images, taken in turn to fill each batch.
        batch: images per step.
        warmup: untimed steps first.
        iterations: timed steps.

    Returns:
        The case's timings, split by model, and where ONNX Runtime placed each model.

    Raises:
        BlazePoseError: as `PoseLandmarker.create_from_options` and `detect_batch`.
    """
    chosen = [images[i % len(images)] for i in range(batch)]
    with PoseLandmarker.create_from_options(options) as landmarker:
        step: Callable[[], object]
        if batch == 1:
            step = partial(landmarker.detect, chosen[0])
        else:
            step = partial(landmarker.detect_batch, chosen)
        samples, placement = _time(landmarker, step, warmup, iterations)
    return _ours(options, "image", batch, samples, batch, warmup, placement)


def time_video(
    options: PoseLandmarkerOptions,
    frames: Sequence[np.ndarray],
    streams: int,
    warmup: int,
    iterations: int,
) -> CaseResult:
    """VIDEO mode: `streams` tracked streams stepped together through one pair of sessions.

    Args:
        options: the landmarker's options.
        frames: the clip's RGB frames, each stream starting at its own offset.
        streams: streams per step (one `MultiStreamPoseLandmarker.process` call).
        warmup: untimed steps first.
        iterations: timed steps.

    Returns:
        The case's timings per step and where each model was placed.

    Raises:
        BlazePoseError: as `MultiStreamPoseLandmarker`.
    """
    offsets = [k * len(frames) // max(streams, 1) for k in range(streams)]
    counter = iter(range(10**9))
    with MultiStreamPoseLandmarker(options) as landmarker:
        for k in range(streams):
            landmarker.open_stream(k)

        def step() -> None:
            i = next(counter)
            landmarker.process(
                {k: (frames[(i + offsets[k]) % len(frames)], i * 33) for k in range(streams)}
            )

        samples, placement = _time(landmarker, step, warmup, iterations)
    return _ours(options, "video", streams, samples, streams, warmup, placement)


def time_people(
    options: PoseLandmarkerOptions,
    frames: Sequence[np.ndarray],
    people: int,
    warmup: int,
    iterations: int,
) -> CaseResult:
    """Many people tracked in one VIDEO stream (`person_detector="ssd"` alone, as users run it:
    everyone, the options' detection interval): `people` copies of the clip side by side
    (`composed_clips.people_scene`), played forth and back so that the loop has no jump.
    Frames/s from the mean step: frames with and without a detector run count as they come.

    Args:
        options: the landmarker's options (the person detector and VIDEO mode are set here).
        frames: the clip's RGB frames.
        people: copies of the clip side by side.
        warmup: untimed frames first.
        iterations: timed frames.

    Returns:
        The case's timings per frame and where each model was placed.

    Raises:
        BlazePoseError: as `PoseLandmarker.create_from_options` (the SSD person detector is
            fetched and converted on first use).
    """
    loop = 2 * (len(frames) - 1)
    clip = compose(frames, people_scene(people, loop, frames[0].shape[1::-1]))
    options = dataclasses.replace(options, running_mode=RunningMode.VIDEO, person_detector="ssd")
    with PoseLandmarker.create_from_options(options) as landmarker:
        step = frame_feeder(clip.frames, landmarker.detect_for_video)
        samples, placement = _time(landmarker, step, warmup, iterations)
    return _ours(options, "people", people, samples, 1, warmup, placement, mean_rate=True)


def time_parallel_video(
    options: PoseLandmarkerOptions,
    frames: Sequence[np.ndarray],
    streams: int,
    warmup: int,
    iterations: int,
) -> CaseResult:
    """`streams` independent VIDEO landmarkers, one thread each, run concurrently: per-frame
    times of every stream (after `warmup` untimed frames each) and the throughput of all.

    Args:
        options: the landmarkers' options (one thread each, VIDEO mode set here).
        frames: the clip's RGB frames.
        streams: landmarkers run at once.
        warmup: untimed frames per stream first.
        iterations: timed frames per stream.

    Returns:
        Every stream's per-frame timings pooled, and the throughput of all together.

    Raises:
        RuntimeError: a stream failed (its traceback is printed by its thread).
        BlazePoseError: as `PoseLandmarker.create_from_options`.
    """
    options = dataclasses.replace(options, num_threads=1, running_mode=RunningMode.VIDEO)
    landmarkers = [PoseLandmarker.create_from_options(options) for _ in range(streams)]
    placement = placement_of(landmarkers[0])
    steps = [frame_feeder(frames, landmarker.detect_for_video) for landmarker in landmarkers]
    try:
        for step in steps:
            for _ in range(warmup):
                step()
        samples, wall = concurrently(
            [
                partial(time_steps, step, iterations, model_stats=stats_reader(lm))
                for step, lm in zip(steps, landmarkers, strict=True)
            ]
        )
    finally:
        for landmarker in landmarkers:
            landmarker.close()
    finished = [one for one in samples if one]
    if len(finished) < len(samples):
        raise RuntimeError("a video-parallel stream failed (its traceback is above)")
    pooled = {stage: [t for one in finished for t in one[stage]] for stage in STAGES}
    result = _ours(options, "video-parallel", streams, pooled, streams, warmup, placement)
    return dataclasses.replace(
        result,
        threads="1 each",
        iterations=iterations,
        frames_per_second=streams * iterations / wall,
    )


def mediapipe_bundle(bundle_dir: Path, variant: str) -> Path:
    """Where a folder of MediaPipe-loadable bundles (`--mediapipe-bundles`) keeps `variant`."""
    return bundle_dir / f"pose_landmarker_{variant}.task"


def _mediapipe_landmarker(bundle: Path, mode: str):
    """MediaPipe's own PoseLandmarker on `bundle`, in VIDEO mode for "video", else IMAGE."""
    from mediapipe.tasks.python import BaseOptions, vision

    running = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
    return vision.PoseLandmarker.create_from_options(
        vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(bundle)), running_mode=running
        )
    )


def check_mediapipe(bundle_dir: Path, variants: Sequence[str]) -> None:
    """Refuse a comparison with MediaPipe that cannot run, before anything is timed.

    Args:
        bundle_dir: the folder of MediaPipe-loadable bundles (`--mediapipe-bundles`).
        variants: the variants to compare.

    Raises:
        InputError: MediaPipe is not installed, a bundle is missing, or MediaPipe cannot
            load one (with its reason and where loadable bundles come from).
    """
    if importlib.util.find_spec("mediapipe") is None:
        raise InputError("--mediapipe-bundles needs MediaPipe installed (pip install mediapipe)")
    if not bundle_dir.is_dir():
        raise InputError(f"--mediapipe-bundles: no such folder {bundle_dir}")
    bundles = {v: mediapipe_bundle(bundle_dir, v) for v in variants}
    missing = [bundle.name for bundle in bundles.values() if not bundle.is_file()]
    if missing:
        raise InputError(f"--mediapipe-bundles: {bundle_dir} has no {', '.join(missing)}")
    for variant, bundle in bundles.items():
        try:
            _mediapipe_landmarker(bundle, "image").close()
        except Exception as exc:  # MediaPipe raises FileNotFoundError, RuntimeError, ValueError
            raise InputError(_unloadable(bundle, variant, exc)) from exc


def _unloadable(bundle: Path, variant: str, exc: Exception) -> str:
    """One line: MediaPipe's reason for refusing `bundle`, and where loadable bundles come from."""
    reason = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    return (
        f"--mediapipe-bundles: MediaPipe cannot load {bundle}: {reason}; it needs bundles with "
        f"MediaPipe Tasks metadata: the official {load_manifest().bundle_urls[variant]}, or "
        "this one with metadata added by the repository's tests/golden/add_metadata.py IN.task "
        "OUT.task (run with mediapipe==0.10.18)"
    )


def time_mediapipe(
    bundle_dir: Path,
    variant: str,
    mode: str,
    images: Sequence[np.ndarray],
    frames: Sequence[np.ndarray],
    warmup: int,
    iterations: int,
) -> CaseResult:
    """MediaPipe's own PoseLandmarker on the same inputs (`check_mediapipe` first).

    Args:
        bundle_dir: as in `check_mediapipe`.
        variant: 'lite', 'full' or 'heavy'.
        mode: 'image' (one `detect` per step) or 'video' (`detect_for_video` on the clip).
        images: RGB images for 'image'.
        frames: RGB frames for 'video'.
        warmup: untimed steps first.
        iterations: timed steps.

    Returns:
        The case's total timings (MediaPipe's models are not timed apart).
    """
    import mediapipe as mp

    with _mediapipe_landmarker(mediapipe_bundle(bundle_dir, variant), mode) as landmarker:
        if mode == "video":
            wrapped = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
            step = frame_feeder(wrapped, landmarker.detect_for_video)
        else:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=images[0])

            def step() -> None:
                landmarker.detect(image)

        samples = time_steps(step, iterations, warmup)
    return CaseResult(
        f"MediaPipe {mp.__version__}",
        "tflite-xnnpack",
        variant,
        mode,
        1,
        "own",
        len(samples["total"]),
        1 / float(np.median(samples["total"])),
        percentiles_ms(samples),
        "fp32",
        warmup,
        samples_in_ms(samples),
    )
