"""VIDEO mode: `detect_for_video()` per tracked frame on squat.mp4 (pre-decoded), ours against
MediaPipe in the same run, with the split of each timed frame into model time and the rest.

Run: python -m pytest benchmarks/test_video_mode.py --benchmark-json=video.json
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blazepose_onnx.bench.cases import threads_label
from blazepose_onnx.bench.timing import frame_feeder
from blazepose_onnx.io.video_reader import read_frames

VARIANTS = ["lite", "full", "heavy"]
CLIP = Path(__file__).resolve().parent.parent / "tests" / "data" / "squat.mp4"
ROUNDS = 100


@pytest.fixture(scope="module")
def squat_frames() -> list:
    return read_frames(str(CLIP))


@pytest.mark.parametrize("threads", [None, 1], ids=["all-threads", "one-thread"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_ours(benchmark, timed_rounds, squat_frames, variant, threads):
    from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode

    options = PoseLandmarkerOptions(
        model=variant, running_mode=RunningMode.VIDEO, num_threads=threads
    )
    with PoseLandmarker.create_from_options(options) as landmarker:
        step = frame_feeder(squat_frames, landmarker.detect_for_video)
        benchmark.group = f"video {variant} squat (tracked)"
        benchmark.extra_info.update(impl="blazepose-onnx", threads=threads_label(threads))
        timed_rounds(step, ROUNDS, 5, lambda: landmarker.model_stats)


@pytest.mark.parametrize("variant", VARIANTS)
def test_mediapipe(benchmark, timed_rounds, mediapipe_factory, squat_frames, variant):
    landmarker, mp = mediapipe_factory(variant, video=True)
    images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in squat_frames]
    step = frame_feeder(images, landmarker.detect_for_video)
    benchmark.group = f"video {variant} squat (tracked)"
    benchmark.extra_info.update(impl="mediapipe")
    timed_rounds(step, ROUNDS, 5)
