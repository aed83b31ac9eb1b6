"""People found by the built-in person detector against the pose detector and their combination,
on hand-labelled photos and dance.mp4 frames, upright and turned without telling the landmarker.

    python benchmarks/person_detector_eval.py [--model full] [--turns 0 90 180 270] [--json out]

A labelled person is found when a pose's mid-shoulder point lies in their box, 8 px of slack
(one pose per person, the best assignment): bus.jpg's four pedestrians, zidane.jpg's two men,
messi5.jpg's player (boxes drawn by hand), and every 10th of dance.mp4's first 120 frames, whose
three dancers keep to their thirds of the frame (tests/data/dance_lanes.json). Ways: the SSD
(the built-in `person_detector="ssd"`), MediaPipe's pose detector, and the SSD's ROIs merged
with the pose detector's people (those overlapping an earlier ROI by IoU > 0.5 dropped), SSD
first or pose detector first. The poses of a turned image are mapped back before scoring.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions
from blazepose_onnx.io.image import rotate_clockwise, unrotate_points
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.pipeline.roi import axis_aligned_iou

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
PHOTOS = {  # x1, y1, x2, y2 in pixels, drawn by hand
    "bus.jpg": [[48, 398, 245, 902], [670, 380, 809, 875], [221, 405, 344, 857], [0, 550, 63, 873]],
    "zidane.jpg": [[125, 195, 760, 720], [750, 40, 1150, 720]],
    "messi5.jpg": [[90, 60, 620, 960]],
}
DUPLICATE_IOU = 0.5
SLACK = 8
Way = Callable[[np.ndarray], np.ndarray]  # RGB image -> (n, 33, 5) poses


def found(poses: np.ndarray, boxes: np.ndarray, width: int, height: int) -> int:
    """How many boxes hold the mid-shoulder point of a pose of their own (best assignment),
    with SLACK pixels of slack (the shoulders of a person cut off by the image edge)."""
    points = poses[:, [11, 12], :2].mean(axis=1) * (width, height)
    boxes = boxes + np.array([-SLACK, -SLACK, SLACK, SLACK])
    holds = np.all(
        (points[:, None] >= boxes[None, :, :2]) & (points[:, None] <= boxes[None, :, 2:]), 2
    )
    orders = itertools.permutations(range(len(poses)), min(len(poses), len(boxes)))
    return max((sum(holds[p, b] for b, p in enumerate(order)) for order in orders), default=0)


def samples() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(set, image, person boxes) for every labelled image."""
    items = [
        (name.split(".")[0], read_image(DATA / name), np.array(boxes, float))
        for name, boxes in PHOTOS.items()
    ]
    lanes = json.loads((DATA / "dance_lanes.json").read_text())["lanes"]
    for frame in read_frames(str(DATA / "dance.mp4"), limit=120)[::10]:
        height, width = frame.shape[:2]
        boxes = [[low * width, 0, high * width, height] for low, high in lanes.values()]
        items.append(("dance", frame, np.array(boxes, float)))
    return items


def merged(ssd: PoseLandmarker, pose: PoseLandmarker, ssd_first: bool) -> Way:
    """The SSD's ROIs and the pose detector's, the later ones dropped where they repeat one."""

    def run(image: np.ndarray) -> np.ndarray:
        boxes, people = ssd.pipeline.detect_rois(image), pose.pipeline.detect_rois(image)
        first, then = (boxes, people) if ssd_first else (people, boxes)
        if len(first) and len(then):
            then = then[~(axis_aligned_iou(then, first) > DUPLICATE_IOU).any(axis=1)]
        rois = np.concatenate([first, then])[: ssd.options.num_poses]
        return ssd.pipeline.landmarks_batch([image], [rois])[0].landmarks

    return run


def turned(way: Way, degrees: int) -> Way:
    def run(image: np.ndarray) -> np.ndarray:
        rotated = rotate_clockwise(image, degrees)
        return unrotate_points(way(rotated), degrees, rotated.shape[1] / image.shape[1])

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="full", help="lite, full or heavy")
    parser.add_argument("--turns", type=int, nargs="+", default=[0], choices=(0, 90, 180, 270))
    parser.add_argument("--json", type=Path, help="the counts as JSON to this file")
    args = parser.parse_args(argv)
    items = samples()
    options = PoseLandmarkerOptions(model=args.model, num_poses=8)
    with (
        PoseLandmarker.create_from_options(options) as pose,
        PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(model=args.model, num_poses=8, person_detector="ssd")
        ) as ssd,
    ):
        ways = {
            'person_detector="ssd"': lambda image: ssd.detect(image).as_arrays()[0],
            "pose detector": lambda image: pose.detect(image).as_arrays()[0],
            "SSD, then the pose detector's people": merged(ssd, pose, ssd_first=True),
            "the pose detector's people, then the SSD": merged(ssd, pose, ssd_first=False),
        }
        table: dict[str, dict[str, str]] = {}
        for degrees in args.turns:
            for name, way in ways.items():
                counts: dict[str, list[int]] = {}
                for subset, image, boxes in items:
                    poses = turned(way, degrees)(image)
                    height, width = image.shape[:2]
                    total = counts.setdefault(subset, [0, 0])
                    total[0] += found(poses, boxes, width, height)
                    total[1] += len(boxes)
                row = {subset: f"{got}/{of}" for subset, (got, of) in counts.items()}
                table[f"{name}, turned {degrees}" if degrees else name] = row
                print(f"{name} (turned {degrees}): {row}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
