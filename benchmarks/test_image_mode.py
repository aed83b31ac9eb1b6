"""IMAGE mode: `detect()` per variant, ours against MediaPipe in the same run.

Run: python -m pytest benchmarks/test_image_mode.py --benchmark-json=image.json
then: python benchmarks/report.py image.json
"""

from __future__ import annotations

import time

import pytest

VARIANTS = ["lite", "full", "heavy"]
CASES = [("messi5", 1), ("bus", 5)]
SPLIT_CALLS = 30


def _stage_split(landmarker, image) -> dict:
    """Mean ms per call in the detector, the landmarker, and everything else."""
    seconds = landmarker._pipeline.model_seconds
    for key in seconds:
        seconds[key] = 0.0
    start = time.perf_counter()
    for _ in range(SPLIT_CALLS):
        landmarker.detect(image)
    total = (time.perf_counter() - start) / SPLIT_CALLS * 1e3
    detector = seconds["detector"] / SPLIT_CALLS * 1e3
    landmarks = seconds["landmarker"] / SPLIT_CALLS * 1e3
    return {
        "total_ms": total,
        "detector_ms": detector,
        "landmarker_ms": landmarks,
        "other_ms": total - detector - landmarks,
    }


@pytest.mark.parametrize("threads", [None, 1], ids=["all-threads", "one-thread"])
@pytest.mark.parametrize("case", CASES, ids=[f"{i}-n{n}" for i, n in CASES])
@pytest.mark.parametrize("variant", VARIANTS)
def test_ours(benchmark, ours, bench_images, variant, case, threads):
    image_name, num_poses = case
    landmarker = ours(variant, num_poses, threads)
    image = bench_images[image_name]
    benchmark.group = f"image {variant} {image_name} num_poses={num_poses}"
    benchmark.extra_info.update(impl="blazepose-onnx", threads=threads or "all")
    benchmark.pedantic(landmarker.detect, args=(image,), rounds=30, warmup_rounds=3)
    benchmark.extra_info.update(_stage_split(landmarker, image))


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-n{n}" for i, n in CASES])
@pytest.mark.parametrize("variant", VARIANTS)
def test_mediapipe(benchmark, mediapipe_factory, bench_images, variant, case):
    image_name, num_poses = case
    landmarker, mp = mediapipe_factory(variant, num_poses)
    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=bench_images[image_name])
    benchmark.group = f"image {variant} {image_name} num_poses={num_poses}"
    benchmark.extra_info.update(impl="mediapipe", threads="its own (one core here)")
    benchmark.pedantic(landmarker.detect, args=(image,), rounds=30, warmup_rounds=3)
