"""What the extract tests share: datasets read back, and the in-process results to match."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import open_video

if TYPE_CHECKING:
    import pyarrow


def _read_dataset(out: Path) -> tuple[dict[str, dict], dict[str, dict[str, np.ndarray]]]:
    """The manifest rows and the poses rows (as arrays) of a dataset folder, each by source
    (rows sorted by frame and pose id)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    manifest = {row["source"]: row for row in pq.read_table(out / "manifest.parquet").to_pylist()}
    poses = ds.dataset(out / "poses").to_table()
    by_source = {}
    for source in manifest:
        rows = poses.filter(ds.field("source") == source)
        rows = rows.sort_by([("frame", "ascending"), ("pose_id", "ascending")])
        by_source[source] = _arrays(rows)
    return manifest, by_source


def _arrays(table: pyarrow.Table) -> dict[str, np.ndarray]:
    """A poses table's columns as numpy arrays (landmarks as (n, 33, 5))."""
    arrays = {
        name: table[name].to_numpy() for name in ("frame", "timestamp_ms", "pose_id", "width")
    }
    for name in ("landmarks", "world_landmarks"):
        flat = table[name].combine_chunks().flatten().to_numpy()
        arrays[name] = flat.reshape(-1, 33, 5)
    return arrays


def _expected(results: list, timestamps: list[int]) -> dict[str, np.ndarray]:
    """What the rows of a source must hold for its in-process results, frame by frame."""
    frames, stamps, ids, landmarks, world = [], [], [], [], []
    for index, (result, stamp) in enumerate(zip(results, timestamps, strict=True)):
        marks, world3 = result.as_arrays()
        frames += [index] * len(result)
        stamps += [stamp] * len(result)
        ids += result.pose_ids
        landmarks.append(marks)
        world.append(np.concatenate([world3, marks[..., 3:]], axis=2))
    return {
        "frame": np.asarray(frames),
        "timestamp_ms": np.asarray(stamps),
        "pose_id": np.asarray(ids),
        "landmarks": np.concatenate(landmarks).reshape(-1, 33, 5),
        "world_landmarks": np.concatenate(world).reshape(-1, 33, 5),
    }


@pytest.fixture(scope="session")
def read_dataset():
    """Function: a dataset folder's manifest rows and poses arrays, by source."""
    return _read_dataset


@pytest.fixture(scope="session")
def in_process(model_dir, test_providers):
    """Function: a photo's or video's results through an in-process landmarker (lite, one
    thread, as extract's workers run it) as the arrays its rows must hold, with its frame
    count and how many frames had a pose."""
    import cv2

    from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode

    def rows(path: Path) -> tuple[dict[str, np.ndarray], int, int]:
        results, stamps = run(path)
        with_pose = sum(len(r) > 0 for r in results)
        return _expected(results, stamps), len(results), with_pose

    def run(path: Path) -> tuple[list, list[int]]:
        video = path.suffix == ".mp4"
        options = PoseLandmarkerOptions(
            model="lite",
            num_threads=1,
            providers=test_providers,
            running_mode=RunningMode.VIDEO if video else RunningMode.IMAGE,
        )
        with PoseLandmarker.create_from_options(options) as landmarker:
            if not video:
                return [landmarker.detect(read_image(path))], [0]
            capture, fps = open_video(str(path))
            results, stamps = [], []
            while True:
                ok, frame = capture.read()
                if not ok:
                    return results, stamps
                stamps.append(round(len(results) * 1000 / fps))
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                results.append(landmarker.detect_for_video(rgb, stamps[-1]))

    return rows


@pytest.fixture()
def media(tmp_path: Path, data_dir: Path) -> Path:
    """A folder with the test clips and photos (photos in a subfolder)."""
    folder = tmp_path / "media"
    (folder / "photos").mkdir(parents=True)
    for name in ("squat.mp4", "dance.mp4"):
        shutil.copy(data_dir / name, folder / name)
    for photo in sorted(data_dir.glob("*.jpg")):
        shutil.copy(photo, folder / "photos" / photo.name)
    return folder


@pytest.fixture(scope="session")
def truncated_clip(tmp_path_factory, data_dir: Path) -> Path:
    """squat.mp4 remuxed with its index first (faststart), cut at 60%: it opens, states 120
    frames and decodes 80."""
    import av

    path = tmp_path_factory.mktemp("clips") / "cut.mp4"
    whole = path.with_name("faststart.mp4")
    with (
        av.open(str(data_dir / "squat.mp4")) as source,
        av.open(str(whole), "w", options={"movflags": "faststart"}) as target,
    ):
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    data = whole.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path
