"""Annotated outputs as users expect them: an image keeps its format (a JPEG stays a JPEG, at
`--quality`), a video keeps its input's sound (with PyAV; without it the summary says there is
none and why)."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from blazepose_onnx.io.video_reader import read_frames

JPEG, PNG = b"\xff\xd8\xff", b"\x89PNG"


def test_annotated_images_keep_their_format(cli, data_dir, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    jpeg = (data_dir / "messi5.jpg").read_bytes()
    (photos / "messi5.jpg").write_bytes(jpeg)
    cv2.imwrite(str(photos / "bus.png"), cv2.imread(str(data_dir / "bus.jpg")))
    done = cli("detect", str(photos), "--model", "lite", "--annotate", str(tmp_path / "a"),
               "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["bus_pose.png", "messi5_pose.jpg"]
    annotated = (tmp_path / "a" / "messi5_pose.jpg").read_bytes()
    assert annotated.startswith(JPEG) and (tmp_path / "a" / "bus_pose.png").read_bytes()[:4] == PNG
    # quality 95 of a photo saved at 92: about its size (as PNG: 2.4 MB for 380 kB, 6.4x)
    assert len(annotated) < 1.5 * len(jpeg), (len(annotated), len(jpeg))
    drawn = cv2.imread(str(tmp_path / "a" / "messi5_pose.jpg"))
    assert (
        drawn.shape == (1000, 1500, 3) and (drawn != cv2.imread(str(photos / "messi5.jpg"))).any()
    )
    low = cli("detect", str(photos / "messi5.jpg"), "--model", "lite", "--quality", "40",
              "--annotate", str(tmp_path / "low"), "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert low.returncode == 0, low.stderr
    assert len((tmp_path / "low" / "messi5_pose.jpg").read_bytes()) < 0.5 * len(annotated)
    bad = cli("detect", str(photos), "--quality", "0")
    assert bad.returncode == 2 and "argument --quality: must be an integer in [1, 100]" in (
        bad.stderr
    )


def tone_rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))


def audio_of(path) -> tuple[str, int, float, np.ndarray]:
    """The first audio stream's codec, channels, length in seconds and first channel's
    samples."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(stream)])
        return stream.codec_context.name, stream.channels, len(samples) / stream.rate, samples


@pytest.fixture(scope="module")
def clips(tmp_path_factory, data_dir, write_clip):
    """1 s of real video (30 frames) with 1.6 s of a tone: AAC in MP4 (copied as it is) and
    16-bit PCM in MKV (which MP4 does not hold: encoded to AAC)."""
    folder = tmp_path_factory.mktemp("sound")
    frames = read_frames(str(data_dir / "squat.mp4"), limit=30)
    write_clip(folder / "talk.mp4", frames, audio_seconds=1.6)
    write_clip(folder / "talk.mkv", frames, audio_seconds=1.6, audio_codec="pcm_s16le")
    return folder


@pytest.mark.parametrize(
    ("name", "said"),
    [("talk.mp4", "audio: aac (the input's)"), ("talk.mkv", "audio: the input's pcm_s16le as AAC")],
)
def test_annotated_video_keeps_the_inputs_sound(cli, clips, tmp_path, name, said):
    out = tmp_path / "annotated.mp4"
    done = cli("video", str(clips / name), "--model", "lite", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert said in done.stdout
    codec, channels, seconds, samples = audio_of(out)
    assert (codec, channels) == ("aac", 1)
    assert 1.0 <= seconds <= 1.05, seconds  # cut at the video's end (1 s), not the input's 1.6 s
    assert abs(tone_rms(samples[4410:-4410]) - 0.2 / np.sqrt(2)) < 0.01  # the tone itself
    first = cli("video", str(clips / name), "--model", "lite", "--max-frames", "15",
                "--out", str(tmp_path / "half.mp4"))  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert 0.5 <= audio_of(tmp_path / "half.mp4")[2] <= 0.55


def test_without_pyav_the_summary_says_the_video_has_no_sound(cli_without, cli_env, clips,
                                                              tmp_path):  # fmt: skip
    video = functools.partial(cli_without, ("av",), "video", cwd=tmp_path, env=cli_env)
    out = tmp_path / "annotated.mp4"
    done = video(str(clips / "talk.mp4"), "--model", "lite", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (
        "video codec: MPEG-4 Part 2 (mp4v, via OpenCV, no sound; install PyAV - the [video] "
        "extra - for H.264 with the input's audio)"
    ) in done.stdout
    assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == 30
