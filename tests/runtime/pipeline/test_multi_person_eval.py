"""The multi-person evaluation on the four labelled COCO photos of mmpose's tests/data/coco/
(three are CC BY-NC: never copied into the project; read from $BLAZEPOSE_COCO_DIR, by default
../shared/testdata/coco/), its counts asserted just under what is measured, so a regression in
the box method, presence with boxes, the built-in person detector, people in every orientation
or the scoring fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
COCO = Path(os.environ.get("BLAZEPOSE_COCO_DIR", ROOT.parent / "shared" / "testdata" / "coco"))
HOW_TO_GET = (
    f"no labelled COCO photos in {COCO}: get mmpose's tests/data/coco and set BLAZEPOSE_COCO_DIR "
    "to it (docs/contributing.md#test-data: git clone --depth 1 --filter=blob:none --sparse "
    "https://github.com/open-mmlab/mmpose && git -C mmpose sparse-checkout set tests/data/coco)"
)
SSD = 'person_detector="ssd" (built-in SSD)'
POSE_DETECTOR = "pose detector, MediaPipe-identical defaults"

pytestmark = [
    pytest.mark.skipif(not (COCO / "test_coco.json").is_file(), reason=HOW_TO_GET),
    pytest.mark.slow,  # the table runs every method on the four photos (about 25 s)
]


@pytest.fixture(scope="module")
def table(model_dir, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("eval") / "eval.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/multi_person_eval.py",
            str(COCO / "test_coco.json"),
            str(COCO),
            "--model",
            "full",
            "--json",
            str(out),
            "--turns",
            "90",
            "180",
            "270",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "BLAZEPOSE_MODEL_DIR": str(model_dir)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def test_the_default_box_method_gives_every_labelled_person_a_good_pose(table):
    ways = table["ways"]
    default = ways["(c) upper-body rule (the default)"]
    before = ways["(a) box ROI, refined once (before)"]
    assert default["people"] == 12 and default["poses"] == 12
    assert default["good"] == 12 and before["good"] == 10  # measured: 12/12 and 10/12
    # measured 0.879 and 0.709 (newest versions), before 0.717 with the lowest ones
    assert default["mean_pck"] >= 0.87 and before["mean_pck"] <= default["mean_pck"] - 0.14


def test_the_pose_detector_alone_finds_a_third(table):
    defaults = table["ways"]["pose detector, MediaPipe-identical defaults"]
    assert defaults["good"] == 4 and defaults["poses"] == 4  # MediaPipe-identical, measured


def test_oks_ap_beside_pck(table):  # pycocotools is in the dev extra
    ways = table["ways"]
    default = ways["(c) upper-body rule (the default)"]["oks_ap"]
    before = ways["(a) box ROI, refined once (before)"]["oks_ap"]
    # measured 0.616 against 0.442 (newest versions), 0.593 against 0.494 (lowest)
    assert default >= 0.58 and before <= default - 0.08


def test_presence_drops_no_good_box_pose(table):
    assert table["presence"] == {"good_dropped": 0, "bad_kept": 0, "bad_kept_at_0": 0}


def test_the_built_in_person_detector_finds_everyone(table):
    """The one option, `person_detector="ssd"` (num_poses unset: everyone; before, 1 pose per
    photo, 4 of 12)."""
    ssd = table["ways"][SSD]
    # measured: 12 of 12 with 15 poses (16 with the lowest versions; at num_poses=8 one fewer:
    # the extra one from a 0.21 box on a partly hidden, unlabelled skier), mean PCK 0.836
    # (0.842), OKS AP 0.542 (0.567)
    assert ssd["good"] == 12 and ssd["poses"] <= 16
    assert ssd["mean_pck"] >= 0.83 and ssd["oks_ap"] >= 0.53


def test_people_turned_any_way_find_more_than_the_pose_detector(table):
    """The photos turned 90, 180, 270 degrees, the landmarker not told: the pose detector in each
    box gives the body's rotation (measured 7, 8 and 11 of 12, with the lowest versions 8, 9 and
    9, against the pose detector's 4, 4 and 5)."""
    ways = table["ways"]
    for degrees, least in ((90, 7), (180, 8), (270, 9)):
        ssd, pose_detector = (
            ways[f"{SSD}, turned {degrees}"],
            ways[f"{POSE_DETECTOR}, turned {degrees}"],
        )
        assert ssd["good"] >= least and pose_detector["good"] <= 5, degrees
