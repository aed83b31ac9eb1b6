"""Random inputs and options never crash, and concurrent use is safe.

The fuzz runs use hypothesis profiles (tests/conftest.py): `ci` by default (300 examples per
test), `long` with `--hypothesis-profile=long` (10,000).
"""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from blazepose_onnx import (
    LandmarkerClosedError,
    PoseLandmarker,
    PoseLandmarkerOptions,
    PoseLandmarkerResult,
    RunningMode,
)

DOCUMENTED_ERRORS = (
    ValueError,
    TypeError,
)  # ProviderError, LandmarkerClosedError subclass ValueError

DTYPES = st.sampled_from(
    [np.uint8, np.float32, np.float64, np.int16, np.int32, np.bool_, np.complex64]
)
ARRAYS = hnp.arrays(
    dtype=DTYPES,
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=40),
    elements={"allow_nan": True, "allow_infinity": True},
)
NOT_ARRAYS = st.one_of(
    st.none(), st.integers(), st.binary(max_size=5), st.lists(st.integers(), max_size=5)
)


def _assert_valid(result: PoseLandmarkerResult, image: np.ndarray) -> None:
    landmarks, world = result.as_arrays()
    assert landmarks.shape[1:] == (33, 5) and world.shape[1:] == (33, 3)
    assert np.isfinite(landmarks).all() and np.isfinite(world).all()


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    image=st.one_of(ARRAYS, NOT_ARRAYS),
    rotation=st.one_of(st.integers(-400, 400), st.floats(), st.none()),
    color=st.sampled_from(["rgb", "bgr", "rgba", "bgra", "gray", "hsv"]),
)
def test_random_images_give_a_result_or_a_documented_error(
    landmarker_factory, image, rotation, color
):
    landmarker = landmarker_factory("lite", num_poses=2, masks=True)
    try:
        result = landmarker.detect(image, rotation_degrees=rotation, color=color)
    except DOCUMENTED_ERRORS:
        return
    _assert_valid(result, image)


@settings(deadline=None)
@given(
    num_poses=st.one_of(st.integers(-2, 6), st.floats(), st.booleans(), st.none()),
    confidence=st.one_of(st.floats(allow_nan=True), st.integers(-1, 2), st.text(max_size=3)),
    mode=st.one_of(st.sampled_from(list(RunningMode)), st.text(max_size=6)),
    callback=st.sampled_from([None, print, "not callable"]),
    masks=st.one_of(st.booleans(), st.integers(0, 2)),
    threads=st.one_of(st.none(), st.integers(-1, 3)),
)
def test_random_options_validate_or_raise_value_error(
    num_poses, confidence, mode, callback, masks, threads
):
    options = PoseLandmarkerOptions(
        num_poses=num_poses,
        min_pose_detection_confidence=confidence,
        running_mode=mode,
        result_callback=callback,
        output_segmentation_masks=masks,
        num_threads=threads,
    )
    try:
        options = options.validated()
    except ValueError:
        return
    assert isinstance(options.num_poses, int) and options.num_poses >= 1
    assert 0.0 <= options.min_pose_detection_confidence <= 1.0
    assert isinstance(options.running_mode, RunningMode)


def test_image_mode_is_safe_from_several_threads(landmarker_factory, images):
    """One IMAGE-mode landmarker, four threads at once: each result equals the sequential one."""
    landmarker = landmarker_factory("lite", masks=True)
    names = ["messi5", "bus", "astronaut", "zidane"] * 3
    expected = {name: landmarker.detect(images[name]).as_arrays()[0] for name in set(names)}
    got, errors = [None] * len(names), []

    def work(k: int) -> None:
        try:
            got[k] = landmarker.detect(images[names[k]]).as_arrays()[0]
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for name, result in zip(names, got, strict=True):
        np.testing.assert_array_equal(result, expected[name])


def test_video_mode_from_several_threads_is_serialised_or_refused(model_dir, clips):
    """Concurrent detect_for_video calls are serialised; out-of-order timestamps are refused."""
    frames = clips["squat.mp4"][:24]
    landmarker = PoseLandmarker.create_from_options(
        PoseLandmarkerOptions(model="lite", running_mode=RunningMode.VIDEO)
    )
    outcomes, lock = [], threading.Lock()

    def work(offset: int) -> None:
        for i in range(offset, len(frames), 4):
            try:
                result = landmarker.detect_for_video(frames[i], i * 33)
                outcome = ("ok", len(result.pose_landmarks))
            except ValueError as exc:
                outcome = ("refused", str(exc))
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    landmarker.close()
    assert len(outcomes) == len(frames)
    assert all(
        (kind == "ok" and n == 1) or (kind == "refused" and "monotonically" in n)
        for kind, n in outcomes
    )
    assert sum(kind == "ok" for kind, _ in outcomes) >= 6
    try:
        landmarker.detect_for_video(frames[0], 10_000)
    except LandmarkerClosedError:
        pass
    else:
        raise AssertionError("a closed landmarker must refuse calls")
