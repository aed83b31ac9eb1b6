"""Benchmark fixtures: real models, test images, and MediaPipe when it is installed.

MediaPipe's PoseLandmarker needs bundles carrying TFLite metadata: the official bundles do;
registry-built ones need tests/golden/add_metadata.py. Point BLAZEPOSE_MEDIAPIPE_BUNDLES at a
directory of `pose_landmarker_<variant>.task` files that MediaPipe can load.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest

from blazepose_onnx.bench.timing import STAGES, timed_step
from blazepose_onnx.converter import default_model_dir, ensure_converted

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


@pytest.fixture()
def timed_rounds(benchmark):
    """Time `step` with `benchmark.pedantic` for `rounds` rounds after `warmup` untimed calls,
    keeping each round's time and, given a reader of the landmarker's `model_stats`, its split
    into detector,
    landmarker and the rest in extra_info["step_seconds"]: benchmarks/report.py reads every
    number from these samples, so a split always comes from the same rounds as its total."""

    def run(step, rounds: int, warmup: int, model_stats=None) -> None:
        for _ in range(warmup):
            step()
        samples: dict[str, list[float]] = {stage: [] for stage in STAGES}
        benchmark.pedantic(timed_step, args=(step, model_stats, samples), rounds=rounds)
        benchmark.extra_info["step_seconds"] = {
            stage: values[:rounds] for stage, values in samples.items() if values
        }

    return run


@pytest.fixture(scope="session")
def bench_images() -> dict:
    return {p.stem: cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in DATA.glob("*.jpg")}


@pytest.fixture(scope="session")
def ours():
    """Cached PoseLandmarkers by (variant, num_poses, num_threads)."""
    from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions

    cache = {}

    def make(variant: str, num_poses: int = 1, num_threads: int | None = None, **options):
        key = (variant, num_poses, num_threads, tuple(sorted(options.items())))
        if key not in cache:
            ensure_converted(variant)
            cache[key] = PoseLandmarker.create_from_options(
                PoseLandmarkerOptions(
                    model=variant, num_poses=num_poses, num_threads=num_threads, **options
                )
            )
        return cache[key]

    yield make
    for landmarker in cache.values():
        landmarker.close()


@pytest.fixture(scope="session")
def mediapipe_factory():
    """MediaPipe PoseLandmarkers (IMAGE or VIDEO mode), or skip when MediaPipe is missing."""
    mp = pytest.importorskip("mediapipe", reason="MediaPipe is not installed in this environment")
    from mediapipe.tasks.python import BaseOptions, vision

    bundle_dir = Path(os.environ.get("BLAZEPOSE_MEDIAPIPE_BUNDLES", default_model_dir()))
    made = []

    def make(variant: str, num_poses: int = 1, video: bool = False):
        bundle = bundle_dir / f"pose_landmarker_{variant}.task"
        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(bundle)),
            running_mode=mode,
            num_poses=num_poses,
        )
        try:
            landmarker = vision.PoseLandmarker.create_from_options(options)
        except (
            Exception
        ) as exc:  # MediaPipe raises RuntimeError/ValueError on bundles without metadata
            pytest.skip(f"MediaPipe cannot load {bundle}: {exc}")
        made.append(landmarker)
        return landmarker, mp

    yield make
    for landmarker in made:
        landmarker.close()
