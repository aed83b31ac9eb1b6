"""`blazepose detect` and `blazepose video` as a user runs them: outputs and bad input."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from blazepose_onnx.io.export import CSV_COLUMNS

SCRIPT = Path(sys.executable).with_name("blazepose")


def frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    return count


def test_detect_globs_folders_json_csv_annotations(cli, data_dir, tmp_path):
    out = tmp_path / "out"
    done = cli(
        "detect",
        str(data_dir / "m*.jpg"),
        str(data_dir),
        "--model",
        "lite",
        "--masks",
        "--json",
        str(out / "poses.json"),
        "--csv",
        str(out / "poses.csv"),
        "--annotate",
        str(out / "annotated"),
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "poses.json").read_text())
    assert data["model"] == "lite"
    # messi5 from the glob, then the folder's other three images (each file once)
    assert list(data["images"]) == [
        str(data_dir / n) for n in ("messi5.jpg", "astronaut.jpg", "bus.jpg", "zidane.jpg")
    ]
    messi = data["images"][str(data_dir / "messi5.jpg")]
    assert messi["segmentation_mask_shapes"] == [[1000, 1500]]
    assert len(messi["pose_landmarks"][0]) == 33 and len(messi["pose_world_landmarks"][0]) == 33
    with (out / "poses.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["name"] == "nose" and rows[32]["name"] == "right_foot_index"
    poses = sum(len(r["pose_landmarks"]) for r in data["images"].values())
    assert len(rows) == 33 * poses
    annotated = cv2.imread(str(out / "annotated" / "messi5_pose.jpg"))
    original = cv2.imread(str(data_dir / "messi5.jpg"))
    assert annotated.shape == original.shape and (annotated != original).any()
    assert sorted(p.name for p in (out / "annotated").iterdir()) == [
        "astronaut_pose.jpg",
        "bus_pose.jpg",
        "messi5_pose.jpg",
        "zidane_pose.jpg",
    ]


def test_detect_json_to_stdout(cli, data_dir):
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--json", "-")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["images"][str(data_dir / "bus.jpg")]["pose_landmarks"]) == 1


def test_video_outputs_have_every_frame(cli, data_dir, tmp_path):
    done = cli(
        "video",
        str(data_dir / "squat.mp4"),
        "--model",
        "lite",
        "--out",
        str(tmp_path / "a.mp4"),
        "--jsonl",
        str(tmp_path / "a.jsonl"),
        "--csv",
        str(tmp_path / "a.csv"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("frames: 120, poses found: 120, frames without a pose: 0, ")
    assert "video codec: H.264" in done.stdout
    assert "provider: cpu" in done.stdout
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    assert frame_count(tmp_path / "a.mp4") == 120
    records = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(120))
    assert records[1]["timestamp_ms"] == 33 and len(records[0]["pose_landmarks"]) == 1
    with (tmp_path / "a.csv").open() as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 120 * 33
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.csv",
        "a.jsonl",
        "a.mp4",
    ]  # no temporaries


def test_live_video_reports_dropped_frames(cli, data_dir, tmp_path):
    done = cli(
        "video",
        str(data_dir / "dance.mp4"),
        "--live",
        "--model",
        "lite",
        "--max-frames",
        "40",
        "--jsonl",
        str(tmp_path / "live.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    delivered = int(done.stdout.split("frames: ")[1].split(",")[0])
    dropped = int(done.stdout.split("dropped frames: ")[1].split()[0])
    assert delivered + dropped == 40 and delivered >= 1
    frames = [
        json.loads(line)["frame"] for line in (tmp_path / "live.jsonl").read_text().splitlines()
    ]
    assert len(frames) == delivered and frames == sorted(frames) and frames[-1] == 39


def test_ctrl_c_leaves_complete_outputs_for_the_frames_done(cli_env, data_dir, tmp_path):
    process = subprocess.Popen(
        [
            str(SCRIPT),
            "video",
            str(data_dir / "squat.mp4"),
            "--model",
            "heavy",
            "--out",
            str(tmp_path / "b.mp4"),
            "--jsonl",
            str(tmp_path / "b.jsonl"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    deadline = time.monotonic() + 60  # interrupt once frames are being written
    while not any(p.stat().st_size for p in tmp_path.glob(".b.jsonl.*")):
        assert process.poll() is None and time.monotonic() < deadline, process.poll()
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stdout and "Traceback" not in stderr
    done = int(stdout.split("frames: ")[1].split(",")[0])
    assert 0 < done < 120
    assert frame_count(tmp_path / "b.mp4") == done
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == done
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.jsonl", "b.mp4"]


@pytest.mark.parametrize("command", ["detect", "video"])
def test_missing_and_unreadable_inputs(cli, one_line_error, tmp_path, command):
    one_line_error(cli(command, str(tmp_path / "nothing.jpg")), "no such")
    text = tmp_path / "fake.mp4" if command == "video" else tmp_path / "fake.jpg"
    text.write_text("not media")
    expected = "not a readable video" if command == "video" else "not a readable image"
    one_line_error(cli(command, str(text)), expected)


def test_truncated_image(cli, one_line_error, data_dir, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((data_dir / "bus.jpg").read_bytes()[:300])
    one_line_error(cli("detect", str(broken)), "not a readable image")


def test_empty_video_and_closed_camera(cli, one_line_error, tmp_path):
    empty = tmp_path / "empty.mp4"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    writer.release()
    done = cli("video", str(empty), "--out", str(tmp_path / "o.mp4"))
    assert (
        done.returncode != 0
        and "blazepose: error: " in done.stderr
        and "Traceback" not in done.stderr
    )
    assert not (tmp_path / "o.mp4").exists()
    one_line_error(cli("video", "7"), "camera 7 could not be opened")


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


def test_detect_folder_with_rotation_to_stdout(cli, data_dir, tmp_path):
    """The README's `detect FOLDER --model heavy --num-poses 5 --masks --rotate 90 --json -`."""
    folder = tmp_path / "turned"
    folder.mkdir()
    turned = np.rot90(cv2.imread(str(data_dir / "messi5.jpg")), k=1)  # person lying on the side
    cv2.imwrite(str(folder / "messi5_turned.png"), np.ascontiguousarray(turned))
    done = cli(
        "detect",
        str(folder),
        "--model",
        "heavy",
        "--num-poses",
        "5",
        "--masks",
        "--rotate",
        "90",
        "--json",
        "-",
    )
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(done.stdout)["images"].values()
    assert (record["width"], record["height"]) == (1000, 1500)
    (pose,) = record["pose_landmarks"]
    nose, ankle = pose[0], pose[27]
    assert nose["x"] < ankle["x"]  # upright person turned counter-clockwise: head to the left


def test_strict_run_with_a_bad_image_leaves_nothing(cli, one_line_error, data_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data_dir / "bus.jpg", folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    done = cli(
        "detect",
        str(folder),
        "--model",
        "lite",
        "--json",
        str(out / "r.json"),
        "--annotate",
        str(out / "ann"),
        "--strict",
    )
    one_line_error(done, "not a readable image")
    assert not (out / "r.json").exists()
    assert not (out / "ann").exists() or not any((out / "ann").iterdir())
