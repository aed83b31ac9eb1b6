"""The benchmark commands the README shows, run for real (briefly): they work and report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pytest_benchmark_suite_and_report(cli_env, tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks/test_image_mode.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "lite and messi5 and all-threads",
            f"--benchmark-json={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = subprocess.run(
        [sys.executable, "benchmarks/report.py", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 0, report.stderr
    assert "| image lite messi5 num_poses=1 | blazepose-onnx (cpu, threads=all) |" in report.stdout


def test_soak_script_reports_memory(cli_env):
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/soak.py",
            "--frames",
            "200",
            "--every",
            "100",
            "--warmup",
            "100",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("frame    100  RSS") and lines[1].startswith("frame    200  RSS")
    assert lines[-1].startswith("RSS after warm-up:")
