"""The backend benchmark behind `blazepose bench`: providers x variants x modes x batch sizes.

Each configuration is warmed up, then timed for `iterations` steps; per step it records the
end-to-end time and the time inside each model, so p50/p90/p99 come per stage (detector,
landmarker, everything else) together with frames per second; `--json` keeps every timed step's
milliseconds beside them (warm-up excluded), the inputs' digests, the command and the machine.
MediaPipe's own PoseLandmarker is timed in the same run when it is installed and given loadable
bundles.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from blazepose_onnx.cli.bench_arguments import BENCH_FORMAT, BENCH_VERSION, MODES, VIDEO_FRAMES
from blazepose_onnx.cli.timing import (
    STAGES,
    concurrently,
    frame_feeder,
    percentiles_ms,
    time_steps,
)
from blazepose_onnx.composed_clips import compose, people_scene
from blazepose_onnx.converter.fileio import write_bytes_atomic
from blazepose_onnx.converter.manifest import check_variant, load_manifest
from blazepose_onnx.inputs import InputError, read_frames, read_image
from blazepose_onnx.install import require_module
from blazepose_onnx.multistream import MultiStreamPoseLandmarker
from blazepose_onnx.options import PRECISIONS, PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.providers import available_providers, resolve_providers
from blazepose_onnx.report.document import placement_text


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
    precision: str = "fp32"
    warmup: int = 0
    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    # per model: nodes per execution provider (`Placement.to_dict`); empty for MediaPipe
    placement: dict[str, dict] = field(default_factory=dict)


def placement_of(landmarker: PoseLandmarker | MultiStreamPoseLandmarker) -> dict[str, dict]:
    """A landmarker's placement per model, as the JSON keeps it."""
    return {role: placed.to_dict() for role, placed in landmarker.placement.items()}


def partial_placement(result: BenchResult) -> list[str]:
    """'landmarker 180/185 nodes (5 on cpu)' per model whose nodes the case's provider does not
    all run (empty when it runs them all, or for MediaPipe)."""
    found = []
    for role, placed in result.placement.items():
        total, nodes = placed["total"], placed["nodes"]
        if nodes.get(result.provider, 0) != total:
            others = ", ".join(
                f"{n} on {p}" for p, n in sorted(nodes.items()) if p != result.provider
            )
            found.append(f"{role} {nodes.get(result.provider, 0)}/{total} nodes ({others})")
    return found


def samples_in_ms(samples: dict[str, list[float]]) -> dict[str, list[float]]:
    """Every timed step's seconds per stage as milliseconds, to 0.1 us (what the JSON keeps)."""
    return {
        stage: [round(t * 1e3, 4) for t in values] for stage, values in samples.items() if values
    }


def _result(
    implementation: str,
    provider: str,
    variant: str,
    mode: str,
    batch: int,
    threads: str,
    samples: dict[str, list[float]],
    frames_per_step: int,
    warmup: int,
    precision: str = "fp32",
    placement: dict[str, dict] | None = None,
    mean_rate: bool = False,
) -> BenchResult:
    """`mean_rate`: frames/s from the mean step (steps differ in kind, as frames with and
    without a detector run), else from the median."""
    typical = np.mean if mean_rate else np.median
    fps = frames_per_step / float(typical(samples["total"]))
    return BenchResult(
        implementation,
        provider,
        variant,
        mode,
        batch,
        threads,
        len(samples["total"]),
        fps,
        percentiles_ms(samples),
        precision,
        warmup,
        samples_in_ms(samples),
        placement or {},
    )


def _options(provider: str, variant: str, threads: int | None, precision: str, **more: Any):
    """The options of a timed case: a provider that runs only part of a model is measured
    anyway (`provider_fallback`), its placement flagged in the outputs."""
    return PoseLandmarkerOptions(
        model=variant,
        providers=[provider],
        provider_fallback=True,
        num_threads=threads,
        precision=precision,
        **more,
    )


def bench_image(
    provider: str,
    variant: str,
    images: Sequence[np.ndarray],
    batch: int,
    warmup: int,
    iterations: int,
    threads: int | None = None,
    precision: str = "fp32",
) -> BenchResult:
    """IMAGE mode: `detect_batch` on `batch` images per step (batch 1 = `detect`)."""
    options = _options(provider, variant, threads, precision)
    chosen = [images[i % len(images)] for i in range(batch)]
    with PoseLandmarker.create_from_options(options) as landmarker:
        if batch == 1:
            step = partial(landmarker.detect, chosen[0])
        else:
            step = partial(landmarker.detect_batch, chosen)
        samples = time_steps(step, iterations, warmup, lambda: landmarker.model_stats)
        placement = placement_of(landmarker)
    return _result(
        "blazepose-onnx",
        provider,
        variant,
        "image",
        batch,
        str(threads or "all"),
        samples,
        batch,
        warmup,
        precision,
        placement,
    )


def bench_video(
    provider: str,
    variant: str,
    frames: Sequence[np.ndarray],
    streams: int,
    warmup: int,
    iterations: int,
    threads: int | None = None,
    precision: str = "fp32",
) -> BenchResult:
    """VIDEO mode: `streams` tracked streams stepped together through one pair of sessions."""
    options = _options(provider, variant, threads, precision)
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

        samples = time_steps(step, iterations, warmup, lambda: landmarker.model_stats)
        placement = placement_of(landmarker)
    return _result(
        "blazepose-onnx",
        provider,
        variant,
        "video",
        streams,
        str(threads or "all"),
        samples,
        streams,
        warmup,
        precision,
        placement,
    )


def bench_people(
    provider: str,
    variant: str,
    frames: Sequence[np.ndarray],
    people: int,
    warmup: int,
    iterations: int,
    threads: int | None = None,
    precision: str = "fp32",
) -> BenchResult:
    """Many people tracked in one VIDEO stream (`person_detector="ssd"` alone, as users run it:
    everyone, the default detection interval): `people` copies of the clip side by side
    (`composed_clips.people_scene`), played forth and back so that the loop has no jump.
    Frames/s from the mean step: frames with and without a detector run count as they come."""
    loop = 2 * (len(frames) - 1)
    clip = compose(frames, people_scene(people, loop, frames[0].shape[1::-1]))
    options = PoseLandmarkerOptions(
        model=variant, providers=[provider], num_threads=threads, precision=precision,
        running_mode=RunningMode.VIDEO, person_detector="ssd",
    )  # fmt: skip
    with PoseLandmarker.create_from_options(options) as landmarker:
        step = frame_feeder(clip.frames, landmarker.detect_for_video)
        samples = time_steps(step, iterations, warmup, lambda: landmarker.model_stats)
        placement = placement_of(landmarker)
    return _result(
        "blazepose-onnx", provider, variant, "people", people, str(threads or "all"),
        samples, 1, warmup, precision, placement, mean_rate=True,
    )  # fmt: skip


def bench_parallel_video(
    provider: str,
    variant: str,
    frames: Sequence[np.ndarray],
    streams: int,
    warmup: int,
    iterations: int,
    precision: str = "fp32",
) -> BenchResult:
    """`streams` independent VIDEO landmarkers, one thread each, run concurrently: per-frame
    times of every stream (after `warmup` untimed frames each) and the throughput of all."""
    landmarkers = [
        PoseLandmarker.create_from_options(
            _options(provider, variant, 1, precision, running_mode=RunningMode.VIDEO)
        )
        for _ in range(streams)
    ]
    placement = placement_of(landmarkers[0])
    steps = [frame_feeder(frames, landmarker.detect_for_video) for landmarker in landmarkers]
    try:
        for step in steps:
            for _ in range(warmup):
                step()
        samples, wall = concurrently(
            [
                partial(time_steps, step, iterations, model_stats=lambda lm=lm: lm.model_stats)
                for step, lm in zip(steps, landmarkers, strict=True)
            ]
        )
    finally:
        for landmarker in landmarkers:
            landmarker.close()
    if not all(samples):
        raise RuntimeError("a video-parallel stream failed (its traceback is above)")
    pooled = {stage: [t for one in samples for t in one[stage]] for stage in STAGES}
    return BenchResult(
        "blazepose-onnx",
        provider,
        variant,
        "video-parallel",
        streams,
        "1 each",
        iterations,
        streams * iterations / wall,
        percentiles_ms(pooled),
        precision,
        warmup,
        samples_in_ms(pooled),
        placement,
    )


def _mediapipe_bundle(bundle_dir: Path, variant: str) -> Path:
    """Where `--mediapipe-bundles` keeps `variant`."""
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


def bench_mediapipe(
    bundle_dir: Path,
    variant: str,
    mode: str,
    images: Sequence[np.ndarray],
    frames: Sequence[np.ndarray],
    warmup: int,
    iterations: int,
) -> BenchResult:
    """MediaPipe's own PoseLandmarker on the same inputs (checked loadable by the plan)."""
    import mediapipe as mp

    with _mediapipe_landmarker(_mediapipe_bundle(bundle_dir, variant), mode) as landmarker:
        if mode == "video":
            wrapped = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
            step = frame_feeder(wrapped, landmarker.detect_for_video)
        else:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=images[0])

            def step() -> None:
                landmarker.detect(image)

        samples = time_steps(step, iterations, warmup)
    return _result(
        f"MediaPipe {mp.__version__}",
        "tflite-xnnpack",
        variant,
        mode,
        1,
        "own",
        samples,
        1,
        warmup,
    )


PACKAGES = (
    "blazepose-onnx",
    "numpy",
    "opencv-python-headless",
    "opencv-contrib-python",
    "onnx",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-openvino",
    "onnxruntime-directml",
    "mediapipe",
)


def _cpuinfo(field_name: str) -> str:
    """The first `field_name` line's value in /proc/cpuinfo ("" where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == field_name:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _gpus() -> str:
    """NVIDIA GPUs and driver as nvidia-smi reports them ("" without one)."""
    if shutil.which("nvidia-smi") is None:
        return ""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    gpus = [", driver ".join(map(str.strip, line.split(","))) for line in done.stdout.splitlines()]
    return "; ".join(gpu for gpu in gpus if gpu) if done.returncode == 0 else ""


def _packages() -> dict[str, str]:
    """Versions of the installed packages that decide the numbers."""
    found = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu": _cpuinfo("model name") or platform.processor() or platform.machine(),
        "cpu_flags": _cpuinfo("flags") or _cpuinfo("Features"),
        "logical_cores": str(os.cpu_count()),
        "gpu": _gpus(),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "providers": ", ".join(ort.get_available_providers()),
        "platform": platform.platform(),
        "packages": _packages(),
    }


def to_markdown(results: Sequence[BenchResult], machine: dict[str, Any]) -> str:
    """A Markdown table, with MediaPipe's matching configuration as the reference ratio."""
    lines = [
        f"Machine: {machine['cpu']}, {machine['logical_cores']} logical cores, onnxruntime "
        f"{machine['onnxruntime']} ({machine['providers']}).",
        "",
        "| implementation | provider | variant | mode | batch/streams/people | threads | p50 ms "
        "| p90 ms | p99 ms | detector p50 | landmarker p50 | other p50 | frames/s | vs MediaPipe "
        "| placement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
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
        provider = r.provider if r.precision == "fp32" else f"{r.provider} ({r.precision})"
        lines.append(
            f"| {r.implementation} | {provider} | {r.variant} | {r.mode} | {r.batch} | "
            f"{r.threads} | {p['total']['p50']:.2f} | {p['total']['p90']:.2f} | "
            f"{p['total']['p99']:.2f} | "
            + " | ".join(stage)
            + f" | {r.frames_per_second:.1f} | {ratio} | {_placement_cell(r)} |"
        )
    return "\n".join(lines)


def _placement_cell(result: BenchResult) -> str:
    return placement_text(result.provider, result.placement, partial_placement(result))


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_info(args: argparse.Namespace) -> dict[str, Any]:
    """How the run was made: the command, the timed steps and the inputs (with digests, so that
    runs on other machines can be checked to have timed the same files)."""
    return {
        "command": shlex.join(["blazepose", *sys.argv[1:]]),
        "warmup": args.warmup,
        "iterations": args.iterations,
        "inputs": {
            "image": {"path": str(args.image), "sha256": _file_digest(args.image)},
            "video": {
                "path": str(args.video),
                "sha256": _file_digest(args.video),
                "frames": VIDEO_FRAMES,
            },
        },
    }


def to_json(results: Sequence[BenchResult], machine: dict[str, Any], run: dict[str, Any]) -> str:
    """The run as JSON: format and version, how it was run, the machine, and per case the
    percentiles, every timed step's milliseconds (warm-up excluded), where ONNX Runtime placed
    each model's nodes and, flagged, the models its provider runs only part of."""
    document = {
        "format": BENCH_FORMAT,
        "version": BENCH_VERSION,
        **run,
        "machine": machine,
        "results": [{**asdict(r), "partial_placement": partial_placement(r)} for r in results],
    }
    return json.dumps(document, indent=1)


def _csv(text: str, name: str, cast: Callable = str) -> list:
    try:
        items = [cast(item) for item in text.split(",") if item.strip()]
    except ValueError as exc:
        raise InputError(
            f"--{name} must be a comma-separated list of numbers, got {text!r}"
        ) from exc
    if not items:
        raise InputError(f"--{name} is empty")
    return items


def _positive(values: list[int], name: str) -> list[int]:
    bad = [v for v in values if v < 1]
    if bad:
        raise InputError(f"--{name} values must be at least 1, got {bad[0]}")
    return values


def _check_mediapipe(bundle_dir: Path, variants: list[str]) -> None:
    """Refuse a comparison that cannot run, before anything is timed."""
    if importlib.util.find_spec("mediapipe") is None:
        raise InputError("--mediapipe-bundles needs MediaPipe installed (pip install mediapipe)")
    if not bundle_dir.is_dir():
        raise InputError(f"--mediapipe-bundles: no such folder {bundle_dir}")
    bundles = {v: _mediapipe_bundle(bundle_dir, v) for v in variants}
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


@dataclass(frozen=True)
class BenchPlan:
    """Every case of one `blazepose bench` run, checked before the first one is timed."""

    providers: list[str]
    precisions: list[str]
    variants: list[str]
    modes: list[str]
    batches: list[int]
    streams: list[int]
    people: list[int]


def plan_from_args(args: argparse.Namespace) -> BenchPlan:
    """Validate the arguments: unknown or unavailable providers, bad modes and sizes fail here."""
    providers = _csv(args.providers, "providers") if args.providers else available_providers()
    resolve_providers(providers)  # names the missing provider and the install that brings it
    precisions = _csv(args.precision, "precision")
    unknown = sorted(set(precisions) - set(PRECISIONS))
    if unknown:
        raise InputError(f"unknown precision(s) {', '.join(unknown)}: use {', '.join(PRECISIONS)}")
    if "bf16" in precisions and "openvino" not in providers:
        raise InputError("--precision bf16 runs on OpenVINO: add openvino to --providers")
    variants = [check_variant(v) for v in _csv(args.variants, "variants")]
    modes = _csv(args.modes, "modes")
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        raise InputError(f"unknown mode(s) {', '.join(unknown)}: use {', '.join(MODES)}")
    if args.iterations < 1 or args.warmup < 0:
        raise InputError("--iterations must be at least 1 and --warmup at least 0")
    if args.mediapipe_bundles is not None:
        _check_mediapipe(args.mediapipe_bundles, variants)
    if args.report is not None:
        require_module("matplotlib", "report", "blazepose bench --report")
    return BenchPlan(
        providers,
        precisions,
        variants,
        modes,
        _positive(_csv(args.batch, "batch", int), "batch"),
        _positive(_csv(args.streams, "streams", int), "streams"),
        _positive(_csv(args.people, "people", int), "people"),
    )


def _cases(plan: BenchPlan, args: argparse.Namespace, images, frames) -> list[tuple[str, Callable]]:
    """(label, run) per case, in the order they are timed."""
    warmup, iterations = args.warmup, args.iterations
    cases = []
    for provider, precision in _provider_precisions(plan):
        for variant in plan.variants:
            label = f"{provider} {variant}" + ("" if precision == "fp32" else f" {precision}")
            timed = dict(
                provider=provider, variant=variant, precision=precision, iterations=iterations
            )
            if "image" in plan.modes:
                cases += [
                    (
                        f"{label} image batch {b}",
                        partial(bench_image, images=images, batch=b, warmup=warmup, **timed),
                    )
                    for b in plan.batches
                ]
            if "video" in plan.modes:
                cases += [
                    (
                        f"{label} video {n} stream(s)",
                        partial(bench_video, frames=frames, streams=n, warmup=warmup, **timed),
                    )
                    for n in plan.streams
                ]
            if "people" in plan.modes:
                cases += [
                    (
                        f"{label} people {n}",
                        partial(bench_people, frames=frames, people=n, warmup=warmup, **timed),
                    )
                    for n in plan.people
                ]
            if "video-parallel" in plan.modes:
                cases += [
                    (
                        f"{label} video-parallel {n} streams",
                        partial(
                            bench_parallel_video, frames=frames, streams=n, warmup=warmup, **timed
                        ),
                    )
                    for n in plan.streams
                    if n > 1
                ]
    if args.mediapipe_bundles is not None:
        for variant in plan.variants:
            for mode in sorted({m.replace("-parallel", "") for m in plan.modes} - {"people"}):
                cases.append(
                    (
                        f"MediaPipe {variant} {mode}",
                        partial(
                            bench_mediapipe,
                            args.mediapipe_bundles,
                            variant,
                            mode,
                            images,
                            frames,
                            warmup,
                            iterations,
                        ),
                    )
                )
    return cases


def _provider_precisions(plan: BenchPlan) -> list[tuple[str, str]]:
    """(provider, precision) pairs to time: bf16 only on OpenVINO, where it runs."""
    return [
        (provider, precision)
        for provider in plan.providers
        for precision in plan.precisions
        if precision != "bf16" or provider == "openvino"
    ]


def _write(results: list[BenchResult], args: argparse.Namespace) -> str:
    """Write the outputs asked for; the report page is built from the very JSON text written."""
    machine = machine_info()
    table = to_markdown(results, machine)
    document = to_json(results, machine, run_info(args)) + "\n"
    if args.markdown:
        write_bytes_atomic(args.markdown, (table + "\n").encode())
    if args.json:
        write_bytes_atomic(args.json, document.encode())
    if args.report:
        from blazepose_onnx.report.output import write_run_report

        write_run_report(args.report, document)
    return table


def run_bench(args: argparse.Namespace) -> int:
    """`blazepose bench`: check every case first, time them with progress on stderr, print the
    table; a case that fails still leaves the finished ones in the outputs."""
    plan = plan_from_args(args)
    images = [read_image(args.image)]
    frames = read_frames(str(args.video), limit=VIDEO_FRAMES)
    cases = _cases(plan, args, images, frames)
    results: list[BenchResult] = []
    try:
        for k, (label, run) in enumerate(cases, 1):
            print(f"bench [{k}/{len(cases)}] {label}", file=sys.stderr, flush=True)
            results.append(run())
    except BaseException:
        outputs = [str(path) for path in (args.json, args.markdown, args.report) if path]
        if results and outputs:
            _write(results, args)
            print(
                f"bench: the {len(results)} finished case(s) were written to {', '.join(outputs)}",
                file=sys.stderr,
            )
        raise
    print(_write(results, args))
    return 0
