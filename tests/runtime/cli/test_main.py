"""What every `blazepose` command shares (runtime/cli/main.py), through the real command:
`--version` and `--help`, errors on one line (a bug keeps its traceback, `-v` shows it), bad usage
with a suggestion (exit 2), one output on stdout, warnings that look like errors, exact install
hints, a lean start-up, outputs never left half-written, and `blazepose providers`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from blazepose_onnx import __version__
from blazepose_onnx.common.install import install_command

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[3]


def test_providers_lists_every_provider_with_a_reason(cli):
    done = cli("providers")
    assert done.returncode == 0, done.stderr
    for name in ("cpu", "cuda", "tensorrt", "openvino", "coreml", "directml"):
        assert f"  {name} " in done.stdout
    assert "cpu       available" in done.stdout
    assert "unavailable: not in this onnxruntime build" in done.stdout


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


@pytest.mark.parametrize("command", ["detect", "video"])
def test_missing_and_unreadable_inputs(cli, one_line_error, tmp_path, command):
    one_line_error(cli(command, str(tmp_path / "nothing.jpg")), "no such")
    text = tmp_path / "fake.mp4" if command == "video" else tmp_path / "fake.jpg"
    text.write_text("not media")
    expected = "not a readable video" if command == "video" else "not a readable image"
    one_line_error(cli(command, str(text)), expected)


def test_output_equal_to_input_and_conflicting_flags(cli, one_line_error, data_dir, tmp_path):
    image = tmp_path / "in.jpg"
    shutil.copy(data_dir / "bus.jpg", image)
    before = image.read_bytes()
    one_line_error(cli("detect", str(image), "--json", str(image)), "is an input file")
    assert image.read_bytes() == before
    same = str(tmp_path / "x.out")
    one_line_error(cli("detect", str(image), "--json", same, "--csv", same), "both write")
    clip = tmp_path / "in.mp4"
    shutil.copy(data_dir / "squat.mp4", clip)
    one_line_error(cli("video", str(clip), "--out", str(clip)), "is an input file")
    bad_usage = cli("video", str(clip), "--max-frames", "0")
    assert bad_usage.returncode == 2
    assert "error: argument --max-frames: must be an integer >= 1, got 0" in bad_usage.stderr


def test_unwritable_output_leaves_nothing(cli, one_line_error, data_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    done = cli(
        "detect",
        str(data_dir / "bus.jpg"),
        "--model",
        "lite",
        "--json",
        str(tmp_path / "ok.json"),
        "--csv",
        str(blocker / "x.csv"),
    )
    one_line_error(done, "cannot write to")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # ok.json was not left behind
    done = cli(
        "video",
        str(data_dir / "squat.mp4"),
        "--model",
        "lite",
        "--jsonl",
        str(blocker / "x.jsonl"),
    )
    one_line_error(done, "cannot write to")


def test_show_without_a_gui_is_one_clear_line(cli, one_line_error, data_dir, tmp_path):
    for command in (
        ["detect", str(data_dir / "messi5.jpg"), "--json"],
        ["video", str(data_dir / "squat.mp4"), "--jsonl"],
    ):
        done = cli(*command, str(tmp_path / "x"), "--show")
        line = one_line_error(done, "--show cannot open a window")
        assert "no GUI support" in line or "no display" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_start_up_imports_only_what_the_command_needs(model_dir, data_dir, tmp_path):
    """`--version` loads no runtime; `detect` on converted models never imports onnx."""
    script = (
        "import sys; from blazepose_onnx.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'cv2', 'numpy') if m in sys.modules))\n"
    )
    version = subprocess.run([PYTHON, "-c", script + "", "--version"], capture_output=True,
                             text=True, cwd=tmp_path)  # fmt: skip
    assert version.returncode == 0 and version.stdout.startswith("blazepose-onnx ")
    env = {"BLAZEPOSE_MODEL_DIR": str(model_dir), "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # the first run may build the session cache; the second must not
        detect = subprocess.run(
            [PYTHON, "-c", script, "detect", str(data_dir / "messi5.jpg"), "--model", "lite",
             "--json", str(tmp_path / "r.json")],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert detect.returncode == 0, detect.stderr
    assert detect.stdout.splitlines()[-1] == "['cv2', 'numpy', 'onnxruntime']"


def test_verbose_shows_the_traceback_before_the_line(cli, tmp_path):
    done = cli("-v", "detect", str(tmp_path / "none.jpg"))
    assert done.returncode == 1 and "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"blazepose: error: no such image file: {tmp_path / 'none.jpg'}"
    )


def test_one_name_for_the_model_option_with_the_old_one_kept():
    from blazepose_onnx.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["bench", "--model", "lite,heavy"]).variants == "lite,heavy"
    assert parser.parse_args(["bench", "--variants", "lite"]).variants == "lite"
    assert parser.parse_args(["detect", "a.jpg", "--model", "heavy"]).model == "heavy"


def test_version_and_help_with_defaults(cli):
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"blazepose-onnx {__version__}"
    help_text = " ".join(cli("detect", "--help").stdout.split())
    for fragment in (
        "--num-poses NUM_POSES most poses per image, 1 to 64 (default: 1, MediaPipe's; with "
        "--person-detector, everyone up to 64)",
        "--min-detection-confidence MIN_DETECTION_CONFIDENCE minimum the pose detector's "
        "score, in [0, 1] (default: 0.5)",
        "--model MODEL lite, full, heavy",
        "(default: full)",
        "--provider-fallback",
        "--num-threads NUM_THREADS",
        "--trust-unverified",
        "--masks [DIR]",
    ):
        assert fragment in help_text, fragment


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


@pytest.mark.slow
def test_warnings_carry_the_prefix_of_errors_and_counts_agree(cli, data_dir, tmp_path):
    live = cli("video", str(data_dir / "squat.mp4"), "--live", "--model", "lite",
               "--max-frames", "3")  # fmt: skip
    assert live.returncode == 0, live.stderr
    assert live.stderr.splitlines()[0].startswith(
        "blazepose: warning: --live on a file: frames that arrive while one is"
    )
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
