"""The backend benchmark behind `blazepose bench`: providers x variants x modes x batch sizes.

Each configuration is warmed up, then timed for `iterations` steps; per step it records the
end-to-end time and the time inside each model, so p50/p90/p99 come per stage (detector,
landmarker, everything else) together with frames per second. MediaPipe's own PoseLandmarker is
timed in the same run when it is installed and given loadable bundles.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort
from blazepose_onnx.multistream import MultiStreamPoseLandmarker
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker

STAGES = ("total", "detector", "landmarker", "other")


@dataclass
class BenchResult:
    """One configuration's latency percentiles (ms per step) and throughput."""

    implementation: str
    provider: str
    variant: str
    mode: str
    batch: int
    threads: str
    iterations: int
    frames_per_second: float
    percentiles_ms: dict[str, dict[str, float]] = field(default_factory=dict)


def _percentiles(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        stage: {f"p{q}": float(np.percentile(np.array(values) * 1e3, q)) for q in (50, 90, 99)}
        for stage, values in samples.items()
        if values
    }


def _time_steps(
    step: Callable[[], None], model_seconds: dict[str, float] | None, warmup: int, iterations: int
) -> dict[str, list[float]]:
    for _ in range(warmup):
        step()
    samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(iterations):
        before = dict(model_seconds) if model_seconds is not None else None
        start = time.perf_counter()
        step()
        total = time.perf_counter() - start
        samples["total"].append(total)
        if before is not None:
            detector = model_seconds["detector"] - before["detector"]
            landmarker = model_seconds["landmarker"] - before["landmarker"]
            samples["detector"].append(detector)
            samples["landmarker"].append(landmarker)
            samples["other"].append(total - detector - landmarker)
    return samples


def _result(
    implementation: str,
    provider: str,
    variant: str,
    mode: str,
    batch: int,
    threads: str,
    samples: dict[str, list[float]],
    frames_per_step: int,
) -> BenchResult:
    fps = frames_per_step / float(np.median(samples["total"]))
    return BenchResult(
        implementation,
        provider,
        variant,
        mode,
        batch,
        threads,
        len(samples["total"]),
        fps,
        _percentiles(samples),
    )


def bench_image(
    provider: str,
    variant: str,
    images: Sequence[np.ndarray],
    batch: int,
    warmup: int,
    iterations: int,
    threads: int | None = None,
) -> BenchResult:
    """IMAGE mode: `detect_batch` on `batch` images per step (batch 1 = `detect`)."""
    options = PoseLandmarkerOptions(model=variant, providers=[provider], num_threads=threads)
    chosen = [images[i % len(images)] for i in range(batch)]
    with PoseLandmarker.create_from_options(options) as landmarker:
        if batch == 1:
            step = partial(landmarker.detect, chosen[0])
        else:
            step = partial(landmarker.detect_batch, chosen)
        samples = _time_steps(step, landmarker._pipeline.model_seconds, warmup, iterations)
    return _result(
        "blazepose-onnx", provider, variant, "image", batch, str(threads or "all"), samples, batch
    )


def bench_video(
    provider: str,
    variant: str,
    frames: Sequence[np.ndarray],
    streams: int,
    warmup: int,
    iterations: int,
    threads: int | None = None,
) -> BenchResult:
    """VIDEO mode: `streams` tracked streams stepped together through one pair of sessions."""
    options = PoseLandmarkerOptions(model=variant, providers=[provider], num_threads=threads)
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

        samples = _time_steps(step, landmarker._pipeline.model_seconds, warmup, iterations)
    return _result(
        "blazepose-onnx",
        provider,
        variant,
        "video",
        streams,
        str(threads or "all"),
        samples,
        streams,
    )


def bench_parallel_video(
    provider: str, variant: str, frames: Sequence[np.ndarray], streams: int, iterations: int
) -> BenchResult:
    """Throughput of `streams` independent VIDEO landmarkers, one thread each, run concurrently."""
    landmarkers = [
        PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(
                model=variant, providers=[provider], num_threads=1, running_mode=RunningMode.VIDEO
            )
        )
        for _ in range(streams)
    ]

    def run(landmarker: PoseLandmarker, count: int, first: int) -> None:
        for i in range(count):
            landmarker.detect_for_video(frames[i % len(frames)], (first + i) * 33)

    for landmarker in landmarkers:
        run(landmarker, 5, 0)
    workers = [threading.Thread(target=run, args=(lm, iterations, 5)) for lm in landmarkers]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - start
    for landmarker in landmarkers:
        landmarker.close()
    per_frame = wall / iterations
    return BenchResult(
        "blazepose-onnx",
        provider,
        variant,
        "video-parallel",
        streams,
        "1 each",
        iterations,
        streams * iterations / wall,
        {"total": {"p50": per_frame * 1e3, "p90": per_frame * 1e3, "p99": per_frame * 1e3}},
    )


def bench_mediapipe(
    bundle_dir: Path,
    variant: str,
    mode: str,
    images: Sequence[np.ndarray],
    frames: Sequence[np.ndarray],
    warmup: int,
    iterations: int,
) -> BenchResult | None:
    """MediaPipe's own PoseLandmarker on the same inputs, or None when it is not available."""
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError:
        return None
    bundle = bundle_dir / f"pose_landmarker_{variant}.task"
    running = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
    try:
        landmarker = vision.PoseLandmarker.create_from_options(
            vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(bundle)), running_mode=running
            )
        )
    except Exception:  # bundles without TFLite metadata cannot be loaded by MediaPipe
        return None
    with landmarker:
        if mode == "video":
            wrapped = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
            counter = iter(range(10**9))

            def step() -> None:
                i = next(counter)
                landmarker.detect_for_video(wrapped[i % len(wrapped)], i * 33)
        else:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=images[0])

            def step() -> None:
                landmarker.detect(image)

        samples = _time_steps(step, None, warmup, iterations)
    return _result(
        f"MediaPipe {mp.__version__}", "tflite-xnnpack", variant, mode, 1, "own", samples, 1
    )


def machine_info() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "providers": ", ".join(ort.get_available_providers()),
        "platform": platform.platform(),
    }


def to_markdown(results: Sequence[BenchResult], machine: dict[str, str]) -> str:
    """A Markdown table, with MediaPipe's matching configuration as the reference ratio."""
    lines = [
        f"Machine: {machine['cpu']}, {machine['logical_cores']} logical cores, onnxruntime "
        f"{machine['onnxruntime']} ({machine['providers']}).",
        "",
        "| implementation | provider | variant | mode | batch/streams | threads | p50 ms | p90 ms "
        "| p99 ms | detector p50 | landmarker p50 | other p50 | frames/s | vs MediaPipe |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reference = {
        (r.variant, r.mode): r for r in results if r.implementation.startswith("MediaPipe")
    }
    for r in results:
        p = r.percentiles_ms
        stage = [
            f"{p[s]['p50']:.2f}" if s in p else "" for s in ("detector", "landmarker", "other")
        ]
        mp_ref = reference.get((r.variant, "video" if r.mode.startswith("video") else r.mode))
        ratio = (
            f"{mp_ref.frames_per_second and r.frames_per_second / mp_ref.frames_per_second:.2f}x "
            "throughput"
            if mp_ref and mp_ref is not r
            else ""
        )
        lines.append(
            f"| {r.implementation} | {r.provider} | {r.variant} | {r.mode} | {r.batch} | "
            f"{r.threads} | {p['total']['p50']:.2f} | {p['total']['p90']:.2f} | "
            f"{p['total']['p99']:.2f} | "
            + " | ".join(stage)
            + f" | {r.frames_per_second:.1f} | {ratio} |"
        )
    return "\n".join(lines)


def to_json(results: Sequence[BenchResult], machine: dict[str, str]) -> str:
    return json.dumps({"machine": machine, "results": [asdict(r) for r in results]}, indent=1)
