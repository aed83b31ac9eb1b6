"""`blazepose detect` as a user runs it (a real process): JSON, CSV, annotated images, masks
and COCO keypoints, data on stdout with the summary on stderr, rotation, a person detector, and
bad input (one line, exit 1; a bad image among several is skipped, exit 4; bad usage, exit 2)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, samples
from blazepose_onnx.io.export import CSV_COLUMNS
from blazepose_onnx.landmarks import COCO17_NAMES


def test_readme_main_command_on_the_shipped_sample_writes_json(cli, tmp_path):
    """The README's main job, `blazepose detect runtime/data/messi5.jpg --json result.json`, on
    the sample media the package ships."""
    assert samples.IMAGE.is_file() and samples.VIDEO.is_file()
    out = tmp_path / "result.json"
    done = cli("detect", str(samples.IMAGE), "--json", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    (image,) = data["images"].values()
    assert image["width"] == 1500 and len(image["pose_landmarks"]) == 1
    assert set(image["pose_landmarks"][0][0]) == {"x", "y", "z", "visibility", "presence"}


def test_detect_errors_are_one_line(cli, tmp_path):
    missing = cli("detect", str(tmp_path / "none.jpg"))
    assert (
        missing.returncode == 1
        and missing.stderr.strip()
        == f"blazepose: error: no such image file: {tmp_path / 'none.jpg'}"
    )
    not_image = tmp_path / "x.jpg"
    not_image.write_text("text")
    done = cli("detect", str(not_image))
    assert (
        done.returncode == 1
        and "not a readable image" in done.stderr
        and "Traceback" not in done.stderr
    )


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


def test_truncated_image(cli, one_line_error, data_dir, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes((data_dir / "bus.jpg").read_bytes()[:300])
    one_line_error(cli("detect", str(broken)), "not a readable image")


@pytest.mark.slow
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


def test_csv_has_six_decimals_and_agrees_with_json(cli, data_dir, tmp_path):
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--csv",
               str(tmp_path / "p.csv"), "--json", str(tmp_path / "p.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    pose = json.loads((tmp_path / "p.json").read_text())["images"][str(data_dir / "bus.jpg")]
    for row, landmark, world in zip(
        rows, pose["pose_landmarks"][0], pose["pose_world_landmarks"][0], strict=True
    ):
        for key in ("x", "y", "z", "visibility", "presence"):
            assert len(row[key].split(".")[1]) == 6, row[key]
            assert float(row[key]) == landmark[key]
        assert float(row["world_x"]) == world["x"] and float(row["world_z"]) == world["z"]


def test_masks_dir_writes_one_png_per_image_and_pose(cli, data_dir, tmp_path):
    masks = tmp_path / "masks"
    done = cli("detect", str(data_dir / "messi5.jpg"), str(data_dir / "bus.jpg"), "--model",
               "lite", "--json", str(tmp_path / "r.json"), "--masks", str(masks))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in masks.iterdir()) == ["bus_mask0.png", "messi5_mask0.png"]
    mask = cv2.imread(str(masks / "messi5_mask0.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (1000, 1500) and mask.dtype == np.uint8
    assert mask.max() == 255 and (mask == 0).mean() > 0.5  # a person, on a background


def test_summary_names_the_images_with_no_pose(cli, data_dir, tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 128, np.uint8))
    done = cli("detect", str(data_dir / "bus.jpg"), str(blank), "--model", "lite", "--json",
               str(tmp_path / "r.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"no pose found in: {blank}"


def test_json_on_stdout_keeps_its_summary_on_stderr(cli, data_dir):
    for outputs in (["--json", "-"], []):  # JSON on stdout is also the default
        done = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", *outputs)
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)["images"]) == 1
        assert done.stderr == "1 pose in 1 image\n"


@pytest.mark.slow
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


JPEG, PNG = b"\xff\xd8\xff", b"\x89PNG"


@pytest.mark.slow
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
