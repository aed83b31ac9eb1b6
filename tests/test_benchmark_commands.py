"""The benchmark commands the README shows, run for real (briefly): they work and report."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from blazepose_onnx.backend.provider_check import bf16_problem
from blazepose_onnx.backend.providers import available_providers

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # each runs a benchmark script for real: 6 s to a minute


def run_python(*args: str, env: dict | None = None, timeout: int = 600):
    """`python ARGS` in the repository root, its output captured as text."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout
    )


def _same_rounds(bench: dict) -> None:
    """Our per-round samples are pytest-benchmark's own rounds: each lies inside the benchmark's
    timed call, and each round's split adds up to that round's total."""
    ours = bench["extra_info"]["step_seconds"]
    timed = bench["stats"]["data"]
    assert len(ours["total"]) == len(timed) == bench["stats"]["rounds"]
    overheads = [t - mine for mine, t in zip(ours["total"], timed, strict=True)]
    assert min(overheads) >= 0 and statistics.median(overheads) < 1e-3
    for total, detector, landmarker, other in zip(
        ours["total"], ours["detector"], ours["landmarker"], ours["other"], strict=True
    ):
        assert 0 < detector + landmarker <= total and other == total - detector - landmarker


def _row_adds_up(line: str) -> None:
    """A report row's detector, landmarker and other add up to its median, none above it."""
    cells = [c.strip() for c in line.strip("|").split("|")]
    median, detector, landmarker = float(cells[2]), float(cells[4]), float(cells[5])
    other = float(cells[6].split()[0])
    assert max(detector, landmarker, other) <= median
    assert abs(detector + landmarker + other - median) <= 0.11  # cells rounded to 0.1 / 0.01 ms


def test_pytest_benchmark_suites_and_report_from_the_same_rounds(cli_env, tmp_path):
    out = tmp_path / "bench.json"
    done = run_python(
        "-m",
        "pytest",
        "benchmarks/test_image_mode.py",
        "benchmarks/test_video_mode.py",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "test_ours and lite and all-threads and not bus",
        f"--benchmark-json={out}",
        "--benchmark-save-data",  # the benchmark's own per-round times, to compare with ours
        env=cli_env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    benches = json.loads(out.read_text())["benchmarks"]
    assert sorted(b["group"] for b in benches) == [
        "image lite messi5 num_poses=1",
        "video lite squat (tracked)",
    ]
    for bench in benches:
        _same_rounds(bench)
    report = run_python("benchmarks/report.py", str(out), timeout=60)
    assert report.returncode == 0, report.stderr
    rows = [line for line in report.stdout.splitlines() if "| blazepose-onnx (cpu" in line]
    assert [row.split("|")[1].strip() for row in rows] == [
        "image lite messi5 num_poses=1",
        "video lite squat (tracked)",
    ]
    for row in rows:
        _row_adds_up(row)


def test_soak_script_reports_memory(cli_env):
    done = run_python(
        "benchmarks/soak.py", "--frames", "200", "--every", "100", "--warmup", "100", env=cli_env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("frame    100  RSS") and lines[1].startswith("frame    200  RSS")
    assert lines[-1].startswith("RSS after warm-up:")


def test_profile_script_reports_where_the_time_goes(cli_env, tmp_path):
    out = tmp_path / "profile.json"
    done = run_python(
        "benchmarks/profile_pipeline.py",
        "--variant",
        "lite",
        "--calls",
        "20",
        "--json",
        str(out),
        env=cli_env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    for role in ("detector", "landmarker"):
        shares = report["nodes"][role]
        assert max(shares, key=lambda op: shares[op]["share"]) == "Conv"  # convolutions dominate
    assert set(report["image"]["models"]) == {"detector", "landmarker"}
    assert set(report["video"]["models"]) == {"landmarker"}  # tracked frames skip the detector
    for mode in ("image", "video"):
        split = report[mode]
        assert split["host_alone_ms"] > 0 and 0 < split["host_ms"] < split["total_ms"]
        assert all(m["inside_ms"] > 0 and m["alone_ms"] > 0 for m in split["models"].values())
    assert any("warpAffine" in row["function"] for row in report["image_host"])


@pytest.mark.skipif(
    "openvino" not in available_providers(),
    reason="needs onnxruntime-openvino: runs in CI's OpenVINO environment",
)
def test_precision_bench_reports_drift_and_speed(cli_env, tmp_path):
    out = tmp_path / "precision.json"
    done = run_python(
        "benchmarks/precision_bench.py",
        "--variants",
        "lite",
        "--max-frames",
        "10",
        "--rounds",
        "1",
        "--calls",
        "3",
        "--json",
        str(out),
        env=cli_env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lite = json.loads(out.read_text())["lite"]
    fp32 = lite["drift_vs_cpu_fp32"]["openvino fp32"]
    assert set(fp32) == {"images", "squat.mp4", "dance.mp4"}
    assert fp32["images"]["same_pose_count"] == 1.0 and fp32["images"]["xy_max"] < 0.002
    configs = ["cpu fp32", "openvino fp32"]
    if bf16_problem() is None:
        configs.append("openvino bf16")
        assert lite["drift_vs_cpu_fp32"]["openvino bf16"]["images"]["xy_mean"] > 1e-4
    assert set(lite["ms_per_call"]) == {f"{c} {m}" for c in configs for m in ("image", "video")}


def test_person_detector_eval_finds_everyone_and_no_one_more_by_combining(cli_env, tmp_path):
    """The README's claims on the built-in person detector: everyone on the hand-labelled photos
    and dance frames; adding the pose detector's people finds no one more; turned upside down,
    at least as many as the pose detector."""
    out = tmp_path / "people.json"
    done = run_python(
        "benchmarks/person_detector_eval.py", "--turns", "0", "180", "--json", str(out),
        env=cli_env, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = {
        way: {subset: int(cell.split("/")[0]) for subset, cell in row.items()}
        for way, row in json.loads(out.read_text()).items()
    }
    ssd, pose = 'person_detector="ssd"', "pose detector"
    assert found[ssd] == {"bus": 4, "zidane": 2, "messi5": 1, "dance": 36}  # everyone
    for merged in (
        "SSD, then the pose detector's people",
        "the pose detector's people, then the SSD",
    ):
        assert all(found[merged][s] <= n for s, n in found[ssd].items()), found[merged]
    upside_down = found[f"{ssd}, turned 180"]
    assert all(upside_down[s] >= n for s, n in found[f"{pose}, turned 180"].items()), found
