"""The 33 pose landmarks (MediaPipe's order and names) and the skeleton connections."""

from __future__ import annotations

import enum

from blazepose_onnx.common.errors import InvalidValueError


class PoseLandmark(enum.IntEnum):
    """Index of each pose landmark, as in MediaPipe's pose landmarker guide."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


# Pairs of landmark indices drawn as the skeleton (MediaPipe's POSE_CONNECTIONS).
POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip

# The 17 COCO keypoints in COCO's order, each the BlazePose landmark of the same body point
# (both name sides from the person's point of view).
COCO17_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
COCO17: tuple[PoseLandmark, ...] = tuple(PoseLandmark[name.upper()] for name in COCO17_NAMES)

# Landmark sets the exports can write: their landmark indices, by name.
KEYPOINT_SETS: dict[str, tuple[int, ...]] = {
    "mediapipe33": tuple(PoseLandmark),
    "coco17": COCO17,
}


def keypoint_names(keypoints: str) -> tuple[str, ...]:
    """Lower-case names of a keypoint set's landmarks, in its order."""
    return tuple(PoseLandmark(index).name.lower() for index in keypoint_indices(keypoints))


def keypoint_indices(keypoints: str) -> tuple[int, ...]:
    """The landmark indices of a keypoint set ('mediapipe33' or 'coco17')."""
    if keypoints not in KEYPOINT_SETS:
        raise InvalidValueError(
            f"keypoints must be one of {', '.join(KEYPOINT_SETS)}, got {keypoints!r}"
        )
    return KEYPOINT_SETS[keypoints]
