"""Result exports: CSV (one row per pose and landmark) and JSON Lines (one object per frame).

CSV columns: source, frame, timestamp_ms, pose, pose_id, landmark, name, x, y, z, visibility,
presence, world_x, world_y, world_z. `pose` is the index in the frame, `pose_id` the track id
(`PoseLandmarkerResult.pose_ids`). x/y are normalised to the image, z on the scale of x;
world_* are metres, hip-centred. Images have frame 0 and an empty timestamp. Numbers are
written with 6 decimals (`results.DECIMALS`), the precision JSON exports are rounded to.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

import numpy as np

from blazepose_onnx.landmarks import keypoint_names
from blazepose_onnx.results import DECIMALS, PoseLandmarkerResult
from blazepose_onnx.typing import KeypointSet

CSV_COLUMNS = (
    "source",
    "frame",
    "timestamp_ms",
    "pose",
    "pose_id",
    "landmark",
    "name",
    "x",
    "y",
    "z",
    "visibility",
    "presence",
    "world_x",
    "world_y",
    "world_z",
)


class CsvResultWriter:
    """Writes results as CSV rows, the header first; `keypoints` chooses the landmark set
    ('coco17': `landmark` is the COCO keypoint index and `name` its COCO name)."""

    def __init__(self, stream: TextIO, keypoints: KeypointSet = "mediapipe33") -> None:
        self._writer = csv.writer(stream)
        self._writer.writerow(CSV_COLUMNS)
        self._keypoints = keypoints
        self._names = keypoint_names(keypoints)

    def write(
        self, source: str, frame: int, timestamp_ms: int | None, result: PoseLandmarkerResult
    ) -> None:
        landmarks, world = result.rounded_arrays(self._keypoints)
        if not len(landmarks):
            return
        values = [
            [f"{v:.{DECIMALS}f}" for v in row]
            for row in np.concatenate([landmarks, world], axis=2).reshape(-1, 8).tolist()
        ]
        count = len(self._names)
        poses = np.repeat(np.arange(len(landmarks)), count).tolist()
        stamp = "" if timestamp_ms is None else timestamp_ms
        ids = result.pose_ids
        self._writer.writerows(
            [source, frame, stamp, pose, ids[pose], k % count, self._names[k % count], *row]
            for k, (pose, row) in enumerate(zip(poses, values, strict=True))
        )


def jsonl_record(
    frame: int,
    timestamp_ms: int | None,
    result: PoseLandmarkerResult,
    keypoints: KeypointSet = "mediapipe33",
    source: str | None = None,
) -> str:
    """One JSON Lines record for a frame (its source first when given)."""
    head = {} if source is None else {"source": source}
    return json.dumps(
        {**head, "frame": frame, "timestamp_ms": timestamp_ms, **result.to_dict(keypoints)}
    )
