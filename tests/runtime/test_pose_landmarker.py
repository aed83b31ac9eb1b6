"""PoseLandmarker end to end on real images: results, modes, errors, rotation, batching."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blazepose_onnx import (
    LandmarkerClosedError,
    MultiStreamPoseLandmarker,
    PoseLandmark,
    PoseLandmarker,
    PoseLandmarkerOptions,
    ProviderError,
    RunningMode,
)
from blazepose_onnx.results import DECIMALS


def test_single_person_result_is_plausible(landmarker_factory, images):
    result = landmarker_factory("full", masks=True).detect(images["messi5"])
    assert len(result.pose_landmarks) == 1 and len(result.pose_world_landmarks) == 1
    pose = result.pose_landmarks[0]
    assert len(pose) == 33
    nose, left_ankle = pose[PoseLandmark.NOSE], pose[PoseLandmark.LEFT_ANKLE]
    assert nose.y < pose[PoseLandmark.LEFT_HIP].y < left_ankle.y  # head above hips above feet
    assert nose.visibility > 0.9 and 0 <= nose.presence <= 1
    landmarks, world = result.as_arrays()
    assert landmarks.shape == (1, 33, 5) and world.shape == (1, 33, 3)
    hips = world[0, [PoseLandmark.LEFT_HIP, PoseLandmark.RIGHT_HIP]]
    assert np.abs(hips.mean(axis=0)).max() < 0.05  # world landmarks are hip-centred
    (mask,) = result.segmentation_masks
    assert mask.shape == images["messi5"].shape[:2] and mask.dtype == np.float32
    x, y = (
        int(pose[PoseLandmark.LEFT_HIP].x * mask.shape[1]),
        int(pose[PoseLandmark.LEFT_HIP].y * mask.shape[0]),
    )
    assert mask[y, x] > 0.9 and mask[5, 5] < 0.1
    data = json.loads(json.dumps(result.to_dict()))  # exports round to DECIMALS places
    assert data["pose_landmarks"][0][0]["x"] == pytest.approx(nose.x, abs=0.5 * 10**-DECIMALS)


def test_nobody_gives_an_empty_result(landmarker_factory, images):
    blank = np.full((480, 640, 3), 127, np.uint8)
    for image in (blank, images["zidane"]):  # MediaPipe finds nobody in zidane either
        result = landmarker_factory("full", masks=True).detect(image)
        assert result.pose_landmarks == [] and result.segmentation_masks == []
        assert result.as_arrays()[0].shape == (0, 33, 5)
    assert landmarker_factory("full").detect(blank).segmentation_masks is None


def test_all_rois_go_through_one_batched_landmarker_call(landmarker_factory, images):
    # A low detection threshold gives several ROIs on zidane (two people, weak scores); every
    # one is kept as a pose (no presence threshold, duplicates of one man not suppressed).
    landmarker = landmarker_factory(
        "lite",
        num_poses=5,
        min_pose_detection_confidence=0.05,
        min_pose_presence_confidence=0.0,
        suppress_duplicate_poses=False,
    )
    before = landmarker.model_stats["landmarker"]
    result = landmarker.detect(images["zidane"])
    after = landmarker.model_stats["landmarker"]
    crops = after["batch_items"] - before["batch_items"]
    assert after["runs"] - before["runs"] == 1 and crops >= 3
    assert len(result.pose_landmarks) == crops


def test_model_stats_count_every_run_from_every_thread(model_dir, images, test_providers):
    """`model_stats`: seconds, runs and batch items per model, consistent while two threads
    call detect(), and still readable after close()."""
    import threading

    options = PoseLandmarkerOptions(model="lite", providers=test_providers)
    with PoseLandmarker.create_from_options(options) as landmarker:
        before = landmarker.model_stats
        workers = [
            threading.Thread(target=lambda: [landmarker.detect(images["messi5"]) for _ in range(6)])
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert landmarker.model_stats != before  # a snapshot, not the live totals
    after = landmarker.model_stats
    for role in ("detector", "landmarker"):
        assert after[role]["runs"] - before[role]["runs"] == 12
        assert after[role]["batch_items"] - before[role]["batch_items"] == 12  # one person
        assert after[role]["seconds"] > before[role]["seconds"]


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_gives_landmarks_in_the_passed_image(landmarker_factory, images, degrees):
    """Rotating the image ourselves and passing rotation_degrees undoes it exactly."""
    landmarker = landmarker_factory("full", masks=True)
    upright = images["messi5"]
    expected = landmarker.detect(upright)
    turned = np.ascontiguousarray(np.rot90(upright, k=degrees // 90))  # counter-clockwise
    result = landmarker.detect(turned, rotation_degrees=degrees)
    got, world = result.as_arrays()
    want, want_world = expected.as_arrays()
    # Map the upright landmarks into the turned image: rot90 CCW takes (x, y) -> (y, 1 - x).
    for _ in range(degrees // 90):
        want[..., 0], want[..., 1] = want[..., 1].copy(), 1.0 - want[..., 0]
    np.testing.assert_allclose(got[..., :2], want[..., :2], atol=1e-6)
    np.testing.assert_allclose(got[..., 3:], want[..., 3:], atol=1e-6)
    np.testing.assert_allclose(world, want_world, atol=1e-6)
    np.testing.assert_array_equal(
        result.segmentation_masks[0], np.rot90(expected.segmentation_masks[0], k=degrees // 90)
    )


def test_detect_accepts_bgr_and_float(landmarker_factory, images):
    landmarker = landmarker_factory("lite")
    rgb = images["messi5"]
    reference = landmarker.detect(rgb).as_arrays()[0]
    np.testing.assert_array_equal(
        landmarker.detect(rgb[..., ::-1], color="bgr").as_arrays()[0], reference
    )
    np.testing.assert_array_equal(landmarker.detect(rgb / 255.0).as_arrays()[0], reference)


def test_closed_landmarker_refuses_calls(model_dir, images):
    landmarker = PoseLandmarker.create_from_model_path("lite")
    with landmarker:
        assert len(landmarker.detect(images["messi5"]).pose_landmarks) == 1
    with pytest.raises(LandmarkerClosedError, match="after close"):
        landmarker.detect(images["messi5"])
    streams = MultiStreamPoseLandmarker(PoseLandmarkerOptions(model="lite"))
    with streams:
        assert streams.pipeline.landmarker is not None
    for closed in (landmarker, streams):  # the sessions were released
        with pytest.raises(LandmarkerClosedError, match="pipeline: the landmarker is closed"):
            _ = closed.pipeline


def test_wrong_mode_and_bad_rotation(landmarker_factory, images):
    landmarker = landmarker_factory("lite")
    with pytest.raises(ValueError, match="multiple of 90"):
        landmarker.detect(images["messi5"], rotation_degrees=45)
    video = PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(model="lite", running_mode=RunningMode.VIDEO)
    )
    with pytest.raises(ValueError, match="detect\\(\\) is for IMAGE mode"):
        video.detect(images["messi5"])
    video.close()


def test_model_paths(model_dir, tmp_path, images):
    with pytest.raises(FileNotFoundError, match="model not found"):
        PoseLandmarker.create_from_model_path(tmp_path / "missing.task")
    with pytest.raises(FileNotFoundError, match=r"has no detector\.onnx"):
        PoseLandmarker.create_from_model_path(tmp_path)
    by_dir = PoseLandmarker.create_from_model_path(model_dir / "lite")
    by_task = PoseLandmarker.create_from_model_path(model_dir / "pose_landmarker_lite.task")
    by_name = PoseLandmarker.create_from_model_path("lite")
    results = [lm.detect(images["messi5"]).as_arrays()[0] for lm in (by_dir, by_task, by_name)]
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_broken_or_foreign_model_files_are_named(model_dir, tmp_path):
    lite = model_dir / "lite"
    (tmp_path / "landmarker.onnx").write_bytes((lite / "landmarker.onnx").read_bytes())
    detector = tmp_path / "detector.onnx"
    detector.write_bytes((lite / "detector.onnx").read_bytes()[:5000])  # truncated download
    with pytest.raises(ValueError, match=r"detector\.onnx is not a readable ONNX model"):
        PoseLandmarker.create_from_model_path(tmp_path)
    detector.write_bytes((lite / "landmarker.onnx").read_bytes())  # files swapped
    with pytest.raises(
        ValueError, match=r"detector\.onnx is not a blazepose-onnx detector model.*'landmarker'"
    ):
        PoseLandmarker.create_from_model_path(tmp_path)


def test_unknown_and_unavailable_providers(model_dir):
    with pytest.raises(ProviderError, match=r"unknown execution provider 'gpu'.*cpu, cuda"):
        PoseLandmarker.create_from_options(PoseLandmarkerOptions(model="lite", providers=["gpu"]))
    with pytest.raises(ProviderError, match=r"'coreml' is not available.*\(available: .*cpu"):
        PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(model="lite", providers=["coreml"])
        )


def test_fp16_precision_end_to_end(model_dir, images):
    """fp16 compute against fp32 on messi5 (full): |dx|,|dy| mean 0.00012, max 0.0012 on
    onnxruntime 1.32 (0.00005 / 0.00044 on 1.20); bounds 1.5x the worst."""
    results = {}
    for precision in ("fp32", "fp16"):
        with PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(model="full", precision=precision)
        ) as landmarker:
            results[precision] = landmarker.detect(images["messi5"]).as_arrays()
    drift = np.abs(results["fp16"][0][..., :2] - results["fp32"][0][..., :2])
    assert 0 < drift.mean() <= 1.75e-4 and drift.max() <= 1.75e-3, (drift.mean(), drift.max())
    with pytest.raises(ValueError, match="precision must be"):
        PoseLandmarkerOptions(precision="int8").validated()
