"""`--person-detector ssd` through `blazepose detect`, `video` and `extract`, as a user runs
them, the one option (no --num-poses: everyone): everyone on bus.jpg and zidane.jpg, the three
dancers with one id each, the same poses as in-process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions


def test_detect_finds_everyone_on_bus_and_zidane(cli, data_dir, tmp_path, ssd_model, images):
    out = tmp_path / "result.json"
    photos = [str(data_dir / "bus.jpg"), str(data_dir / "zidane.jpg")]
    done = cli("detect", *photos, "--person-detector", "ssd", "--json", str(out))
    assert done.returncode == 0, done.stderr
    images_out = json.loads(out.read_text())["images"]
    results = {Path(name).stem: image["pose_landmarks"] for name, image in images_out.items()}
    assert {name: len(poses) for name, poses in results.items()} == {"bus": 4, "zidane": 2}
    options = PoseLandmarkerOptions(model="full", person_detector="ssd")
    with PoseLandmarker.create_from_options(options) as landmarker:
        expected = landmarker.detect(images["bus"]).as_arrays()[0]
    served = np.array([[[p["x"], p["y"]] for p in pose] for pose in results["bus"]])
    np.testing.assert_allclose(served, expected[..., :2], atol=1e-6)  # as in-process


def test_video_gives_the_three_dancers_one_id_each(cli, data_dir, tmp_path, ssd_model):
    """dance.mp4, the default (full) model: ids 0, 1, 2, each staying in its dancer's
    hand-checked lane, and the three found in 119 of 120 frames (measured)."""
    out = tmp_path / "frames.jsonl"
    done = cli(
        "video", str(data_dir / "dance.mp4"), "--person-detector", "ssd", "--jsonl", str(out),
        "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    lanes = json.loads((data_dir / "dance_lanes.json").read_text())["lanes"]
    lane_of: dict[int, set] = {}
    for record in records:
        for pose_id, pose in zip(record["pose_ids"], record["pose_landmarks"], strict=True):
            x = (pose[23]["x"] + pose[24]["x"]) / 2
            lane_of.setdefault(pose_id, set()).update(
                name for name, (low, high) in lanes.items() if low <= x < high
            )
    assert sorted(lane_of) == [0, 1, 2], lane_of
    assert all(len(names) == 1 for names in lane_of.values()), lane_of  # no id changes dancer
    assert set().union(*lane_of.values()) == set(lanes), lane_of  # one id per dancer
    assert sum(len(r["pose_ids"]) == 3 for r in records) >= 115


def test_extract_takes_it_too(cli, data_dir, tmp_path, ssd_model):
    dataset = tmp_path / "dataset"
    command = ("extract", str(data_dir / "zidane.jpg"), "--out", str(dataset))
    done = cli(*command, "--person-detector", "ssd")
    assert done.returncode == 0, done.stderr
    table = pq.read_table(next((dataset / "poses").rglob("*.parquet")))
    assert table.num_rows == 2
    refused = cli(*command)  # the same folder without the detector: other rows, refused
    assert refused.returncode != 0 and "options" in refused.stderr, refused.stderr


def test_a_misspelt_detector_is_a_usage_error(cli, data_dir):
    done = cli("detect", str(data_dir / "bus.jpg"), "--person-detector", "sdd")
    assert done.returncode == 2
    assert "--person-detector: no such file: sdd (built-in detectors: ssd)" in done.stderr
