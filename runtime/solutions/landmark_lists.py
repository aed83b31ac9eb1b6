"""Plain objects with the attribute names of MediaPipe's landmark protos (no protobuf needed):
`results.pose_landmarks.landmark[i].x/.y/.z/.visibility`, plus numpy and dict accessors."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

COORDINATES = ("x", "y", "z", "visibility")


@dataclass(frozen=True)
class NormalizedLandmark:
    """One landmark: x, y normalised to the image (or metres, for world landmarks), z on the
    scale of x, visibility in [0, 1]. Legacy `process()` results carry no presence."""

    x: float
    y: float
    z: float
    visibility: float

    def HasField(self, name: str) -> bool:
        """Protobuf-style field test: every coordinate and visibility is set, presence is not."""
        return name in COORDINATES


Landmark = NormalizedLandmark


class NormalizedLandmarkList:
    """The 33 landmarks of one pose, indexable by `PoseLandmark` through `.landmark`."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = np.asarray(values, np.float32)[:, :4]
        self.landmark = [NormalizedLandmark(*map(float, row)) for row in self._values.tolist()]

    def to_array(self) -> np.ndarray:
        """(33, 4) float32: x, y, z, visibility."""
        return self._values.copy()

    def to_dict(self) -> list[dict[str, float]]:
        return [{f.name: getattr(p, f.name) for f in fields(p)} for p in self.landmark]

    def __len__(self) -> int:
        return len(self.landmark)

    def __repr__(self) -> str:
        return f"NormalizedLandmarkList({len(self)} landmarks)"


LandmarkList = NormalizedLandmarkList


@dataclass(frozen=True)
class SolutionOutputs:
    """What `Pose.process()` returns: None fields when no pose was found (the mask too)."""

    pose_landmarks: NormalizedLandmarkList | None
    pose_world_landmarks: NormalizedLandmarkList | None
    segmentation_mask: np.ndarray | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready landmarks (the mask is summarised by its shape)."""
        return {
            "pose_landmarks": self.pose_landmarks and self.pose_landmarks.to_dict(),
            "pose_world_landmarks": self.pose_world_landmarks
            and self.pose_world_landmarks.to_dict(),
            "segmentation_mask_shape": None
            if self.segmentation_mask is None
            else list(self.segmentation_mask.shape),
        }
