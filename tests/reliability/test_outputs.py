"""Outputs are complete under their final name or absent, and never replace what is not a
regular file: devices, FIFOs, symlinks, full disks, signals and processes killed outright."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

SCRIPT = str(Path(sys.executable).with_name("blazepose"))


AS_ROOT = os.geteuid() == 0
NEEDS_ROOT = "needs root (CI runs as root): mount a 64 KB tmpfs, mknod a character device"


@pytest.mark.skipif(not AS_ROOT, reason=NEEDS_ROOT)
def test_character_device_is_written_in_place_not_replaced(cli, data_dir, tmp_path):
    """What `--json /dev/null` did as root: the device must stay a device."""
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # the same device as /dev/null
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--json", str(device))
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(device.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary beside it
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--json", "/dev/null")
    assert done.returncode == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dev_stdout_prints_the_json(cli, data_dir):
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--json", "/dev/stdout")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.split("\n1 pose in")[0])["model"] == "lite"
    assert os.path.islink("/dev/stdout") or not Path("/dev/stdout").is_file()


def test_fifo_is_written_through(cli, data_dir, tmp_path):
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--csv", str(fifo))
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and received[0].startswith("source,frame,timestamp_ms,pose,pose_id,landmark")


def test_symlink_is_followed_and_its_target_replaced_atomically(cli, data_dir, tmp_path):
    real = tmp_path / "real" / "poses.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--json", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert json.loads(real.read_text())["model"] == "lite"
    assert sorted(p.name for p in real.parent.iterdir()) == ["poses.json"]


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 64 KB tmpfs: writes fail with ENOSPC like on a full disk (skipped unless root)."""
    if not AS_ROOT:
        pytest.skip(NEEDS_ROOT)
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_video_on_a_full_disk_fails_and_leaves_nothing(cli, one_line_error, data_dir, tiny_disk):
    done = cli(
        "video", str(data_dir / "squat.mp4"), "--model", "lite", "--out", str(tiny_disk / "o.mp4")
    )
    one_line_error(done, "could not write video")
    assert list(tiny_disk.iterdir()) == []


@pytest.mark.slow
def test_live_jsonl_on_a_full_disk_stops_in_one_line_and_leaves_nothing(cli, data_dir, tiny_disk):
    # Before: each failed write was logged with its traceback, the stream went on, the partial
    # file was renamed into place and the exit code was 0. With an annotated video beside it,
    # the video's own check on close must not add a second error.
    clip = data_dir / "squat.mp4"
    filler = tiny_disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as handle:
        handle.write(bytes(64 * 1024))  # the disk is full: the first record cannot be written
    jsonl = ["--jsonl", str(tiny_disk / "poses.jsonl")]
    for outputs in (jsonl, [*jsonl, "--out", str(tiny_disk / "annotated.mp4")]):
        done = cli("video", str(clip), "--model", "lite", "--live", *outputs)
        assert done.returncode == 1, done.stderr
        errors = [line for line in done.stderr.splitlines() if " warning: " not in line]
        assert len(errors) == 1, done.stderr
        assert errors[0].startswith("blazepose: error: "), errors
        assert f"{clip}: could not write the result" in errors[0] or (
            len(outputs) > 2 and "could not write video" in errors[0]  # the video, at its start
        ), errors
        assert list(tiny_disk.iterdir()) == [filler]


def test_json_and_csv_on_a_full_disk_fail_and_leave_nothing(
    cli, one_line_error, data_dir, tiny_disk
):
    filler = tiny_disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as handle:
        handle.write(bytes(60 * 1024))  # leaves a few KB: less than the results need
    done = cli(
        "detect",
        str(data_dir),
        "--model",
        "lite",
        "--num-poses",
        "5",
        "--json",
        str(tiny_disk / "r.json"),
        "--csv",
        str(tiny_disk / "sub" / "r.csv"),
    )
    one_line_error(done, "No space left on device")
    assert list(tiny_disk.iterdir()) == [filler]  # neither file, nor the folder for the CSV


def _started_writing(folder: Path, timeout_s: float = 60.0) -> None:
    """Wait until a run has written its first results (a temporary file with data)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.name.startswith(".") and p.stat().st_size for p in folder.iterdir()):
            return
        time.sleep(0.05)
    raise AssertionError("the run wrote nothing")


# dance.mp4 with heavy and three poses runs the detector on every frame: well over 10 s here.
LONG_RUN = ["video", "tests/data/dance.mp4", "--model", "heavy", "--num-poses", "3"]


@pytest.mark.slow
def test_sigterm_stops_between_frames_and_keeps_complete_outputs(cli_env, data_dir, tmp_path):
    process = subprocess.Popen(
        [SCRIPT, *LONG_RUN, "--jsonl", str(tmp_path / "t.jsonl"), "--csv", str(tmp_path / "t.csv")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env,
        cwd=data_dir.parent.parent,
    )  # fmt: skip
    _started_writing(tmp_path)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    done = int(stdout.split("frames: ")[1].split(",")[0])
    poses = int(stdout.split("poses found: ")[1].split(",")[0])
    assert 0 < done < 267
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == done
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 1 + 33 * poses
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.jsonl"]


@pytest.mark.slow
def test_sigterm_during_detect_leaves_nothing_and_exits_143(cli_env, data_dir, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for k in range(200):  # heavy with masks: several seconds of work
        (images / f"{k:03d}.jpg").write_bytes((data_dir / "messi5.jpg").read_bytes())
    out = tmp_path / "out"
    process = subprocess.Popen(
        [SCRIPT, "detect", str(images), "--model", "heavy", "--masks", "--annotate",
         str(out / "ann"), "--json", str(out / "r.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (out / "ann").is_dir() and time.monotonic() < deadline:  # annotating has begun
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert stderr.strip() == "blazepose: terminated"
    assert not out.exists()  # no annotated image, no JSON, no folder


@pytest.mark.slow
def test_next_run_removes_temporaries_left_by_a_killed_run(cli, cli_env, data_dir, tmp_path):
    out = tmp_path / "o.jsonl"
    process = subprocess.Popen(
        [SCRIPT, *LONG_RUN, "--jsonl", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env,
        cwd=data_dir.parent.parent,
    )  # fmt: skip
    _started_writing(tmp_path)
    process.kill()  # SIGKILL: nothing can clean up
    process.wait(timeout=60)
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".o.jsonl.blazepose-"), left
    done = cli("video", str(data_dir / "squat.mp4"), "--model", "lite", "--max-frames", "2",
               "--jsonl", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["o.jsonl"]


def test_failed_run_leaves_no_empty_folders(cli, one_line_error, data_dir, tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"not a jpeg")
    done = cli("detect", str(bad), "--json", str(tmp_path / "new" / "deeper" / "r.json"),
               "--annotate", str(tmp_path / "ann"))  # fmt: skip
    one_line_error(done, "not a readable image")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


@pytest.mark.slow
def test_truncated_video_is_reported(cli, data_dir, tmp_path):
    import cv2

    capture = cv2.VideoCapture(str(data_dir / "squat.mp4"))
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 30, (406, 720))
    for _ in range(40):
        writer.write(capture.read()[1])
    writer.release()
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) // 2])  # what an interrupted copy leaves
    readable = cv2.VideoCapture(str(clip))
    frames = 0
    while readable.grab():
        frames += 1
    assert 0 < frames < 40
    out = tmp_path / "t.jsonl"
    done = cli("video", str(clip), "--model", "lite", "--jsonl", str(out))
    assert done.returncode == 3, done.stderr
    (warning,) = done.stderr.strip().splitlines()  # the decoder's own noise stays off stderr
    assert warning.startswith(f"blazepose: warning: {clip} ended after {frames} of its 40 frames")
    assert len(out.read_text().splitlines()) == frames
    done = cli("video", str(clip), "--model", "lite", "--allow-truncated")
    assert done.returncode == 0 and f"ended after {frames} of its 40 frames" in done.stderr


@pytest.mark.parametrize("pyav", [True, False])
def test_a_video_that_did_not_fit_is_reported_by_either_writer(tiny_disk, pyav):
    """OpenCV's writer fails silently on a full disk; the check after closing catches it."""
    from blazepose_onnx.io.video_writer import VideoFile, VideoWriteError

    rng = np.random.default_rng(0)
    video = VideoFile(tiny_disk / "v.mp4", 30.0, (320, 240), h264=pyav)
    with pytest.raises(VideoWriteError, match="could not write video"):
        for _ in range(30):  # noise: every frame costs tens of KB, the disk holds 64
            video.write(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
        video.close()


@pytest.mark.parametrize("pyav", [True, False])
def test_both_writers_make_playable_files(tmp_path, pyav):
    from blazepose_onnx.io.video_writer import H264, MPEG4, VideoFile, playback_problem

    video = VideoFile(tmp_path / "v.mp4", 30.0, (320, 240), h264=pyav)
    assert video.codec == (H264 if pyav else MPEG4)
    for k in range(12):
        video.write(np.full((240, 320, 3), k * 20, np.uint8))
    video.close()
    assert playback_problem(tmp_path / "v.mp4", 12) is None
