"""VIDEO and LIVE_STREAM behaviour: tracking, re-detection, timestamps, the live worker."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from blazepose_onnx import (
    LandmarkerClosedError,
    PoseLandmarker,
    PoseLandmarkerOptions,
    PoseLandmarkerResult,
    RunningMode,
)
from blazepose_onnx.stream.smoothing import LowPassFilter, OneEuroFilter
from blazepose_onnx.stream.tracking import associate, rescale_rois


def video_landmarker(**options) -> PoseLandmarker:
    return PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(
            model=options.pop("model", "lite"), running_mode=RunningMode.VIDEO, **options
        )
    )


def test_detector_is_skipped_while_tracking_and_reruns_when_the_person_leaves(model_dir, clips):
    frames = clips["squat.mp4"]
    empty = np.full_like(frames[0], 90)
    with video_landmarker() as landmarker:
        counts = [
            len(landmarker.detect_for_video(f, i * 33).pose_landmarks)
            for i, f in enumerate(frames[:30])
        ]
        assert counts == [1] * 30
        assert landmarker.stats["detector_runs"] == 1  # tracked from the first frame on
        gone = [
            len(landmarker.detect_for_video(empty, (30 + i) * 33).pose_landmarks) for i in range(5)
        ]
        assert gone == [0] * 5
        # The tracked ROI is lost on the first empty frame: the detector runs on every later one.
        assert landmarker.stats["detector_runs"] == 1 + 4
        back = [
            len(landmarker.detect_for_video(f, (35 + i) * 33).pose_landmarks)
            for i, f in enumerate(frames[30:40])
        ]
        assert back == [1] * 10
        assert landmarker.stats["detector_runs"] == 6  # found again, then tracked
        assert landmarker.stats["frames"] == 45


def test_smoothing_follows_mediapipe_rules(model_dir, clips):
    frames = clips["squat.mp4"][:20]
    with video_landmarker(smooth_landmarks=False) as raw, video_landmarker() as smooth:
        raw_x = [raw.detect_for_video(f, i * 33).as_arrays()[0][0] for i, f in enumerate(frames)]
        smooth_x = [
            smooth.detect_for_video(f, i * 33).as_arrays()[0][0] for i, f in enumerate(frames)
        ]
    np.testing.assert_array_equal(raw_x[0], smooth_x[0])  # the first sample passes through
    jitter_raw = np.abs(np.diff(np.array(raw_x)[:, :, :2], axis=0)).mean()
    jitter_smooth = np.abs(np.diff(np.array(smooth_x)[:, :, :2], axis=0)).mean()
    assert jitter_smooth < jitter_raw


@pytest.mark.slow
def test_multi_pose_smoothing_is_optional_and_per_track(model_dir, clips):
    """With num_poses > 1 poses are smoothed only with smooth_multiple_poses: without it they
    equal smooth_landmarks=False bit for bit; with it every pose after the first frame moves."""
    frames = clips["dance.mp4"][:10]
    runs = {}
    for name, options in {
        "raw": {"smooth_landmarks": False},
        "default": {},
        "smoothed": {"smooth_multiple_poses": True},
    }.items():
        with video_landmarker(num_poses=3, **options) as landmarker:
            runs[name] = [
                landmarker.detect_for_video(f, i * 33).as_arrays()[0] for i, f in enumerate(frames)
            ]
    for raw, default in zip(runs["raw"], runs["default"], strict=True):
        np.testing.assert_array_equal(raw, default)
    np.testing.assert_array_equal(runs["raw"][0], runs["smoothed"][0])  # the first passes
    for raw, smoothed in zip(runs["raw"][1:], runs["smoothed"][1:], strict=True):
        assert raw.shape == smoothed.shape and len(raw) >= 1
        assert all(not np.array_equal(r, s) for r, s in zip(raw, smoothed, strict=True))


@pytest.mark.parametrize("legacy", [False, True], ids=["tasks", "legacy"])
def test_needs_detection_changes_nothing(model_dir, clips, legacy):
    """Asking whether a frame of another size needs the detector (Tasks: no, the tracked ROI
    is rescaled; the legacy graph: yes, the track is dropped) leaves the stream as it was."""
    from blazepose_onnx.pipeline.pose_pipeline import PosePipeline
    from blazepose_onnx.solutions.legacy_tracking import legacy_policy
    from blazepose_onnx.stream.pose_stream import PoseStream

    options = PoseLandmarkerOptions(model="lite", running_mode=RunningMode.VIDEO).validated()
    pipeline = PosePipeline(options)
    policy = legacy_policy(False, True, True) if legacy else None
    asked, plain = PoseStream(pipeline, options, policy), PoseStream(pipeline, options, policy)
    frames = clips["squat.mp4"][:6]
    smaller = frames[0][::2, ::2]
    for i, frame in enumerate(frames):
        if i >= 2:
            assert asked.needs_detection(smaller) is legacy
        got, want = asked.process(frame, i * 33), plain.process(frame, i * 33)
        np.testing.assert_array_equal(got.landmarks, want.landmarks)
        np.testing.assert_array_equal(got.world, want.world)
    assert asked.detector_runs == plain.detector_runs == 1


def test_frame_size_change_mid_stream(model_dir, clips):
    import cv2

    frames = clips["squat.mp4"][:6]
    with video_landmarker() as landmarker:
        for i, frame in enumerate(frames):
            if i >= 3:
                frame = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2))
            assert len(landmarker.detect_for_video(frame, i * 33).pose_landmarks) == 1
        assert landmarker.stats["detector_runs"] == 1  # the tracked ROI was rescaled, not lost


@pytest.mark.parametrize(
    ("timestamps", "error", "message"),
    [
        ((0, 0), ValueError, "monotonically increasing"),
        ((10, 5), ValueError, "monotonically increasing"),
        ((-1,), ValueError, "must not be negative"),
        ((1.5,), TypeError, "must be an int"),
    ],
)
def test_bad_timestamps(model_dir, clips, timestamps, error, message):
    frame = clips["squat.mp4"][0]
    with video_landmarker() as landmarker:
        *good, bad = timestamps
        for ts in good:
            landmarker.detect_for_video(frame, ts)
        with pytest.raises(error, match=message):
            landmarker.detect_for_video(frame, bad)


def test_mode_rules(model_dir, clips):
    frame = clips["squat.mp4"][0]
    with pytest.raises(ValueError, match="result_callback must not be provided in VIDEO"):
        PoseLandmarkerOptions(running_mode=RunningMode.VIDEO, result_callback=print).validated()
    with pytest.raises(ValueError, match="result_callback must be provided in LIVE_STREAM"):
        PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(model="lite", running_mode=RunningMode.LIVE_STREAM)
        )
    with (
        video_landmarker() as landmarker,
        pytest.raises(ValueError, match="is for LIVE_STREAM mode"),
    ):
        landmarker.detect_async(frame, 0)


class Collector:
    """A result_callback that records what it gets and can be told to raise or to be slow."""

    def __init__(self, fail_at: set[int] = frozenset(), delay_s: float = 0.0) -> None:
        self.timestamps: list[int] = []
        self.threads: set[int] = set()
        self.problems: list[str] = []  # checks inside the callback would be swallowed and logged
        self.fail_at, self.delay_s = fail_at, delay_s
        self.lock = threading.Lock()

    def __call__(self, result, image, timestamp_ms) -> None:
        time.sleep(self.delay_s)
        with self.lock:
            self.timestamps.append(timestamp_ms)
            self.threads.add(threading.get_ident())
        if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
            self.problems.append(f"image at {timestamp_ms} ms is {type(image).__name__}")
        if not isinstance(result, PoseLandmarkerResult) or len(result.pose_landmarks) > 1:
            self.problems.append(f"result at {timestamp_ms} ms is {result!r}")
        if timestamp_ms in self.fail_at:
            raise RuntimeError("user callback failure")


def live_landmarker(callback) -> PoseLandmarker:
    return PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(
            model="lite", running_mode=RunningMode.LIVE_STREAM, result_callback=callback
        )
    )


def test_live_stream_drops_waiting_frames_and_keeps_order(model_dir, clips):
    frames = clips["squat.mp4"][:40]
    callback = Collector(delay_s=0.02)
    landmarker = live_landmarker(callback)
    for i, frame in enumerate(frames):
        landmarker.detect_async(frame, i * 33)
    landmarker.close()
    stats = landmarker.stats
    assert stats["dropped_frames"] > 0  # submitting never waited for inference (no timing)
    assert stats["delivered_frames"] + stats["dropped_frames"] == len(frames)
    assert callback.problems == []
    assert callback.timestamps == sorted(callback.timestamps)  # delivered in order
    assert callback.timestamps[-1] == (len(frames) - 1) * 33  # the newest frame is never dropped
    assert threading.get_ident() not in callback.threads  # off the caller's thread


def test_callback_exception_does_not_stop_the_stream(model_dir, clips, caplog):
    frames = clips["squat.mp4"][:6]
    callback = Collector(fail_at={33})
    landmarker = live_landmarker(callback)
    for i, frame in enumerate(frames):
        landmarker.detect_async(frame, i * 33)
        time.sleep(0.15)  # let each frame finish: nothing is dropped
    landmarker.close()
    assert callback.timestamps == [i * 33 for i in range(6)]
    assert callback.problems == []
    assert "result_callback raised" in caplog.text


def test_close_drains_joins_and_refuses_more(model_dir, clips):
    callback = Collector()
    landmarker = live_landmarker(callback)
    landmarker.detect_async(clips["squat.mp4"][0], 0)
    landmarker.close()
    assert callback.timestamps == [0]
    assert not [t for t in threading.enumerate() if t.name == "blazepose-live-stream"]
    with pytest.raises(LandmarkerClosedError, match="after close"):
        landmarker.detect_async(clips["squat.mp4"][1], 33)


def test_association_keeps_previous_first_and_replaces_overlaps():
    previous = np.array([[0.3, 0.5, 0.2, 0.2, 0.0], [0.7, 0.5, 0.2, 0.2, 0.0]])
    detected = np.array([[0.31, 0.5, 0.2, 0.2, 0.0], [0.5, 0.9, 0.1, 0.1, 0.0]])
    assert associate(previous, detected, 0.5) == ([1, 2, 3], {2: 0})  # replaces 0
    assert associate(previous[[0, 0]], np.zeros((0, 5)), 0.5) == ([1], {1: 0})  # collapse


def test_rescaled_roi_stays_square_in_pixels():
    roi = np.array([[0.5, 0.5, 0.4, 0.3, 0.2]])  # 160x150 px in 400x500 ... not square
    out = rescale_rois(roi, 200, 100)
    assert out[0, 2] * 200 == pytest.approx(out[0, 3] * 100)


def test_one_euro_and_low_pass_formulas():
    low = LowPassFilter(0.1)
    assert low.apply(np.array([1.0]))[0] == 1.0
    assert low.apply(np.array([2.0]))[0] == pytest.approx(1.1)
    # MediaPipe 1.x (OneEuroFilter::Create, last time -1): a first sample at t=0 is recorded,
    # so the second frame is already smoothed. Neither t=0 nor the first step after it sets the
    # rate, which stays at 30 Hz; beta 0 -> cutoff 1 Hz; alpha = 1 / (1 + tau * f).
    one_euro = OneEuroFilter(min_cutoff=1.0, beta=0.0, derivative_cutoff=1.0)
    assert one_euro.apply(np.array([7.0]), 0)[0] == 7.0
    alpha_30 = 1 / (1 + 30.0 / (2 * np.pi))
    assert one_euro.apply(np.array([0.0]), 33_000)[0] == pytest.approx(7.0 * (1 - alpha_30))
    smoothed = 7.0 * (1 - alpha_30)
    alpha = 1 / (1 + (1e6 / 33_000) / (2 * np.pi))  # rate from the timestamps from here on
    expected = alpha * 1.0 + (1 - alpha) * smoothed
    assert one_euro.apply(np.array([1.0]), 66_000)[0] == pytest.approx(expected)
    assert one_euro.apply(np.array([5.0]), 66_000)[0] == 5.0  # non-increasing time: passed through
    # MediaPipe's legacy filter (last time 0) passes a t=0 sample through without recording it.
    legacy = OneEuroFilter(min_cutoff=1.0, beta=0.0, derivative_cutoff=1.0, initial_time_us=0)
    assert legacy.apply(np.array([7.0]), 0)[0] == 7.0
    assert legacy.apply(np.array([0.0]), 1_000)[0] == 0.0
