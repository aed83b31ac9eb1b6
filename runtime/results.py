"""PoseLandmarkerResult: MediaPipe's result shape, backed by numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from blazepose_onnx.landmarks import COCO17, keypoint_indices

FIELDS = ("x", "y", "z", "visibility", "presence")
DECIMALS = 6  # exports (JSON, JSON Lines, CSV) round to this many decimals


@dataclass(frozen=True)
class Landmark:
    """One landmark: x, y normalised to the image (or metres for world landmarks), z, scores."""

    x: float
    y: float
    z: float
    visibility: float
    presence: float


class SegmentationMask(np.ndarray):
    """A float32 HxW mask in [0, 1]: a numpy array that also has `mp.Image`'s `numpy_view()`,
    so MediaPipe code reading `result.segmentation_masks[0].numpy_view()` runs unchanged."""

    def numpy_view(self) -> np.ndarray:
        return self.view(np.ndarray)


def _landmark_lists(array: np.ndarray) -> list[list[Landmark]]:
    return [[Landmark(*map(float, row)) for row in pose] for pose in array.tolist()]


class PoseLandmarkerResult:
    """Poses found in one image: `pose_landmarks`, `pose_world_landmarks`, `segmentation_masks`.

    `pose_landmarks[i][k]` is landmark k (see `PoseLandmark`) of pose i, with x/y normalised
    to the image and z on the scale of x (smaller is nearer the camera). World landmarks are in
    metres, centred between the hips. `segmentation_masks` is a list of float32 HxW arrays in
    [0, 1], one per pose, or None when masks were not asked for. `pose_ids` gives each pose an
    integer id: in VIDEO, LIVE_STREAM and multi-stream modes the id of its track (new when a
    track starts, kept while it is tracked, never reused within a stream); 0..n-1 in IMAGE mode.
    """

    def __init__(
        self,
        landmarks: np.ndarray,
        world_landmarks: np.ndarray,
        segmentation_masks: list[np.ndarray] | None = None,
        pose_ids: list[int] | None = None,
    ) -> None:
        self._landmarks = np.asarray(landmarks, np.float32).reshape(-1, 33, 5)
        self._world = np.asarray(world_landmarks, np.float32).reshape(-1, 33, 5)
        self.pose_ids = list(range(len(self._landmarks))) if pose_ids is None else list(pose_ids)
        self.segmentation_masks = (
            None
            if segmentation_masks is None
            else [np.asarray(mask).view(SegmentationMask) for mask in segmentation_masks]
        )

    @cached_property
    def pose_landmarks(self) -> list[list[Landmark]]:
        return _landmark_lists(self._landmarks)

    @cached_property
    def pose_world_landmarks(self) -> list[list[Landmark]]:
        return _landmark_lists(self._world)

    def __len__(self) -> int:
        return len(self._landmarks)

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(n_poses, 33, 5) landmarks (x, y, z, visibility, presence) and (n_poses, 33, 3) world."""
        return self._landmarks.copy(), self._world[..., :3].copy()

    def rounded_arrays(self, keypoints: str = "mediapipe33") -> tuple[np.ndarray, np.ndarray]:
        """`as_arrays()` as float64 rounded to DECIMALS places, as every export writes them,
        for the landmarks of a keypoint set ('mediapipe33': all; 'coco17': COCO's 17)."""
        index = list(keypoint_indices(keypoints))
        landmarks, world = self.as_arrays()
        return (
            np.round(landmarks[:, index].astype(np.float64), DECIMALS),
            np.round(world[:, index].astype(np.float64), DECIMALS),
        )

    def to_coco17(self, image_size: tuple[int, int] | None = None) -> np.ndarray:
        """(n_poses, 17, 3) COCO keypoints in COCO's order: x, y and the landmark's visibility
        as score; x, y normalised, or in pixels of an image of `image_size` (width, height)."""
        keypoints = self._landmarks[:, list(COCO17)][..., [0, 1, 3]].copy()
        if image_size is not None:
            keypoints[..., :2] *= np.asarray(image_size, np.float32)
        return keypoints

    def to_dict(self, keypoints: str = "mediapipe33") -> dict[str, Any]:
        """A JSON-ready dict, values rounded to 6 decimals, with the landmarks of a keypoint
        set (see `rounded_arrays`); masks are summarised by their shape (they are large)."""
        landmarks, world = self.rounded_arrays(keypoints)
        world = np.concatenate([world, landmarks[..., 3:]], axis=2)
        return {
            "pose_ids": self.pose_ids,
            "pose_landmarks": [
                [dict(zip(FIELDS, row, strict=True)) for row in pose] for pose in landmarks.tolist()
            ],
            "pose_world_landmarks": [
                [dict(zip(FIELDS, row, strict=True)) for row in pose] for pose in world.tolist()
            ],
            "segmentation_mask_shapes": None
            if self.segmentation_masks is None
            else [list(mask.shape) for mask in self.segmentation_masks],
        }

    def __repr__(self) -> str:
        masks = (
            "no masks"
            if self.segmentation_masks is None
            else f"{len(self.segmentation_masks)} masks"
        )
        return f"PoseLandmarkerResult({len(self)} poses, {masks})"
