"""The GPU check: one bounded command that says whether the GPU path works and how fast it is.

    python benchmarks/gpu_check.py --provider cuda --out DIR --deadline 480
    python benchmarks/gpu_check.py --provider cpu --quick --out DIR      # CI, on CPU

On a lent GPU machine it runs through benchmarks/gpu_wheels.sh, which installs the project and
CUDA's onnxruntime there first (CI runs that recipe on CPU, in a plain interpreter).

Steps, each skipped (and recorded as skipped) once the deadline is near:
1. provider report (what runs here and why not), device, driver, CUDA and onnxruntime versions;
2. the IMAGE and VIDEO parity tests against MediaPipe's goldens on the provider
   (BLAZEPOSE_TEST_PROVIDER) and the CUDA/TensorRT-vs-CPU tests, their pytest summary line
   recorded;
3. fp16 compute (`precision="fp16"`) drift against fp32 on the same provider: each model's
   outputs, failing above the converter's bound (`FP16_DRIFT`), and end to end on the photos;
4. the backend steps (benchmarks/backend_checks.py): each model's placement, failing when the
   provider does not run every node; IO binding against plain runs; TensorRT's engine builds
   with the optimisation profile (the first run at each batch size, the build time, the
   cached rebuild; fp32 and fp16); cuDNN's EXHAUSTIVE against HEURISTIC algorithm search;
5. the benchmark: IMAGE per call (lite/full/heavy), tracked VIDEO frame, `detect_batch` at
   1/8/32/64, `MultiStreamPoseLandmarker` at 1/8/64/256 streams (full), with frames/s, p50/p99
   and the host share ("other": everything but the two models) of each step.
Writes `gpu_check.json` to --out. Exit 0 when every step that ran passed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import backend_checks
import numpy as np
import onnxruntime as ort

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, samples
from blazepose_onnx.backend.providers import PROVIDERS, create_session, unavailable_reason
from blazepose_onnx.bench.cases import case_options, time_image, time_video
from blazepose_onnx.converter import ensure_converted
from blazepose_onnx.converter.verify import FP16_DRIFT
from blazepose_onnx.converter.verify import fp16_drift as fp16_drift_of
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import read_frames

ROOT = Path(__file__).resolve().parent.parent
PARITY_TESTS = [
    "tests/runtime/test_parity_image.py",
    "tests/runtime/test_parity_video.py",
    "tests/runtime/backend/test_gpu_providers.py",  # against the CPU provider
]
FULL = {
    "variants": ("lite", "full", "heavy"),
    "batches": (1, 8, 32, 64),
    "streams": (1, 8, 64, 256),
    "io_batches": (1, 8, 64, 256),
    "iterations": 50,
    "warmup": 5,
}
QUICK = {
    "variants": ("lite",),
    "batches": (1, 2),
    "streams": (1, 2),
    "io_batches": (1, 4),
    "iterations": 3,
    "warmup": 1,
}


class Deadline:
    """Seconds left before the caller's deadline, with a margin kept for writing the JSON."""

    def __init__(self, seconds: float, margin: float = 20.0) -> None:
        self.end = time.monotonic() + seconds - margin

    def left(self) -> float:
        return self.end - time.monotonic()


def _cuda_versions() -> dict[str, str]:
    versions = {}
    try:
        driver = ctypes.CDLL("libcuda.so.1")
        value = ctypes.c_int()
        if driver.cuDriverGetVersion(ctypes.byref(value)) == 0:
            versions["cuda_driver_api"] = f"{value.value // 1000}.{value.value % 1000 // 10}"
    except OSError:
        versions["cuda_driver_api"] = "no NVIDIA driver"
    try:
        query = [
            "nvidia-smi",
            "--query-gpu=name,driver_version,memory.total",
            "--format=csv,noheader",
        ]
        versions["nvidia_smi"] = subprocess.run(
            query, capture_output=True, text=True, timeout=20, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        versions["nvidia_smi"] = "not available"
    return versions


def provider_report() -> dict:
    return {
        "onnxruntime": ort.__version__,
        "build_providers": ort.get_available_providers(),
        "providers": {name: unavailable_reason(name) or "available" for name in PROVIDERS},
        "python": platform.python_version(),
        "machine": platform.platform(),
        **_cuda_versions(),
    }


def parity(provider: str, timeout: float, selection: list[str]) -> dict:
    """The parity test files on `provider`, in a subprocess bounded by `timeout`."""
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PARITY_TESTS, *selection
    ]  # fmt: skip
    env = {**os.environ, "BLAZEPOSE_TEST_PROVIDER": provider, "BLAZEPOSE_TEST_OFFLINE": "1"}
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"passed": False, "summary": f"timed out after {timeout:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return {"passed": done.returncode == 0, "summary": lines[-1] if lines else done.stderr[-500:]}


def fp16_drift(provider: str) -> dict:
    """fp16 compute (full) against fp32 on the provider: each model's outputs, which fail the
    step above the converter's bound (FP16_DRIFT), and |dx|,|dy| and world |d| end to end on
    the test photos (reported)."""
    models = {p: ensure_converted("full", precision=p) for p in ("fp32", "fp16")}
    photos = ROOT / "tests" / "data"

    def on_provider(path: str | os.PathLike) -> ort.InferenceSession:
        return create_session(path, [provider])

    outputs = {
        role: fp16_drift_of(role, models["fp16"][role], models["fp32"][role], photos, on_provider)
        for role in ("detector", "landmarker")
    }
    over = {
        f"{role}/{name}": value
        for role, drift in outputs.items()
        for name, value in drift.items()
        if value > FP16_DRIFT.get(name, float("inf"))
    }
    return {"passed": not over, "over_bound": over, "outputs": outputs, **end_to_end(provider)}


def end_to_end(provider: str) -> dict:
    """Max and mean |dx|,|dy| and world |d| of fp16 compute against fp32 on the test photos."""
    images = [read_image(p) for p in sorted((ROOT / "tests" / "data").glob("*.jpg"))]
    results = {}
    for precision in ("fp32", "fp16"):
        options = PoseLandmarkerOptions(model="full", providers=[provider], precision=precision)
        with PoseLandmarker.create_from_options(options) as landmarker:
            results[precision] = [landmarker.detect(image).as_arrays() for image in images]
    xy, world = [], []
    for (lm32, w32), (lm16, w16) in zip(results["fp32"], results["fp16"], strict=True):
        if len(lm32) == len(lm16) and len(lm32):
            xy.append(np.abs(lm32[..., :2] - lm16[..., :2]).ravel())
            world.append(np.abs(w32 - w16).ravel())
    same_count = sum(len(a[0]) == len(b[0]) for a, b in zip(*results.values(), strict=True))
    if not xy:
        return {"same_pose_count": same_count, "images": len(images)}
    xy_all, world_all = np.concatenate(xy), np.concatenate(world)
    return {
        "images": len(images),
        "same_pose_count": same_count,
        "landmarks_max": float(xy_all.max()),
        "landmarks_mean": float(xy_all.mean()),
        "world_max_m": float(world_all.max()),
        "world_mean_m": float(world_all.mean()),
    }


def benchmark(provider: str, plan: dict, deadline: Deadline) -> list[dict]:
    images = [read_image(samples.IMAGE)]
    frames = read_frames(str(samples.VIDEO))
    cases = [("image", v, 1) for v in plan["variants"]]
    cases += [("video", v, 1) for v in plan["variants"]]
    cases += [("image", "full", b) for b in plan["batches"] if b > 1]
    cases += [("video", "full", n) for n in plan["streams"] if n > 1]
    results = []
    for mode, variant, size in cases:
        if deadline.left() < 30:
            results.append({"mode": mode, "variant": variant, "batch": size, "skipped": "deadline"})
            continue
        run = time_image if mode == "image" else time_video
        source = images if mode == "image" else frames
        options = case_options(provider, variant)
        result = asdict(run(options, source, size, plan["warmup"], plan["iterations"]))
        p50 = result["percentiles_ms"]
        result["host_share"] = p50["other"]["p50"] / p50["total"]["p50"] if "other" in p50 else None
        print(
            f"{mode:5} {variant:5} x{size:<3} {result['frames_per_second']:9.1f} frames/s "
            f"p50 {p50['total']['p50']:.2f} ms p99 {p50['total']['p99']:.2f} ms",
            flush=True,
        )
        results.append(result)
    return results


def backend_steps(provider: str, plan: dict, deadline: Deadline, steps: dict) -> bool:
    """Placement (failing the check when the provider does not run every node), IO binding
    against plain runs, TensorRT's profile builds and cuDNN's algorithm search
    (benchmarks/backend_checks.py); the slow ones only while the deadline allows."""
    steps["placement"] = backend_checks.placement(provider, plan["variants"])
    placed = backend_checks.all_nodes_on(steps["placement"], provider)
    print("placement:", json.dumps(steps["placement"]), flush=True)
    steps["io_binding"] = backend_checks.io_binding(provider, plan["io_batches"])
    print("io binding:", steps["io_binding"], flush=True)
    for name, run, seconds in (
        ("tensorrt", backend_checks.tensorrt_builds, 150),
        ("tensorrt_fp16", lambda: backend_checks.tensorrt_builds(fp16=True), 150),
        ("cudnn_conv_algo_search", lambda: backend_checks.cudnn_search(provider), 60),
    ):
        steps[name] = run() if deadline.left() > seconds else {"skipped": "deadline"}
        print(f"{name}:", steps[name], flush=True)
    return placed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="cuda", help="execution provider (default: cuda)")
    parser.add_argument("--out", type=Path, required=True, help="folder for gpu_check.json")
    parser.add_argument("--quick", action="store_true", help="a few cases and iterations (CI)")
    parser.add_argument(
        "--deadline", type=float, default=480.0, help="stop by this many seconds (default: 480)"
    )
    args = parser.parse_args(argv)
    deadline = Deadline(args.deadline)
    plan = QUICK if args.quick else FULL
    report: dict = {"provider": args.provider, "quick": args.quick, "steps": {}}
    steps = report["steps"]
    steps["providers"] = provider_report()
    print(json.dumps(steps["providers"], indent=1), flush=True)
    problem = unavailable_reason(args.provider)
    ok = problem is None
    if not ok:
        steps["error"] = f"{args.provider}: {problem}"
    else:
        selection = ["-k", "lite"] if args.quick else []
        steps["parity"] = parity(args.provider, max(30.0, deadline.left() * 0.45), selection)
        print("parity:", steps["parity"]["summary"], flush=True)
        ok = steps["parity"]["passed"]
        steps["fp16_drift"] = (
            fp16_drift(args.provider) if deadline.left() > 60 else {"skipped": "deadline"}
        )
        print("fp16 drift:", steps["fp16_drift"], flush=True)
        ok = ok and steps["fp16_drift"].get("passed", True)
        ok = backend_steps(args.provider, plan, deadline, steps) and ok
        steps["benchmark"] = benchmark(args.provider, plan, deadline)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out / 'gpu_check.json'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
