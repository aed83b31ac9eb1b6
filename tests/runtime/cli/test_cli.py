"""`blazepose` driven through a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from blazepose_onnx.common.install import install_command


def test_readme_main_command_writes_json(cli, data_dir, tmp_path):
    out = tmp_path / "result.json"
    done = cli("detect", str(data_dir / "messi5.jpg"), "--json", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    (image,) = data["images"].values()
    assert image["width"] == 1500 and len(image["pose_landmarks"]) == 1
    assert set(image["pose_landmarks"][0][0]) == {"x", "y", "z", "visibility", "presence"}


def test_detect_errors_are_one_line(cli, tmp_path):
    missing = cli("detect", str(tmp_path / "none.jpg"))
    assert (
        missing.returncode == 1
        and missing.stderr.strip()
        == f"blazepose: error: no such image file: {tmp_path / 'none.jpg'}"
    )
    not_image = tmp_path / "x.jpg"
    not_image.write_text("text")
    done = cli("detect", str(not_image))
    assert (
        done.returncode == 1
        and "not a readable image" in done.stderr
        and "Traceback" not in done.stderr
    )


def test_precision_bf16_says_what_it_needs(cli, data_dir):
    done = cli("detect", str(data_dir / "messi5.jpg"), "--precision", "bf16")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        "blazepose detect: error: --precision bf16 runs on OpenVINO's CPU plugin: add "
        "--provider openvino" in done.stderr
    )


def test_providers_lists_every_provider_with_a_reason(cli):
    done = cli("providers")
    assert done.returncode == 0, done.stderr
    for name in ("cpu", "cuda", "tensorrt", "openvino", "coreml", "directml"):
        assert f"  {name} " in done.stdout
    assert "cpu       available" in done.stdout
    assert "unavailable: not in this onnxruntime build" in done.stdout


def test_serve_triton_without_the_extra_says_so_and_leaves_no_workspace(tmp_path, one_line_error):
    """pytriton not importable: one error line naming the extra, no folder left in the temp dir."""
    repository = tmp_path / "repo"
    (repository / "pose_image").mkdir(parents=True)
    (repository / "pose_image" / "config.pbtxt").write_text('backend: "python"\n')
    temp = tmp_path / "tmp"
    temp.mkdir()
    code = (
        "import sys; sys.modules['pytriton'] = None; from blazepose_onnx.cli.main import main; "
        f"sys.exit(main(['serve', 'triton', {str(repository)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    one_line_error(done, f"needs pytriton, which is not installed: {install_command('triton')}")
    assert [p for p in temp.iterdir() if p.is_dir()] == []  # (onnxruntime writes a .ses file)


def test_a_full_disk_is_one_line(cli, data_dir):
    """An OS error the run expects (the output's disk is full: /dev/full) is one line, exit 1."""
    done = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", "--json", "/dev/full")
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().startswith("blazepose: error: ") and "Traceback" not in done.stderr
    assert "No space left on device" in done.stderr


def test_a_bug_in_the_pipeline_shows_its_traceback(cli_env, data_dir, tmp_path):
    """A ValueError no check of ours raised (here: numpy refusing shapes inside the landmarker
    stage) is a bug: the real CLI lets it through with its traceback instead of one line."""
    code = (
        "import sys\n"
        "from blazepose_onnx.pipeline import pose_pipeline\n"
        "def broken(*args, **kwargs):\n"
        "    raise ValueError('operands could not be broadcast together')\n"
        "pose_pipeline.PosePipeline.landmarks_batch = broken\n"
        "from blazepose_onnx.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "detect", str(data_dir / "messi5.jpg"), "--model", "lite",
         "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, env=cli_env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.rstrip().endswith("ValueError: operands could not be broadcast together")
    assert "blazepose: error:" not in done.stderr
    assert not (tmp_path / "r.json").exists()
