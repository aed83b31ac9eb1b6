"""Identities over time, measured: the composed clips (runtime/bench/composed_clips.py) and
dance.mp4.

    python benchmarks/tracking_eval.py --model lite [--libraries] [--json out.json]

For each composed clip: recall, identity switches and IDF1 (motmetrics; a pose matches a
person when their boxes overlap at IoU >= 0.5; a person counts in a frame when at least half of
their box is in sight), of

- `person_detector="ssd"` in VIDEO mode, the one option (`num_poses` unset: everyone; this
  project's tracker, `person_tracking`), with its detector runs;
- MediaPipe's own multi-pose output: today's default pipeline with `num_poses` set to the
  number of people (the pose detector, MediaPipe's ROI tracking and pose ids);
- with `--libraries`, tracker libraries given the same people: the poses that IMAGE mode finds
  with `person_detector="ssd"` (`num_poses` the number of people) on every frame, associated
  by ByteTrack (Roboflow's `trackers` package, on supervision's Detections: their boxes) or by
  norfair (their keypoints). Neither installs beside this project's pins (norfair 2.3 wants
  numpy<2, `trackers` the non-headless OpenCV): `pip install --no-deps norfair==2.3.0
  filterpy==1.4.5 trackers==2.6.1` then `pip install supervision==0.31.2 rich`.

dance.mp4 (three dancers) is scored against its hand-checked lanes (tests/data/dance_lanes.json):
a switch is an id moving to another dancer's lane. tests/runtime/stream/test_person_tracking.py
asserts the tracker's numbers; the tables of docs/people.md and the README come from this
script.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from blazepose_onnx.bench.composed_clips import (
    FPS,
    SCENES,
    ComposedClip,
    compose,
    pose_boxes,
    tile_truth,
    visible_fraction,
)
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.stream.person_tracking import box_iou

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
MIN_VISIBLE = 0.5  # a person counts in a frame when this share of their box is in sight
MATCH_IOU = 0.5

# (landmarks (n, 33, 5) normalised, ids (n,)) per frame
Tracks = list[tuple[np.ndarray, np.ndarray]]


def track_video(frames: list[np.ndarray], **options) -> tuple[Tracks, dict]:
    """Poses and pose ids of every frame in VIDEO mode, and the landmarker's stats."""
    settings = PoseLandmarkerOptions(running_mode=RunningMode.VIDEO, **options)
    with PoseLandmarker.create_from_options(settings) as landmarker:
        results = [landmarker.detect_for_video(f, k * 1000 // FPS) for k, f in enumerate(frames)]
        stats = landmarker.stats
    return [(r.as_arrays()[0], np.array(r.pose_ids, np.int64)) for r in results], stats


def mot_scores(clip: ComposedClip, truth: np.ndarray, tracks: Tracks) -> dict:
    """recall, switches, idf1 (motmetrics) and the number of ids handed out."""
    import motmetrics

    width, height = clip.scene.size
    visible = visible_fraction(clip, truth)
    truth_boxes = pose_boxes(truth, width, height)
    accumulator = motmetrics.MOTAccumulator(auto_id=True)
    for t, (landmarks, ids) in enumerate(tracks):
        people = np.flatnonzero(visible[:, t] >= MIN_VISIBLE)
        found = pose_boxes(landmarks, width, height) if len(ids) else np.zeros((0, 4))
        # motmetrics' own iou_matrix uses numpy's removed asfarray: the same distances here
        iou = (
            box_iou(truth_boxes[people, t], found)
            if len(people) and len(found)
            else np.zeros((len(people), len(found)))
        )
        accumulator.update(
            people.tolist(), ids.tolist(), np.where(iou >= MATCH_IOU, 1 - iou, np.nan)
        )
    summary = motmetrics.metrics.create().compute(
        accumulator, metrics=["recall", "num_switches", "idf1"], name="clip"
    )
    return {
        "recall": round(float(summary["recall"].iloc[0]), 4),
        "switches": int(summary["num_switches"].iloc[0]),
        "idf1": round(float(summary["idf1"].iloc[0]), 4),
        "ids": len({int(i) for _, ids in tracks for i in ids}),
    }


def lane_scores(tracks: Tracks, lanes: dict[str, list[float]]) -> dict:
    """Switches (an id moving to another lane), ids, and frames by number of poses found."""
    lane_of: dict[int, str] = {}
    switches = 0
    for landmarks, ids in tracks:
        for pose_id, pose in zip(ids.tolist(), landmarks, strict=True):
            x = pose[[23, 24], 0].mean()
            lane = next((name for name, (low, high) in lanes.items() if low <= x < high), "out")
            switches += pose_id in lane_of and lane_of[pose_id] != lane
            lane_of[pose_id] = lane
    poses = Counter(len(ids) for _, ids in tracks)
    return {
        "switches": switches,
        "ids": len(lane_of),
        "frames_by_poses": {str(k): poses[k] for k in sorted(poses)},
    }


def image_mode_poses(frames: list[np.ndarray], model: str, num_poses: int) -> list[np.ndarray]:
    """Every frame's poses from IMAGE mode with the ssd person detector (what a tracker library
    is given)."""
    settings = PoseLandmarkerOptions(model=model, num_poses=num_poses, person_detector="ssd")
    with PoseLandmarker.create_from_options(settings) as landmarker:
        return [landmarker.detect(frame).as_arrays()[0] for frame in frames]


def bytetrack_tracks(poses: list[np.ndarray], size: tuple[int, int]) -> Tracks:
    """ByteTrack (Roboflow's `trackers`, on supervision's Detections; supervision itself no
    longer ships it) on the poses' boxes, lost tracks kept 5 s as ours."""
    import supervision
    from trackers import ByteTrackTracker

    tracker = ByteTrackTracker(lost_track_buffer=5 * FPS, frame_rate=FPS)
    tracks = []
    for landmarks in poses:
        boxes = pose_boxes(landmarks, *size) if len(landmarks) else np.zeros((0, 4))
        detections = supervision.Detections(
            xyxy=boxes.astype(np.float32), data={"pose": np.arange(len(boxes))}
        )
        tracked = tracker.update(detections)
        confirmed = np.asarray(tracked.tracker_id, np.int64) >= 0
        rows = np.asarray(tracked.data.get("pose", []), np.int64)[confirmed]
        tracks.append((landmarks[rows], np.asarray(tracked.tracker_id, np.int64)[confirmed]))
    return tracks


def norfair_tracks(poses: list[np.ndarray], size: tuple[int, int]) -> Tracks:
    """norfair on the poses' keypoints (its mean Euclidean distance in pixels, at most 60: a
    quarter of a person's height in these clips; lost tracks kept 5 s)."""
    import norfair

    scale = np.asarray(size, np.float64)
    tracker = norfair.Tracker(
        distance_function="mean_euclidean",
        distance_threshold=60,
        hit_counter_max=5 * FPS,
        initialization_delay=0,
    )
    tracks = []
    for landmarks in poses:
        detections = [
            norfair.Detection(pose[:, :2] * scale, scores=pose[:, 3], data=k)
            for k, pose in enumerate(landmarks)
        ]
        tracked = [t for t in tracker.update(detections) if t.last_detection in detections]
        rows = np.array([t.last_detection.data for t in tracked], np.int64)
        ids = np.array([t.id for t in tracked], np.int64)
        tracks.append((landmarks[rows] if len(rows) else landmarks[:0], ids))
    return tracks


def evaluate(model: str, libraries: bool) -> dict:
    """Every clip's scores, ours, MediaPipe's and (with `libraries`) the libraries'."""
    source = read_frames(str(DATA / "squat.mp4"))
    lanes = json.loads((DATA / "dance_lanes.json").read_text())["lanes"]
    table: dict[str, dict] = {}
    clips = {name: compose(source, scene) for name, scene in SCENES.items()}
    for name, clip in clips.items():
        people = len(clip.scene.tiles)
        truth = tile_truth(clip, model=model)
        row = {}
        start = time.perf_counter()
        ours, stats = track_video(clip.frames, model=model, person_detector="ssd")
        row["ssd tracker"] = mot_scores(clip, truth, ours) | {
            "detector_runs": stats["detector_runs"],
            "seconds": round(time.perf_counter() - start, 1),
        }
        mediapipe, _ = track_video(clip.frames, model=model, num_poses=people)
        row["MediaPipe multi-pose"] = mot_scores(clip, truth, mediapipe)
        if libraries:
            poses = image_mode_poses(clip.frames, model, people)
            row["ByteTrack (trackers)"] = mot_scores(
                clip, truth, bytetrack_tracks(poses, clip.scene.size)
            )
            row["norfair"] = mot_scores(clip, truth, norfair_tracks(poses, clip.scene.size))
        table[name] = row
    dance = read_frames(str(DATA / "dance.mp4"))
    ours, stats = track_video(dance, model=model, person_detector="ssd")
    mediapipe, _ = track_video(dance, model=model, num_poses=3)
    table["dance.mp4"] = {
        "ssd tracker": lane_scores(ours, lanes) | {"detector_runs": stats["detector_runs"]},
        "MediaPipe multi-pose": lane_scores(mediapipe, lanes),
    }
    if libraries:
        height, width = dance[0].shape[:2]
        poses = image_mode_poses(dance, model, 3)
        table["dance.mp4"]["ByteTrack (trackers)"] = lane_scores(
            bytetrack_tracks(poses, (width, height)), lanes
        )
        table["dance.mp4"]["norfair"] = lane_scores(norfair_tracks(poses, (width, height)), lanes)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="lite")
    parser.add_argument(
        "--libraries", action="store_true", help="also supervision's ByteTrack and norfair"
    )
    parser.add_argument("--json", type=Path, help="write the table as JSON")
    args = parser.parse_args()
    table = evaluate(args.model, args.libraries)
    for clip, rows in table.items():
        for way, scores in rows.items():
            print(f"{clip:14} {way:26} {json.dumps(scores)}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
