"""Person boxes and a person detector through `blazepose detect` and `blazepose video`, as a
user would run them (docs/people.md#person-boxes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BUS_PEOPLE = [[48, 398, 245, 902], [670, 380, 809, 875], [221, 405, 344, 857], [0, 550, 63, 873]]
DANCERS = [[0, 240, 140, 560], [100, 250, 245, 580], [215, 225, 360, 560]]  # dance.mp4 frame 0


def test_detect_takes_person_boxes_per_image(cli, data_dir, tmp_path):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({str(data_dir / "bus.jpg"): BUS_PEOPLE, "zidane.jpg": []}))
    out = tmp_path / "result.json"
    images = [str(data_dir / f"{name}.jpg") for name in ("bus", "zidane", "messi5")]
    done = cli(
        "detect", *images, "--num-poses", "5", "--person-boxes", str(boxes), "--json", str(out)
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = {
        Path(k).stem: len(v["pose_landmarks"])
        for k, v in json.loads(out.read_text())["images"].items()
    }
    # bus: one pose per box (the pose detector alone finds 1); zidane: an empty list means
    # nobody; messi5, not in the file: the pose detector.
    assert found == {"bus": 4, "zidane": 0, "messi5": 1}


def test_video_takes_person_boxes_per_frame(cli, data_dir, tmp_path):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"0": DANCERS}))
    lanes = []
    for extra in ([], ["--person-boxes", str(boxes)]):
        out = tmp_path / f"frames{len(extra)}.jsonl"
        done = cli(
            "video", str(data_dir / "dance.mp4"), "--num-poses", "3", "--max-frames", "2",
            "--jsonl", str(out), "--quiet", *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        first = json.loads(out.read_text().splitlines()[0])
        lanes.append(
            sorted(int(3 * (pose[23]["x"] + pose[24]["x"]) / 2) for pose in first["pose_landmarks"])
        )
    assert len(lanes[0]) < 3 and lanes[1] == [0, 1, 2]  # each dancer in her own third


@pytest.mark.slow
def test_person_box_and_detector_mistakes_are_usage_errors(cli, data_dir, tmp_path):
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
        "empty box": (
            "detect",
            "--person-boxes",
            '{"bus.jpg": [[48, 398, 245, 902], [300, 10, 200, 50, 0.5]]}',
            "the boxes of 'bus.jpg' need x2 > x1 and y2 > y1",
        ),
        "NaN": ("video", "--person-boxes", '{"0": [[1, 2, 30, NaN]]}', "contain NaN"),
        "outside": (
            "detect",
            "--person-boxes",
            '{"bus.jpg": [[900, 10, 990, 50]]}',
            "the boxes of 'bus.jpg' must overlap the 810x1080 image",
        ),
        "outside a frame": (
            "video",
            "--person-boxes",
            '{"0": [[10, 10, 50, 90]], "7": [[10, 700, 50, 790]]}',
            "the boxes of '7' must overlap the 360x640 image",
        ),
    }
    for name, (command, option, content, fragment) in cases.items():
        path = tmp_path / f"{name}.json"
        if content is not None:
            path.write_text(content)
        source = bus if command == "detect" else str(data_dir / "dance.mp4")
        done = cli(command, source, option, str(path))
        assert done.returncode == 2, (name, done.stderr)
        assert f"error: {option}: " in done.stderr and fragment in done.stderr, name


def test_boxes_with_and_without_a_score_mix(cli, data_dir, tmp_path):
    """A score on some boxes only is valid: those without one count as sure (score 1), so with
    --num-poses 1 the pose is the unscored box's person; with room, one pose per box."""
    boxes = tmp_path / "boxes.json"
    scored = [[*box, score] for box, score in zip(BUS_PEOPLE[1:], (0.9, 0.5, 0.8), strict=True)]
    boxes.write_text(json.dumps({"bus.jpg": [*scored[:2], BUS_PEOPLE[0], scored[2]]}))
    hips = {}
    for num_poses in ("1", "4"):
        out = tmp_path / f"poses{num_poses}.json"
        done = cli(
            "detect", str(data_dir / "bus.jpg"), "--person-boxes", str(boxes),
            "--num-poses", num_poses, "--json", str(out),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (image,) = json.loads(out.read_text())["images"].values()
        hips[num_poses] = sorted(
            (pose[23]["x"] + pose[24]["x"]) / 2 * image["width"] for pose in image["pose_landmarks"]
        )
    (x,) = hips["1"]
    assert BUS_PEOPLE[0][0] < x < BUS_PEOPLE[0][2]  # the box without a score
    assert len(hips["4"]) == 4
