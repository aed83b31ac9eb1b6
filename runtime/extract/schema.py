"""The Parquet schemas of an extracted dataset (docs/datasets.md) and the
table of one source's poses, built with numpy from the landmarker's results."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pyarrow as pa

from blazepose_onnx.results import PoseLandmarkerResult

VALUES = 33 * 5  # landmarks x (x, y, z, visibility, presence)
ENTRY_KEY = b"blazepose.entry"  # a poses file's metadata: its source's manifest entry (JSON)

POSES = pa.schema(
    [
        ("source", pa.string()),
        ("frame", pa.int32()),
        ("timestamp_ms", pa.int64()),
        ("pose_id", pa.int32()),
        ("landmarks", pa.list_(pa.float32(), VALUES)),
        ("world_landmarks", pa.list_(pa.float32(), VALUES)),
        ("width", pa.int32()),
        ("height", pa.int32()),
    ]
)
OK, FAILED, TRUNCATED = "ok", "failed", "truncated"


@dataclass
class Entry:
    """A source's manifest row."""

    source: str
    kind: str
    status: str = OK
    frames: int = 0
    frames_with_pose: int = 0
    poses: int = 0
    seconds: float = 0.0
    error: str | None = None
    options: str = ""
    detector_sha256: str = ""
    landmarker_sha256: str = ""
    version: str = ""

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Entry:
        return cls(**json.loads(data))


_ARROW_TYPES = {
    "str": pa.string(),
    "str | None": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
}
MANIFEST = pa.schema([(f.name, _ARROW_TYPES[str(f.type)]) for f in fields(Entry)])


@dataclass
class PoseRows:
    """One source's poses, gathered frame by frame and turned into a table at the end."""

    source: str
    frames: list[np.ndarray] = field(default_factory=list)
    timestamps: list[np.ndarray] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)
    landmarks: list[np.ndarray] = field(default_factory=list)
    world: list[np.ndarray] = field(default_factory=list)
    sizes: list[np.ndarray] = field(default_factory=list)

    def add(
        self, frame: int, timestamp_ms: int, result: PoseLandmarkerResult, size: tuple[int, int]
    ) -> int:
        """Add a frame's poses (width, height `size`); return how many there were."""
        count = len(result)
        if count:
            landmarks, world = result.as_arrays()
            # World landmarks carry the image landmarks' visibility and presence, as exports do.
            world = np.concatenate([world, landmarks[..., 3:]], axis=2)
            self.frames.append(np.full(count, frame, np.int32))
            self.timestamps.append(np.full(count, timestamp_ms, np.int64))
            self.ids.append(np.asarray(result.pose_ids, np.int32))
            self.landmarks.append(landmarks.reshape(count, VALUES))
            self.world.append(world.reshape(count, VALUES))
            self.sizes.append(np.tile(np.asarray(size, np.int32), (count, 1)))
        return count

    def table(self, entry: Entry) -> pa.Table:
        """The rows as a table of the POSES schema, carrying `entry` in its metadata."""
        if self.frames:
            sizes = np.concatenate(self.sizes)
            columns = [
                pa.array(np.full(len(sizes), self.source, object), pa.string()),
                pa.array(np.concatenate(self.frames)),
                pa.array(np.concatenate(self.timestamps)),
                pa.array(np.concatenate(self.ids)),
                _fixed_lists(np.concatenate(self.landmarks)),
                _fixed_lists(np.concatenate(self.world)),
                pa.array(sizes[:, 0]),
                pa.array(sizes[:, 1]),
            ]
            table = pa.Table.from_arrays(columns, schema=POSES)
        else:
            table = POSES.empty_table()
        return table.replace_schema_metadata({ENTRY_KEY: entry.to_json()})


def _fixed_lists(values: np.ndarray) -> pa.FixedSizeListArray:
    flat = pa.array(np.ascontiguousarray(values, np.float32).ravel())
    return pa.FixedSizeListArray.from_arrays(flat, VALUES)


def manifest_table(entries: list[Entry]) -> pa.Table:
    """The manifest: one row per source, sorted by source."""
    rows = [asdict(e) for e in sorted(entries, key=lambda e: e.source)]
    return pa.Table.from_pylist(rows, schema=MANIFEST)
