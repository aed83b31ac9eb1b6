"""`blazepose bench` timing: per-frame percentiles in every mode, warm-up honoured."""

from __future__ import annotations

import json

import pytest

from blazepose_onnx.cli.timing import STAGES


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
