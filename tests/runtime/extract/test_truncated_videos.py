"""A video is truncated when it ends before its video stream does, not before its container:
phone clips often carry audio that outlasts the video, and OpenCV's frame count (the container's
duration times the frame rate) then counts frames that never existed. `blazepose video` and
`blazepose extract` decide with the same rule (`blazepose_onnx.io.truncation`) and the same exit
code, with PyAV and without it. The clips are made here: 30 real frames (1 s at 30 fps) with
1.6 s of audio, as a fragmented MP4 (how phones and browsers record, like the original
dance.mp4) and as MKV (which states no frame count), then the same files cut at 55%.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import cv2
import pytest

from blazepose_onnx.io.video_reader import read_frames

FRAMES, FPS, AUDIO_SECONDS = 30, 30, 1.6
CONTAINERS = {"phone.mp4": {"movflags": "frag_keyframe+empty_moov"}, "clip.mkv": {}}


def opencv_count(path: Path) -> int:
    return int(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT))


@pytest.fixture(scope="module")
def clips(tmp_path_factory, data_dir, write_clip) -> Path:
    """A folder with phone.mp4 and clip.mkv, and cut_phone.mp4 and cut_clip.mkv (55% of the
    bytes: what an interrupted copy or download leaves)."""
    folder = tmp_path_factory.mktemp("clips")
    frames = read_frames(str(data_dir / "squat.mp4"), limit=FRAMES)
    for name, options in CONTAINERS.items():
        write_clip(folder / name, frames, FPS, AUDIO_SECONDS, options=options)
        data = (folder / name).read_bytes()
        (folder / f"cut_{name}").write_bytes(data[: int(len(data) * 0.55)])
        # the case the issue met: OpenCV states more frames than the video has
        assert opencv_count(folder / name) > FRAMES + 10, opencv_count(folder / name)
    return folder


@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_a_complete_video_whose_audio_outlasts_it_is_not_truncated(cli, clips, tmp_path, name):
    out = tmp_path / "poses.jsonl"
    done = cli("video", str(clips / name), "--model", "lite", "--jsonl", str(out))
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr and "truncated" not in done.stderr, done.stderr
    assert len(out.read_text().splitlines()) == FRAMES


def cut_frames(path: Path) -> int:
    """The frames a decoder gets from a cut file."""
    capture, count = cv2.VideoCapture(str(path)), 0
    while capture.grab():
        count += 1
    return count


@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_the_same_video_cut_short_exits_3(cli, clips, tmp_path, name):
    cut, out = clips / f"cut_{name}", tmp_path / "poses.jsonl"
    frames = cut_frames(cut)
    assert 0 < frames < FRAMES
    done = cli("video", str(cut), "--model", "lite", "--jsonl", str(out))
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines() == [
        f"blazepose: warning: {cut} ended after {frames} of its {FRAMES} frames (truncated or "
        "damaged); outputs hold the frames read (exit code 3; --allow-truncated accepts it)"
    ]
    assert len(out.read_text().splitlines()) == frames
    allowed = cli("video", str(cut), "--model", "lite", "--allow-truncated")
    assert allowed.returncode == 0 and f"ended after {frames} of its" in allowed.stderr


@pytest.mark.slow
def test_extract_agrees_with_video(cli, clips, tmp_path, read_dataset):
    """Same statuses, same counts, and exit code 3 as `blazepose video` for a truncated file."""
    out = tmp_path / "dataset"
    done = cli("extract", str(clips), "--out", str(out), "--model", "lite")
    assert done.returncode == 3, done.stderr
    manifest, _ = read_dataset(out)
    status = {Path(s).name: (e["status"], e["frames"], e["error"]) for s, e in manifest.items()}
    for name in CONTAINERS:
        frames = cut_frames(clips / f"cut_{name}")
        assert status[name] == ("ok", FRAMES, None), status
        assert status[f"cut_{name}"] == (
            "truncated",
            frames,
            f"ended after {frames} of its {FRAMES} frames",
        ), status
    assert done.stderr.splitlines()[-1] == (
        "blazepose: 2 of 4 sources were truncated (exit code 3; --allow-truncated accepts "
        "truncated videos)"
    )
    accepted = cli("extract", str(clips), "--out", str(out), "--model", "lite",
                   "--allow-truncated")  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr


@pytest.mark.slow
def test_without_pyav_the_files_structure_decides(cli_without, cli_env, clips, tmp_path):
    """No PyAV to read the video stream's length: a cut file ends inside the MP4 box or the
    Matroska segment its container declares; a complete one (longer audio) does not."""
    video = functools.partial(cli_without, ("av",), "video", cwd=tmp_path, env=cli_env)
    for name in CONTAINERS:
        complete = video(str(clips / name), "--model", "lite", "--jsonl", str(tmp_path / "a.jsonl"))
        assert complete.returncode == 0 and "warning" not in complete.stderr, complete.stderr
        cut = clips / f"cut_{name}"
        done = video(str(cut), "--model", "lite", "--jsonl", str(tmp_path / "b.jsonl"))
        assert done.returncode == 3, done.stderr
        assert done.stderr.startswith(
            f"blazepose: warning: {cut} ended after {cut_frames(cut)} frames, inside the data its "
            "container declares (truncated or damaged)"
        ), done.stderr
        json.loads((tmp_path / "b.jsonl").read_text().splitlines()[-1])  # complete records
