"""The Python API under misuse: a table of bad inputs with their error types and messages,
options as a snapshot, close() from any thread, limits on what one call may cost."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from blazepose_onnx import (
    BlazePoseError,
    LandmarkerClosedError,
    MultiStreamPoseLandmarker,
    PoseLandmarker,
    PoseLandmarkerOptions,
    RunningMode,
)
from blazepose_onnx.drawing import draw_landmarks
from blazepose_onnx.options import MAX_NUM_POSES

RGB = np.zeros((64, 64, 3), np.uint8)
HUGE = np.broadcast_to(np.zeros(3, np.uint8), (16000, 16000, 3))  # no memory behind it
HUGE_FLOAT = np.broadcast_to(np.zeros(3, np.float32), (16000, 16000, 3))

# (what, call on an IMAGE-mode lite landmarker, error type, message fragment)
BAD_CALLS = [
    ("not an array", lambda lm: lm.detect(b"img.jpg"), TypeError, "numpy array"),
    ("missing file", lambda lm: lm.detect("none.jpg"), FileNotFoundError, "no such image file"),
    ("no image", lambda lm: lm.detect(None), TypeError, "numpy array"),
    ("4-D", lambda lm: lm.detect(np.zeros((1, 8, 8, 3), np.uint8)), ValueError, "HxW"),
    ("5 channels", lambda lm: lm.detect(np.zeros((8, 8, 5), np.uint8)), ValueError, "HxWx4"),
    ("empty", lambda lm: lm.detect(np.zeros((0, 8, 3), np.uint8)), ValueError, "empty"),
    ("tiny", lambda lm: lm.detect(np.zeros((4, 4, 3), np.uint8)), ValueError, "too small"),
    ("int16", lambda lm: lm.detect(RGB.astype(np.int16)), TypeError, "dtype"),
    ("NaN", lambda lm: lm.detect(np.full((8, 8, 3), np.nan, np.float32)), ValueError, "NaN"),
    ("out of range", lambda lm: lm.detect(np.full((8, 8, 3), 2.0)), ValueError, "[0, 1]"),
    ("colour order", lambda lm: lm.detect(RGB, color="hsv"), ValueError, "color must be"),
    ("gray of 3", lambda lm: lm.detect(RGB, color="gray"), ValueError, "single-channel"),
    ("rotation 45", lambda lm: lm.detect(RGB, rotation_degrees=45), ValueError, "multiple of 90"),
    ("rotation str", lambda lm: lm.detect(RGB, rotation_degrees="90"), TypeError, "int"),
    ("huge uint8", lambda lm: lm.detect(HUGE), ValueError, "too large"),
    ("huge float", lambda lm: lm.detect(HUGE_FLOAT), ValueError, "max_image_pixels"),
    ("video call", lambda lm: lm.detect_for_video(RGB, 0), ValueError, "VIDEO mode"),
    ("live call", lambda lm: lm.detect_async(RGB, 0), ValueError, "LIVE_STREAM mode"),
    ("batch member", lambda lm: lm.detect_batch([RGB, None]), TypeError, "numpy array"),
]

BAD_OPTIONS = [
    ({"num_poses": 0}, "num_poses"),
    ({"num_poses": MAX_NUM_POSES + 1}, f"[1, {MAX_NUM_POSES}]"),
    ({"num_poses": 1000}, "num_poses"),
    ({"min_pose_detection_confidence": "0.5"}, "min_pose_detection_confidence"),
    ({"min_tracking_confidence": 1.5}, "min_tracking_confidence"),
    ({"max_image_pixels": 10}, "max_image_pixels"),
    ({"trust_unverified": "yes"}, "trust_unverified"),
    ({"precision": "int8"}, "precision"),
    ({"providers": "cpu"}, "providers"),
    ({"running_mode": RunningMode.LIVE_STREAM}, "result_callback"),
]


@pytest.mark.parametrize(
    ("what", "call", "error", "fragment"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
def test_bad_calls_raise_typed_errors_naming_the_problem(
    landmarker_factory, what, call, error, fragment
):
    with pytest.raises(error, match=None) as caught:
        call(landmarker_factory("lite"))
    assert fragment in str(caught.value), (what, str(caught.value))
    assert isinstance(caught.value, BlazePoseError), type(caught.value)  # the one error base


@pytest.mark.parametrize(("options", "fragment"), BAD_OPTIONS, ids=[str(o) for o, _ in BAD_OPTIONS])
def test_bad_options_raise_value_error_naming_the_option(options, fragment):
    with pytest.raises(ValueError) as caught:
        PoseLandmarkerOptions(**options).validated()
    assert fragment in str(caught.value)
    assert isinstance(caught.value, BlazePoseError), type(caught.value)


def test_options_are_a_snapshot(model_dir, images):
    options = PoseLandmarkerOptions(model="lite", num_poses=2)
    with PoseLandmarker.create_from_options(options) as landmarker:
        options.num_poses = 0  # before: silently 0 poses
        options.min_pose_detection_confidence = "high"  # before: a numpy error
        options.running_mode = RunningMode.VIDEO  # before: a false error, then AttributeError
        assert len(landmarker.detect(images["bus"]).pose_landmarks) >= 1
        copy = landmarker.options
        copy.num_poses = 5
        assert landmarker.options.num_poses == 2
        with pytest.raises(AttributeError):
            landmarker.options = options


def test_close_while_threads_detect(model_dir, images):
    """Before: 81 of 120 threads got AttributeError. Now a call completes or is refused."""
    landmarker = PoseLandmarker.create_from_options(PoseLandmarkerOptions(model="lite"))
    outcomes, lock = [], threading.Lock()
    start = threading.Barrier(41)

    def work() -> None:
        start.wait()
        for _ in range(3):
            try:
                result = landmarker.detect(images["messi5"])
                outcome = "ok" if len(result.pose_landmarks) == 1 else "wrong"
            except LandmarkerClosedError:
                outcome = "closed"
            except Exception as exc:  # collected: any other error fails the test
                outcome = repr(exc)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(40)]
    for thread in threads:
        thread.start()
    start.wait()
    landmarker.close()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 120 and set(outcomes) <= {"ok", "closed"}, set(outcomes)
    assert "closed" in outcomes
    with pytest.raises(LandmarkerClosedError):
        landmarker.detect(images["messi5"])


def test_close_inside_the_live_stream_callback(model_dir, clips):
    delivered, errors = [], []

    def callback(result, image, timestamp_ms):
        delivered.append(timestamp_ms)
        try:
            landmarker.close()
        except Exception as exc:  # collected: close() must not raise here
            errors.append(exc)

    landmarker = PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(
            model="lite", running_mode=RunningMode.LIVE_STREAM, result_callback=callback
        )
    )
    landmarker.detect_async(clips["squat.mp4"][0], 0)
    for _ in range(200):
        if delivered:
            break
        threading.Event().wait(0.05)
    landmarker._worker._thread.join(timeout=30)
    assert delivered == [0] and errors == []
    with pytest.raises(LandmarkerClosedError):
        landmarker.detect_async(clips["squat.mp4"][1], 33)


def test_multistream_close_refuses_later_calls(model_dir, clips):
    with MultiStreamPoseLandmarker(PoseLandmarkerOptions(model="lite")) as streams:
        streams.open_stream("a")
        assert len(streams.process({"a": (clips["squat.mp4"][0], 0)})["a"].pose_landmarks) == 1
    for call in (
        lambda: streams.process({"a": (clips["squat.mp4"][1], 33)}),
        lambda: streams.open_stream("b"),
        lambda: streams.close_stream("a"),
    ):
        with pytest.raises(LandmarkerClosedError):
            call()


def test_zero_detection_confidence_gives_finite_poses_without_warnings(landmarker_factory, images):
    """Before: 0/0 in weighted NMS, NaN ROIs and a numpy RuntimeWarning."""
    landmarker = landmarker_factory("lite", num_poses=5, min_pose_detection_confidence=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = landmarker.detect(images["bus"])
    landmarks, world = result.as_arrays()
    assert len(landmarks) >= 1 and np.isfinite(landmarks).all() and np.isfinite(world).all()


def test_drawing_on_read_only_and_non_contiguous_images(landmarker_factory, images):
    result = landmarker_factory("lite").detect(images["messi5"])
    frozen = images["messi5"].copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        draw_landmarks(frozen, result)
    expected = draw_landmarks(images["messi5"].copy(), result)
    flipped = np.ascontiguousarray(images["messi5"][:, :, ::-1])[:, :, ::-1]  # a strided view
    assert not flipped.flags.c_contiguous
    draw_landmarks(flipped, result)
    np.testing.assert_array_equal(flipped, expected)


def test_limits_are_configurable(model_dir):
    big = np.broadcast_to(np.zeros(3, np.uint8), (1000, 1000, 3))
    limited = PoseLandmarkerOptions(model="lite", max_image_pixels=500_000)
    with (
        PoseLandmarker.create_from_options(limited) as landmarker,
        pytest.raises(ValueError, match=r"1000x1000 = 1,000,000 pixels.*limit is 500,000"),
    ):
        landmarker.detect(big)
    with PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(model="lite", max_image_pixels=None)
    ) as landmarker:
        assert len(landmarker.detect(big).pose_landmarks) == 0
