"""PoseLandmarkerResult: MediaPipe's result shape, backed by numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from blazepose_onnx.landmarks import COCO17, keypoint_indices
from blazepose_onnx.typing import KeypointSet

FIELDS = ("x", "y", "z", "visibility", "presence")
DECIMALS = 6  # exports (JSON, JSON Lines, CSV) round to this many decimals


@dataclass(frozen=True)
class Landmark:
    """One landmark, as MediaPipe's.

    Attributes:
        x: normalised to the image width, 0 at the left (world landmarks: metres).
        y: normalised to the image height, 0 at the top (world landmarks: metres).
        z: depth on the scale of x, smaller nearer the camera, 0 at the hips' centre (world
            landmarks: metres).
        visibility: the likelihood, in [0, 1], that the landmark is visible (not hidden).
        presence: the likelihood, in [0, 1], that the landmark is in the image.
    """

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
    """Poses found in one image, as MediaPipe's result; `len(result)` is their number.

    Attributes:
        pose_landmarks: `pose_landmarks[i][k]` is landmark k (see `PoseLandmark`) of pose i,
            x and y normalised to the image, z on the scale of x (smaller is nearer the camera).
        pose_world_landmarks: the same landmarks in metres, centred between the hips.
        segmentation_masks: one float32 HxW mask in [0, 1] per pose, or None when masks were
            not asked for (`output_segmentation_masks`).
        pose_ids: an integer id per pose: in VIDEO, LIVE_STREAM and multi-stream modes the id
            of its track (new when a track starts, kept while it is tracked, never reused
            within a stream); 0..n-1 in IMAGE mode.
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
        """Per pose, its 33 landmarks in the image (built on first use)."""
        return _landmark_lists(self._landmarks)

    @cached_property
    def pose_world_landmarks(self) -> list[list[Landmark]]:
        """Per pose, its 33 landmarks in metres (built on first use)."""
        return _landmark_lists(self._world)

    def __len__(self) -> int:
        return len(self._landmarks)

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The poses as arrays (copies).

        Returns:
            (n_poses, 33, 5) landmarks (x, y, z, visibility, presence) and (n_poses, 33, 3)
            world landmarks (x, y, z), float32.
        """
        return self._landmarks.copy(), self._world[..., :3].copy()

    def rounded_arrays(
        self, keypoints: KeypointSet = "mediapipe33"
    ) -> tuple[np.ndarray, np.ndarray]:
        """`as_arrays()` as float64 rounded to DECIMALS places, as every export writes them.

        Args:
            keypoints: the landmarks kept: 'mediapipe33' (all) or 'coco17' (COCO's 17).

        Raises:
            InvalidValueError: an unknown keypoint set.
        """
        index = list(keypoint_indices(keypoints))
        landmarks, world = self.as_arrays()
        return (
            np.round(landmarks[:, index].astype(np.float64), DECIMALS),
            np.round(world[:, index].astype(np.float64), DECIMALS),
        )

    def to_coco17(self, image_size: tuple[int, int] | None = None) -> np.ndarray:
        """COCO keypoints in COCO's order: x, y and the landmark's visibility as score.

        Args:
            image_size: (width, height) to give x, y in pixels; None keeps them normalised.

        Returns:
            An (n_poses, 17, 3) float32 array.
        """
        keypoints = self._landmarks[:, list(COCO17)][..., [0, 1, 3]].copy()
        if image_size is not None:
            keypoints[..., :2] *= np.asarray(image_size, np.float32)
        return keypoints

    def to_dict(self, keypoints: KeypointSet = "mediapipe33") -> dict[str, Any]:
        """A JSON-ready dict, values rounded to 6 decimals; masks are summarised by their
        shape (they are large).

        Args:
            keypoints: as in `rounded_arrays`.

        Raises:
            InvalidValueError: an unknown keypoint set.
        """
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
