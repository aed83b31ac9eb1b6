"""IMAGE mode: `detect()` per variant, ours against MediaPipe in the same run.

Run: python -m pytest benchmarks/test_image_mode.py --benchmark-json=image.json
then: python benchmarks/report.py image.json
"""

from __future__ import annotations

from functools import partial

import pytest

from blazepose_onnx.bench.cases import threads_label

VARIANTS = ["lite", "full", "heavy"]
CASES = [("messi5", 1), ("bus", 5)]
ROUNDS = 30


@pytest.mark.parametrize("threads", [None, 1], ids=["all-threads", "one-thread"])
@pytest.mark.parametrize("case", CASES, ids=[f"{i}-n{n}" for i, n in CASES])
@pytest.mark.parametrize("variant", VARIANTS)
def test_ours(benchmark, timed_rounds, ours, bench_images, variant, case, threads):
    image_name, num_poses = case
    landmarker = ours(variant, num_poses, threads)
    image = bench_images[image_name]
    benchmark.group = f"image {variant} {image_name} num_poses={num_poses}"
    benchmark.extra_info.update(impl="blazepose-onnx", threads=threads_label(threads))
    timed_rounds(partial(landmarker.detect, image), ROUNDS, 3, lambda: landmarker.model_stats)


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-n{n}" for i, n in CASES])
@pytest.mark.parametrize("variant", VARIANTS)
def test_mediapipe(benchmark, timed_rounds, mediapipe_factory, bench_images, variant, case):
    image_name, num_poses = case
    landmarker, mp = mediapipe_factory(variant, num_poses)
    image = mp.Image(image_format=mp.ImageFormat.SRGB, data=bench_images[image_name])
    benchmark.group = f"image {variant} {image_name} num_poses={num_poses}"
    benchmark.extra_info.update(impl="mediapipe", threads="its own (one core here)")
    timed_rounds(partial(landmarker.detect, image), ROUNDS, 3)
