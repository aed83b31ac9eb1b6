"""Batched serving: detect_batch and the multi-stream tracker equal one-at-a-time processing,
with one detector call and one landmarker call per step."""

from __future__ import annotations

import numpy as np
import pytest

from blazepose_onnx import (
    MultiStreamPoseLandmarker,
    PoseLandmarker,
    PoseLandmarkerOptions,
    RunningMode,
)
from blazepose_onnx.errors import InvalidValueError


def runs(landmarker, role: str) -> tuple[int, int]:
    """Runs of a model so far and the batch items they were given (its public model_stats)."""
    stats = landmarker.model_stats[role]
    return stats["runs"], stats["batch_items"]


def test_detect_batch_equals_single_images_in_one_call_per_model(model_dir, images, test_providers):
    options = PoseLandmarkerOptions(
        model="lite",
        num_poses=2,
        output_segmentation_masks=True,
        min_pose_detection_confidence=0.3,
        providers=test_providers,
    )
    batch = [images[name] for name in ("messi5", "bus", "zidane", "astronaut")]  # four sizes
    with (
        PoseLandmarker.create_from_options(options) as single,
        PoseLandmarker.create_from_options(options) as batched,
    ):
        expected = [single.detect(image) for image in batch]
        results = batched.detect_batch(batch)
        assert runs(batched, "detector") == (1, 4)
        assert runs(batched, "landmarker") == (1, sum(len(r.pose_landmarks) for r in expected))
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(got.as_arrays()[0], want.as_arrays()[0], atol=1e-5)
        np.testing.assert_allclose(got.as_arrays()[1], want.as_arrays()[1], atol=1e-5)
        for got_mask, want_mask in zip(
            got.segmentation_masks, want.segmentation_masks, strict=True
        ):
            np.testing.assert_allclose(got_mask, want_mask, atol=1e-4)


def test_empty_batch(landmarker_factory):
    assert landmarker_factory("lite").detect_batch([]) == []


@pytest.mark.slow
def test_multi_stream_equals_separate_streams_with_one_call_per_model(
    model_dir, clips, test_providers
):
    options = dict(model="lite", providers=test_providers)
    streams = {
        "squat": clips["squat.mp4"][:25],
        "dance": clips["dance.mp4"][:25],
        "late-squat": clips["squat.mp4"][60:85],
    }
    expected = {}
    for name, frames in streams.items():
        with PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(running_mode=RunningMode.VIDEO, **options)
        ) as alone:
            expected[name] = [
                alone.detect_for_video(f, i * 33).as_arrays() for i, f in enumerate(frames)
            ]
    with MultiStreamPoseLandmarker(PoseLandmarkerOptions(**options)) as many:
        for name in streams:
            many.open_stream(name)
        for i in range(25):
            before = {role: runs(many, role) for role in ("detector", "landmarker")}
            step = many.process({name: (frames[i], i * 33) for name, frames in streams.items()})
            detector_runs, images = np.subtract(runs(many, "detector"), before["detector"])
            assert runs(many, "landmarker")[0] == before["landmarker"][0] + 1  # for all streams
            assert detector_runs <= 1 and images <= 3
            for name, result in step.items():
                got, want = result.as_arrays(), expected[name][i]
                np.testing.assert_allclose(got[0], want[0], atol=1e-5)
                np.testing.assert_allclose(got[1], want[1], atol=1e-5)
        assert many.stream_stats("squat")["detector_runs"] == 1  # tracked, as alone


def test_a_multi_stream_rotation_equals_detect_for_video_with_that_rotation(
    model_dir, clips, test_providers
):
    # Squat turned a quarter counter-clockwise: a 90-degree clockwise turn makes it upright.
    turned = [np.ascontiguousarray(np.rot90(f)) for f in clips["squat.mp4"][:12]]
    height, width = turned[0].shape[:2]
    box = [[0.1 * width, 0.05 * height, 0.95 * width, 0.9 * height]]  # in the turned frame
    options = dict(model="lite", providers=test_providers)
    video = PoseLandmarkerOptions(running_mode=RunningMode.VIDEO, **options)
    with (
        PoseLandmarker.create_from_options(video) as alone,
        PoseLandmarker.create_from_options(video) as unturned,
        MultiStreamPoseLandmarker(PoseLandmarkerOptions(**options)) as many,
    ):
        many.open_stream("turned", rotation_degrees=90)
        many.open_stream("plain")
        for i, frame in enumerate(turned):
            boxes = box if i == 6 else None  # a refresh from a box mid-clip, mapped upright
            want = alone.detect_for_video(frame, i * 33, 90, person_boxes=boxes).as_arrays()
            plain = unturned.detect_for_video(frame, i * 33).as_arrays()
            step = many.process(
                {"turned": (frame, i * 33), "plain": (frame, i * 33)},
                person_boxes=None if boxes is None else {"turned": boxes},
            )
            got = step["turned"].as_arrays()
            assert got[0].shape == want[0].shape == (1, 33, 5)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
            np.testing.assert_array_equal(step["plain"].as_arrays()[0], plain[0])
        # the rotation was applied: the models saw other pixels (BlazePose's own rotated ROI
        # keeps the landmarks close, ~0.004, so only exact equality tells them apart)
        assert plain[0].shape == want[0].shape and not np.array_equal(plain[0], want[0])
        with pytest.raises(ValueError, match="multiple of 90"):
            many.open_stream("bad", rotation_degrees=45)


def test_stream_ids_and_timestamps(model_dir, clips, test_providers):
    frame = clips["squat.mp4"][0]
    with MultiStreamPoseLandmarker(
        PoseLandmarkerOptions(model="lite", providers=test_providers)
    ) as many:
        many.open_stream("a")
        with pytest.raises(ValueError, match="already open"):
            many.open_stream("a")
        many.open_stream("b")
        many.process({"a": (frame, 0), "b": (frame, 0)})
        with pytest.raises(ValueError, match="monotonically increasing"):
            many.process({"a": (frame, 33), "b": (frame, 0)})
        many.process({"a": (frame, 33), "b": (frame, 33)})  # the refused step changed nothing
        assert many.stream_stats("a")["frames"] == 2
        many.close_stream("a")
        with pytest.raises(ValueError, match="closed and cannot be reused"):
            many.open_stream("a")
        with pytest.raises(ValueError, match="no open stream with id 'a'"):
            many.process({"a": (frame, 66)})


def test_a_refused_image_fails_only_its_own_place_with_errors_return(landmarker_factory, images):
    landmarker = landmarker_factory("lite", num_poses=2)
    good = [images["messi5"], images["bus"]]
    batch = [good[0], images["bus"].astype(np.float64) * 2, np.zeros((4, 4, 3), np.uint8), good[1]]
    outcomes = landmarker.detect_batch(batch, errors="return")
    assert all(isinstance(o, InvalidValueError) for o in outcomes[1:3]), outcomes  # a ValueError
    assert "[0, 1]" in str(outcomes[1]) and "too small" in str(outcomes[2])
    for outcome, image in zip([outcomes[0], outcomes[3]], good, strict=True):
        for got, want in zip(
            outcome.as_arrays(), landmarker.detect(image).as_arrays(), strict=True
        ):
            np.testing.assert_array_equal(got, want)
    boxes = [np.array([[48, 398, 245, 902]]), np.array([[5, 5, 1, 1]])]  # the second is empty
    boxed = landmarker.detect_batch([good[1], good[1]], person_boxes=boxes, errors="return")
    assert len(boxed[0].pose_landmarks) == 1 and isinstance(boxed[1], ValueError)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        landmarker.detect_batch(batch)  # errors="raise", the default: the first refusal
    with pytest.raises(ValueError, match="errors must be"):
        landmarker.detect_batch(good, errors="ignore")
