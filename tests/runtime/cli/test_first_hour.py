"""What a new user meets in the first hour, through the real `blazepose` command: errors that
name the real cause and the CLI option, clean data on stdout, runs that survive one bad input,
several videos and stream URLs, COCO keypoints, frame sampling, and a quick start-up."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions
from blazepose_onnx.landmarks import COCO17_NAMES

PYTHON = sys.executable


def test_video_reports_a_bad_model_as_itself_and_writes_nothing(
    cli, one_line_error, data_dir, tmp_path
):
    clip = str(data_dir / "squat.mp4")
    out = tmp_path / "o.mp4"
    missing = one_line_error(
        cli("video", clip, "--out", str(out), "--model", str(tmp_path / "mine.task")),
        "model not found",
    )
    assert "could not write video" not in missing
    one_line_error(cli("video", clip, "--out", str(out), "--provider", "cuda"), "'cuda'")
    assert list(tmp_path.iterdir()) == []


def test_json_on_stdout_stays_clean_beside_other_outputs(cli, data_dir, tmp_path):
    done = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", "--json", "-",
               "--csv", str(tmp_path / "p.csv"), "--annotate", str(tmp_path / "ann"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(done.stdout)["images"].values()
    assert len(record["pose_landmarks"]) == 1
    assert "1 pose in 1 image; wrote" in done.stderr
    rows = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", "--csv", "-",
               "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert rows.returncode == 0, rows.stderr
    table = list(csv.DictReader(io.StringIO(rows.stdout)))
    assert len(table) == 33 and "wrote" in rows.stderr


def test_a_bad_image_is_skipped_the_others_written_exit_4(cli, data_dir, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data_dir / "messi5.jpg", folder / "a.jpg")
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    shutil.copy(data_dir / "bus.jpg", folder / "c.jpg")
    out = tmp_path / "r.json"
    done = cli("detect", str(folder), "--model", "lite", "--json", str(out),
               "--annotate", str(tmp_path / "ann"))  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert f"skipped {folder / 'b.jpg'}: not a readable image" in done.stderr
    assert "1 of 3 images could not be read" in done.stderr
    document = json.loads(out.read_text())
    assert sorted(Path(p).name for p in document["images"]) == ["a.jpg", "c.jpg"]
    assert list(document["failed"]) == [str(folder / "b.jpg")]
    assert sorted(p.name for p in (tmp_path / "ann").iterdir()) == ["a_pose.jpg", "c_pose.jpg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--num-poses", "0"], "argument --num-poses: must be an integer in [1, 64], got 0"),
        (["--rotate", "45"], "argument --rotate: must be a multiple of 90"),
        (["--min-detection-confidence", "2"], "argument --min-detection-confidence: must be a "
         "number in [0, 1], got 2"),
        (["--num-threads", "0"], "argument --num-threads: must be an integer >= 1, got 0"),
        (["--provider", "gpu"], "--provider: unknown execution provider 'gpu'"),
        (["--precision", "bf16"], "--precision bf16 runs on OpenVINO's CPU plugin: add "
         "--provider openvino"),
        (["--num-posse", "2"], "unrecognized arguments: --num-posse 2 (did you mean --num-poses?)"),
    ],
)  # fmt: skip
def test_bad_usage_names_the_option_and_exits_2(cli, data_dir, args, message):
    done = cli("detect", str(data_dir / "messi5.jpg"), *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("usage: blazepose detect"), done.stderr
    assert f"blazepose detect: error: {message}" in done.stderr
    assert "Traceback" not in done.stderr and "num_poses" not in done.stderr


def test_masks_before_a_photo_takes_it_as_an_input(cli, data_dir, tmp_path):
    done = cli("detect", "--masks", str(data_dir / "messi5.jpg"), "--model", "lite",
               "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (record,) = json.loads((tmp_path / "r.json").read_text())["images"].values()
    assert record["segmentation_mask_shapes"] == [[1000, 1500]]


def test_video_takes_several_files_folders_and_globs(cli, data_dir, tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(data_dir / "squat.mp4", clips / "one.mp4")
    shutil.copy(data_dir / "squat.mp4", tmp_path / "two.mp4")
    (clips / "notes.txt").write_text("not a video")
    out = tmp_path / "out"
    done = cli("video", str(clips), str(tmp_path / "tw*.mp4"), "--model", "lite",
               "--max-frames", "5", "--jsonl", str(out), "--csv", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["one.csv", "one.jsonl", "two.csv", "two.jsonl"]
    for name in ("one", "two"):
        records = [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
        assert [r["frame"] for r in records] == [0, 1, 2, 3, 4]
        assert records[0]["source"].endswith(f"{name}.mp4")
        assert f"{name}.mp4: frames: 5" in done.stdout


def test_one_unreadable_video_among_several_exits_4(cli, data_dir, tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    done = cli("video", str(tmp_path / "bad.mp4"), str(data_dir / "squat.mp4"), "--model",
               "lite", "--max-frames", "3", "--jsonl", str(tmp_path / "out"))  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert f"skipped {tmp_path / 'bad.mp4'}: not a readable video" in done.stderr
    assert len((tmp_path / "out" / "squat.jsonl").read_text().splitlines()) == 3
    strict = cli("video", str(tmp_path / "bad.mp4"), str(data_dir / "squat.mp4"), "--strict",
                 "--model", "lite", "--jsonl", str(tmp_path / "strict"))  # fmt: skip
    assert strict.returncode == 1 and not (tmp_path / "strict").exists()


class RangeRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serves byte ranges too, as video servers do (FFmpeg seeks to an MP4's index)."""

    def send_head(self):
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if match is None or not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else len(data) - 1
        self.send_response(206)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return io.BytesIO(data[start : end + 1])


@pytest.fixture()
def http_server(data_dir):
    """A real HTTP server on loopback serving tests/data, for stream URLs."""
    handler = functools.partial(RangeRequestHandler, directory=str(data_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_video_reads_a_stream_url(cli, http_server, tmp_path):
    done = cli("video", f"{http_server}/squat.mp4", "--model", "lite", "--max-frames", "4",
               "--jsonl", str(tmp_path / "s.jsonl"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 4
    gone = cli("video", f"{http_server}/missing.mp4", "--model", "lite", "--jsonl", "-")
    assert gone.returncode == 1 and "could not be opened" in gone.stderr


def test_video_without_outputs_says_nothing_is_written(cli, data_dir):
    done = cli("video", str(data_dir / "squat.mp4"), "--model", "lite", "--max-frames", "2")
    assert done.returncode == 0, done.stderr
    assert "nothing will be written" in done.stderr and "frames: 2" in done.stdout


def test_stride_and_fps_sample_frames_at_video_time(cli, data_dir, tmp_path):
    clip = str(data_dir / "squat.mp4")  # 30 fps
    by_stride = cli("video", clip, "--model", "lite", "--stride", "3", "--max-frames", "4",
                    "--jsonl", "-")  # fmt: skip
    records = [json.loads(line) for line in by_stride.stdout.splitlines()]
    assert [r["frame"] for r in records] == [0, 3, 6, 9]
    assert [r["timestamp_ms"] for r in records] == [0, 100, 200, 300]
    assert "frames: 4" in by_stride.stderr  # stdout carries the records
    by_fps = cli("video", clip, "--model", "lite", "--fps", "5", "--max-frames", "3",
                 "--jsonl", "-")  # fmt: skip
    assert [json.loads(line)["frame"] for line in by_fps.stdout.splitlines()] == [0, 6, 12]


def test_coco17_keypoints_in_results_and_exports(cli, data_dir, tmp_path):
    with PoseLandmarker.create_from_options(PoseLandmarkerOptions(model="lite")) as landmarker:
        result = landmarker.detect(data_dir / "messi5.jpg")  # a path works as the image
    coco = result.to_coco17()
    landmarks, _ = result.as_arrays()
    assert coco.shape == (1, 17, 3)
    assert np.array_equal(coco[0, 0], landmarks[0, 0, [0, 1, 3]])  # nose
    assert np.array_equal(coco[0, 16, :2], landmarks[0, 28, :2])  # right ankle
    pixels = result.to_coco17(image_size=(1500, 1000))
    assert np.allclose(pixels[0, 5, :2], coco[0, 5, :2] * [1500, 1000])
    json_out, csv_out = str(tmp_path / "r.json"), str(tmp_path / "r.csv")
    done = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", "--keypoints",
               "coco17", "--json", json_out, "--csv", csv_out)  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    (record,) = document["images"].values()
    assert document["keypoints"] == "coco17" and len(record["pose_landmarks"][0]) == 17
    assert record["pose_landmarks"][0][15]["x"] == round(float(coco[0, 15, 0]), 6)
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert [r["name"] for r in rows] == list(COCO17_NAMES)


def test_show_without_a_gui_is_one_clear_line(cli, one_line_error, data_dir, tmp_path):
    for command in (
        ["detect", str(data_dir / "messi5.jpg"), "--json"],
        ["video", str(data_dir / "squat.mp4"), "--jsonl"],
    ):
        done = cli(*command, str(tmp_path / "x"), "--show")
        line = one_line_error(done, "--show cannot open a window")
        assert "no GUI support" in line or "no display" in line
    assert list(tmp_path.iterdir()) == []


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
