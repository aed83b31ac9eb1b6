"""`blazepose bench` timing: per-frame percentiles in every mode, warm-up honoured."""

from __future__ import annotations

import json

import pytest

from blazepose_onnx.bench.timing import STAGES


@pytest.mark.parametrize("warmup", [0, 1])
def test_video_parallel_times_each_frame_after_the_warm_up(cli, model_dir, tmp_path, warmup):
    """Two single-thread streams of the squat clip, tracked from the first frame: the detector
    runs on that frame only, so it is timed exactly when there is no warm-up."""
    out = tmp_path / "bench.json"
    done = cli(
        "bench", "--providers", "cpu", "--variants", "lite", "--modes", "video-parallel",
        "--streams", "2", "--iterations", "10", "--warmup", str(warmup), "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(out.read_text())["results"]
    percentiles = result["percentiles_ms"]
    assert set(percentiles) == set(STAGES)
    total = percentiles["total"]
    assert total["p50"] <= total["p90"] <= total["p99"] and total["p50"] < total["p99"]
    if warmup:
        assert percentiles["detector"]["p99"] == 0.0
    else:
        assert percentiles["detector"]["p99"] > 0.0


@pytest.mark.slow
def test_people_mode_times_tracked_people_with_the_detector_at_its_interval(cli, tmp_path):
    """`--modes people`: 1 and 2 copies of the sample clip side by side, tracked with the ssd
    person detector: the detector is timed on the first frame and every 10th after it (the
    default interval), and frames/s comes from the mean step, detector frames included."""
    out = tmp_path / "bench.json"
    done = cli(
        "bench", "--providers", "cpu", "--variants", "lite", "--modes", "people",
        "--people", "1,2", "--iterations", "21", "--warmup", "0", "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())["results"]
    assert [(r["mode"], r["batch"]) for r in results] == [("people", 1), ("people", 2)]
    for result in results:
        detector = result["samples_ms"]["detector"]
        timed = [k for k, ms in enumerate(detector) if ms > 0]
        assert timed == [0, 10, 20], timed
        total = result["samples_ms"]["total"]
        mean_rate = 1000 * len(total) / sum(total)
        assert result["frames_per_second"] == pytest.approx(mean_rate, rel=1e-4)
