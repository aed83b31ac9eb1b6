"""`blazepose video --person-detector ssd` writes the pose ids the API gives (stable through a
crossing; `extract`: tests/runtime/extract/test_tracked_ids.py), and annotated videos give each id
its own colour and label."""

from __future__ import annotations

import csv
import json

import numpy as np

from blazepose_onnx.drawing import draw_landmarks, id_color
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.results import PoseLandmarkerResult


def test_video_writes_the_tracked_ids_and_draws_them(cli, crossing, tmp_path):
    path, frames, want = crossing
    done = cli(
        "video", str(path), "--model", "lite", "--person-detector", "ssd",
        "--jsonl", str(tmp_path / "v.jsonl"), "--csv", str(tmp_path / "v.csv"),
        "--out", str(tmp_path / "v.mp4"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert [r["pose_ids"] for r in records] == [w.pose_ids for w in want]
    assert {i for r in records for i in r["pose_ids"]} == {0, 1}  # one id each, crossing too
    for record, result in zip(records, want, strict=True):
        xy = [[[m["x"], m["y"]] for m in pose] for pose in record["pose_landmarks"]]
        np.testing.assert_allclose(
            np.reshape(xy, (-1, 33, 2)), result.as_arrays()[0][..., :2], atol=2e-6
        )
    rows = list(csv.DictReader((tmp_path / "v.csv").open()))
    assert {row["pose_id"] for row in rows} == {"0", "1"}
    assert len(read_frames(str(tmp_path / "v.mp4"))) == len(frames)


def test_each_id_gets_its_colour_and_a_label(landmarker_factory, images):
    result = landmarker_factory("lite").detect(images["messi5"])
    landmarks, world = result.as_arrays()
    world = np.concatenate([world, landmarks[..., 3:]], axis=2)
    colours = [id_color(i) for i in range(64)]
    assert len(set(colours)) == 64  # many ids, none sharing a colour
    for pose_id in (3, 41):
        relabelled = PoseLandmarkerResult(landmarks, world, None, [pose_id])
        plain = draw_landmarks(np.zeros_like(images["messi5"]), relabelled)
        labelled = draw_landmarks(np.zeros_like(images["messi5"]), relabelled, label_ids=True)
        top = int(landmarks[0, :, 1].min() * images["messi5"].shape[0])
        text = (labelled != plain).any(axis=2)
        assert text[:top].sum() > 50  # the label, above the head
        assert (labelled[:top] == colours[pose_id]).all(axis=2).sum() > 20  # in the id's colour
