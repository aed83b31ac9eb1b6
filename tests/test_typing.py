"""The package's type hints as a user's type checker reads them (PEP 561, `blazepose_onnx.typing`):
a misspelt string option is an error before anything runs, and `detect_batch` says what it
returns for each `errors` mode. The Literal types are the run-time checks' own lists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from blazepose_onnx.backend.providers import PROVIDERS
from blazepose_onnx.landmarks import KEYPOINT_SETS
from blazepose_onnx.options import RunningMode
from blazepose_onnx.typing import KeypointSet, ProviderName, RunningModeName

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_gen"))
from package_layout import lay_out  # noqa: E402  (the wheel's layout, as .ci/typecheck.py)

USER_CODE = """
import numpy as np
from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions

landmarker = PoseLandmarker.create_from_options(PoseLandmarkerOptions(running_mode="video"))
image = np.zeros((64, 64, 3), np.uint8)
reveal_type(landmarker.detect_batch([image]))
reveal_type(landmarker.detect_batch([image], errors="return"))
landmarker.detect(image, color="rbg")
PoseLandmarkerOptions(precision="fp8", providers=["cuda", ("tensorrt", {"fp16": True})])
PoseLandmarkerOptions(providers=["cdua"])
"""


def test_the_literals_hold_what_the_run_time_checks_accept():
    assert set(get_args(ProviderName)) == {*PROVIDERS, "auto"}
    assert set(get_args(KeypointSet)) == set(KEYPOINT_SETS)
    names = {mode.name for mode in RunningMode}
    assert set(get_args(RunningModeName)) == names | {name.lower() for name in names}


@pytest.mark.slow
def test_a_type_checker_catches_misspelt_options_and_reads_detect_batch(tmp_path):
    layout = lay_out(tmp_path / "layout")
    (tmp_path / "user.py").write_text(USER_CODE)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
         "--config-file=", "--python-version=3.10", "user.py"],
        cwd=tmp_path, env={**os.environ, "MYPYPATH": str(layout)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    lines: dict[int, str] = {}
    for line in checked.stdout.splitlines():
        if line.startswith("user.py:"):
            number = int(line.split(":")[1])
            lines[number] = lines.get(number, "") + line
    assert lines[7].endswith('"list[blazepose_onnx.results.PoseLandmarkerResult]"'), lines[7]
    assert "PoseLandmarkerResult | ValueError | TypeError]" in lines[8], lines[8]
    assert '"color"' in lines[9] and "Literal" in lines[9], checked.stdout
    assert '"precision"' in lines[10] and "Literal" in lines[10], checked.stdout
    assert "cdua" in lines[11] or "List item 0" in lines[11], checked.stdout
    assert set(lines) == {7, 8, 9, 10, 11}, checked.stdout  # the rest type-checks
