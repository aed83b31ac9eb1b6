"""One set of conventions across the `blazepose` commands, through the real command: '-' is
stdout, a misspelt name is bad usage with a suggestion, warnings look like errors, counts agree
in number, hints are exact (what to uninstall first, what can be retried), and what is printed
about models says what happens."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from blazepose_onnx.common.install import install_command

ROOT = Path(__file__).resolve().parents[3]
QUICK_BENCH = ("bench", "--providers", "cpu", "--model", "lite", "--modes", "image",
               "--iterations", "2", "--warmup", "0")  # fmt: skip


def test_dash_is_stdout_for_bench_outputs_too(cli, cli_env, tmp_path):
    """`bench --json -` and `--markdown -` wrote files named '-'."""
    done = cli(*QUICK_BENCH, "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [r["variant"] for r in document["results"]] == ["lite"]
    assert "| blazepose-onnx | cpu | lite | image | 1 |" in done.stderr  # the table, for people
    table = cli(*QUICK_BENCH, "--markdown", "-", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("| blazepose-onnx | cpu | lite | image | 1 |") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["bench", "--json", "-", "--markdown", "-"],
        ["detect", "photo.jpg", "--json", "-", "--csv", "-"],
        ["video", "clip.mp4", "--jsonl", "-", "--csv", "-"],
    ],
)
def test_two_outputs_on_stdout_are_bad_usage(cli, args):
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert "both write to stdout ('-'): give all but one a file" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["detect", "photo.jpg", "--model", "fulll"], "argument --model: unknown model 'fulll' "
         "(did you mean full?); use lite, full, heavy, a .task bundle or a folder"),
        (["video", "clip.mp4", "--model", "heavvy"], "argument --model: unknown model 'heavvy' "
         "(did you mean heavy?)"),
        (["extract", "x", "--out", "d", "--model", "lit"], "argument --model: unknown model "
         "'lit' (did you mean lite?)"),
        (["bench", "--modes", "imag"], "argument --modes: unknown mode 'imag' (did you mean "
         "image?); use image, video, video-parallel"),
        (["bench", "--model", "lite,fulll"], "argument --model/--variants: unknown model "
         "'fulll' (did you mean full?); use lite, full, heavy"),
        (["bench", "--precision", "fp61"], "argument --precision: unknown precision 'fp61' "
         "(did you mean fp16?)"),
    ],
)  # fmt: skip
def test_a_misspelt_name_is_bad_usage_with_a_suggestion(cli, args, message):
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"usage: blazepose {args[0]}"), done.stderr
    assert f"blazepose {args[0]}: error: {message}" in done.stderr


def test_a_model_path_is_not_taken_for_a_misspelling(cli, one_line_error, data_dir, tmp_path):
    photo = str(data_dir / "bus.jpg")
    missing = one_line_error(cli("detect", photo, "--model", str(tmp_path / "my.task")),
                             "model not found")  # fmt: skip
    assert "unknown model" not in missing


def test_gpu_and_openvino_hints_say_to_uninstall_the_cpu_build_first(cli, one_line_error, data_dir):
    command = install_command("gpu")
    assert command == f"pip install -e '{ROOT}[gpu]'"
    switch = f"pip uninstall -y onnxruntime && {command}"
    line = one_line_error(cli("detect", str(data_dir / "bus.jpg"), "--provider", "cuda"), switch)
    assert "onnxruntime-gpu with its CUDA 13" in line
    listed = cli("providers").stdout.splitlines()
    for name, extra in (("cuda", "gpu"), ("openvino", "openvino"), ("directml", "directml")):
        (row,) = [row for row in listed if row.split()[0] == name]
        assert f"pip uninstall -y onnxruntime && {install_command(extra)}" in row, row


def test_fetching_is_said_only_when_something_is_fetched(
    cli, close_registries, model_dir, tmp_path, data_dir
):
    """A model folder that holds the lite bundle: its first use converts it, fetches nothing
    (the registries are closed to make sure), and says so."""
    close_registries()
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(model_dir / "pose_landmarker_lite.task", models)
    env = {**os.environ, "BLAZEPOSE_MODEL_DIR": str(models)}
    done = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", "--json",
               str(tmp_path / "r.json"), env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"blazepose-onnx: first use of the lite model: converting it into {models}" in (
        done.stderr
    )
    assert "fetching and converting" not in done.stderr and "download" not in done.stderr


def test_warnings_carry_the_prefix_of_errors_and_counts_agree(cli, data_dir, tmp_path):
    live = cli("video", str(data_dir / "squat.mp4"), "--live", "--model", "lite",
               "--max-frames", "3")  # fmt: skip
    assert live.returncode == 0, live.stderr
    assert live.stderr.splitlines()[0].startswith("blazepose: warning: --live on a file: ")
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(data_dir / "messi5.jpg", photos)
    one = cli("extract", str(photos), "--out", str(tmp_path / "d"), "--model", "lite")
    assert one.returncode == 0, one.stderr
    assert one.stdout.startswith(f"{tmp_path / 'd'}: 1 source: 1 ok, 0 failed, 0 truncated")
    (photos / "bad.jpg").write_bytes(b"not a jpeg")
    shutil.copy(data_dir / "bus.jpg", photos)
    several = cli("detect", str(photos), "--model", "lite", "--json", str(tmp_path / "r.json"))
    assert several.returncode == 4, several.stderr
    assert "blazepose: 1 of 3 images could not be read" in several.stderr
    assert "2 poses in 2 images; wrote" in several.stdout


def test_retry_failed_is_suggested_only_where_a_source_failed(cli, data_dir, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "bad.jpg").write_bytes(b"not a jpeg")
    done = cli("extract", str(photos), "--out", str(tmp_path / "d"), "--model", "lite")
    assert done.returncode == 4, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "blazepose: 1 of 1 source failed (exit code 4; --retry-failed redoes the failed ones)"
    )
    # a truncated video only: nothing --retry-failed would redo (tests/runtime/extract/
    # test_truncated_videos.py checks that line)


def test_json_on_stdout_keeps_its_summary_on_stderr(cli, data_dir):
    for outputs in (["--json", "-"], []):  # JSON on stdout is also the default
        done = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", *outputs)
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["images"]) == 1
        assert done.stderr == "1 pose in 1 image\n"
