"""`blazepose` driven through a subprocess, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("blazepose")


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_readme_main_command_writes_json(cli_env, data_dir, tmp_path):
    out = tmp_path / "result.json"
    done = run_cli("detect", str(data_dir / "messi5.jpg"), "--json", str(out), env=cli_env)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    (image,) = data["images"].values()
    assert image["width"] == 1500 and len(image["pose_landmarks"]) == 1
    assert set(image["pose_landmarks"][0][0]) == {"x", "y", "z", "visibility", "presence"}


def test_detect_errors_are_one_line(cli_env, tmp_path):
    missing = run_cli("detect", str(tmp_path / "none.jpg"), env=cli_env)
    assert (
        missing.returncode == 1
        and missing.stderr.strip()
        == f"blazepose: error: no such image file: {tmp_path / 'none.jpg'}"
    )
    not_image = tmp_path / "x.jpg"
    not_image.write_text("text")
    done = run_cli("detect", str(not_image), env=cli_env)
    assert (
        done.returncode == 1
        and "not a readable image" in done.stderr
        and "Traceback" not in done.stderr
    )


def test_precision_bf16_says_what_it_needs(cli_env, data_dir):
    done = run_cli("detect", str(data_dir / "messi5.jpg"), "--precision", "bf16", env=cli_env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        "blazepose detect: error: --precision bf16 runs on OpenVINO's CPU plugin: add "
        "--provider openvino" in done.stderr
    )


def test_providers_lists_every_provider_with_a_reason(cli_env):
    done = run_cli("providers", env=cli_env)
    assert done.returncode == 0, done.stderr
    for name in ("cpu", "cuda", "tensorrt", "openvino", "coreml", "directml"):
        assert f"  {name} " in done.stdout
    assert "cpu       available" in done.stdout
    assert "unavailable: not in this onnxruntime build" in done.stdout


BUS_PEOPLE = [[48, 398, 245, 902], [670, 380, 809, 875], [221, 405, 344, 857], [0, 550, 63, 873]]
DANCERS = [[0, 240, 140, 560], [100, 250, 245, 580], [215, 225, 360, 560]]  # dance.mp4 frame 0


def test_detect_takes_person_boxes_per_image(cli_env, data_dir, tmp_path):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({str(data_dir / "bus.jpg"): BUS_PEOPLE, "zidane.jpg": []}))
    out = tmp_path / "result.json"
    images = [str(data_dir / f"{name}.jpg") for name in ("bus", "zidane", "messi5")]
    done = run_cli(
        "detect", *images, "--num-poses", "5", "--person-boxes", str(boxes), "--json", str(out),
        env=cli_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = {
        Path(k).stem: len(v["pose_landmarks"])
        for k, v in json.loads(out.read_text())["images"].items()
    }
    # bus: one pose per box (the pose detector alone finds 1); zidane: an empty list means
    # nobody; messi5, not in the file: the pose detector.
    assert found == {"bus": 4, "zidane": 0, "messi5": 1}


def test_video_takes_person_boxes_per_frame(cli_env, data_dir, tmp_path):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"0": DANCERS}))
    lanes = []
    for extra in ([], ["--person-boxes", str(boxes)]):
        out = tmp_path / f"frames{len(extra)}.jsonl"
        done = run_cli(
            "video", str(data_dir / "dance.mp4"), "--num-poses", "3", "--max-frames", "2",
            "--jsonl", str(out), "--quiet", *extra, env=cli_env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        first = json.loads(out.read_text().splitlines()[0])
        lanes.append(
            sorted(int(3 * (pose[23]["x"] + pose[24]["x"]) / 2) for pose in first["pose_landmarks"])
        )
    assert len(lanes[0]) < 3 and lanes[1] == [0, 1, 2]  # each dancer in her own third


def test_person_box_and_detector_mistakes_are_usage_errors(cli_env, data_dir, tmp_path):
    bus = str(data_dir / "bus.jpg")
    cases = {
        "not json": ("detect", "--person-boxes", "{nope", "is not JSON"),
        "bad box": ("detect", "--person-boxes", '{"bus.jpg": [[1, 2, 3]]}', "must be a list of"),
        "typo": (
            "detect",
            "--person-boxes",
            '{"bsu.jpg": []}',
            "no input image is named 'bsu.jpg'",
        ),
        "frame key": ("video", "--person-boxes", '{"first": []}', "must be frame indices"),
        "no model": ("detect", "--person-detector", None, "no such file"),
    }
    for name, (command, option, content, fragment) in cases.items():
        path = tmp_path / f"{name}.json"
        if content is not None:
            path.write_text(content)
        source = bus if command == "detect" else str(data_dir / "dance.mp4")
        done = run_cli(command, source, option, str(path), env=cli_env)
        assert done.returncode == 2, (name, done.stderr)
        assert f"error: {option}: " in done.stderr and fragment in done.stderr, name
