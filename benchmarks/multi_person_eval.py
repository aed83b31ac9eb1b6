"""Multi-person poses against human keypoint labels (COCO format): every way, one table.

    python benchmarks/multi_person_eval.py LABELS.json IMAGE_DIR [--model full] [--json out]
        [--turns 90 180 270]

A labelled person (>= 8 labelled keypoints of those BlazePose has) has a good pose when the pose
matched to it (one to one, best first) has PCK@0.1 >= 0.5: at least half of its labelled
keypoints within 0.1 x sqrt(box area) of the label. Per way: people with a good pose, mean PCK
(0 for a person without a pose), pycocotools' OKS AP for COCO-17 labels when pycocotools is
installed, and CPU milliseconds per image (detector ways) or per box (box ways: the labelled
boxes given as person boxes, the upper bound a good person detector gives; use --num-threads 1
and --repeat 3 for times). Then presence with boxes: the default box way at
min_pose_presence_confidence 0.5 and 0: good poses dropped, bad ones kept. With --turns, the
pose detector and the built-in person detector again on the photos turned by those clockwise
degrees, the landmarker not told (poses mapped back before scoring): people in every orientation.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from box_variants import BOX_VARIANTS
from pose_scoring import GOOD_PCK, Labels, coco_results, oks_ap

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions
from blazepose_onnx.io.image import rotate_clockwise, unrotate_points
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.landmarks import COCO17

DEFAULT_BOXES = "(c) upper-body rule (the default)"
POSE_DETECTOR = "pose detector, MediaPipe-identical defaults"
SSD = 'person_detector="ssd" (built-in SSD)'
Way = Callable[[PoseLandmarker, np.ndarray, np.ndarray], np.ndarray]  # -> (n, 33, >=2) poses


def by_detector(landmarker: PoseLandmarker, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    return landmarker.detect(image).as_arrays()[0]


def by_boxes(landmarker: PoseLandmarker, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    return landmarker.detect(image, person_boxes=boxes).as_arrays()[0]


def turned(way: Way, degrees: int) -> Way:
    """`way` on the image turned clockwise by `degrees`, the landmarker not told; the poses
    mapped back to the image as given."""

    def run(landmarker: PoseLandmarker, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        rotated = rotate_clockwise(image, degrees)
        poses = way(landmarker, rotated, boxes)
        return unrotate_points(poses, degrees, rotated.shape[1] / image.shape[1])

    return run


def box_variant(roi_method: Callable) -> Way:
    def run(landmarker: PoseLandmarker, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        pipeline = landmarker.pipeline  # the evaluation compares ROI methods inside it
        rois = roi_method(pipeline, image, boxes)
        return pipeline.landmarks_batch([image], [rois])[0].landmarks

    return run


def evaluate(
    labels: Labels, images: Path, options: PoseLandmarkerOptions, way: Way, repeat: int = 1
) -> dict:
    """One way's row: people with a good pose, mean PCK, OKS AP, CPU time per image and box
    (this process's CPU time, each image's least of `repeat` runs: wall time on a shared
    machine measures its neighbours; with --num-threads 1 it is the work done)."""
    pcks, results, seconds, poses = [], [], 0.0, 0
    with PoseLandmarker.create_from_options(options) as landmarker:
        first = sorted(labels.people)[0]
        way(landmarker, read_image(images / first), labels.boxes(first))  # warm-up, untimed
        for name in sorted(labels.people):
            image = read_image(images / name)
            height, width = image.shape[:2]
            boxes = labels.boxes(name)
            times = []
            for _ in range(repeat):
                start = time.process_time()
                found = way(landmarker, image, boxes)
                times.append(time.process_time() - start)
            seconds += min(times)
            poses += len(found)
            pcks += labels.match(found, name, width, height)
            if labels.coco17:
                keypoints = found[:, list(COCO17)][..., [0, 1, 3]] * (width, height, 1)
                results += coco_results(labels.image_ids[name], keypoints)
    boxes = sum(len(p) for p in labels.people.values())
    ap = (
        oks_ap(labels.path, sorted(labels.image_ids[n] for n in labels.people), results)
        if labels.coco17
        else None
    )
    return {
        "good": sum(p >= GOOD_PCK for p in pcks),
        "people": len(pcks),
        "poses": poses,
        "mean_pck": round(float(np.mean(pcks)), 3),
        "oks_ap": None if ap is None else round(ap, 3),
        "ms_per_image": round(1000 * seconds / len(labels.people), 1),
        "ms_per_box": round(1000 * seconds / boxes, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("images", type=Path)
    parser.add_argument("--model", default="full", help="lite, full or heavy")
    parser.add_argument("--num-threads", type=int, help="ONNX Runtime threads per model")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per image, the least CPU time kept"
    )
    parser.add_argument("--json", type=Path, help="the rows as JSON to this file")
    parser.add_argument(
        "--turns",
        type=int,
        nargs="*",
        default=[],
        choices=(90, 180, 270),
        help="also the detector ways on the photos turned by these clockwise degrees",
    )
    args = parser.parse_args(argv)
    labels = Labels.read(args.labels)

    def options(**changes: object) -> PoseLandmarkerOptions:
        return PoseLandmarkerOptions(
            model=args.model, num_threads=args.num_threads, **{"num_poses": 8, **changes}
        )

    # the built-in person detector as users pass it: the one option (num_poses unset: everyone)
    detectors = {POSE_DETECTOR: options(), SSD: options(person_detector="ssd", num_poses=None)}
    ways: dict[str, tuple[PoseLandmarkerOptions, Way]] = {
        POSE_DETECTOR: (options(), by_detector),
        "pose detector at 0.1, duplicates suppressed": (
            options(min_pose_detection_confidence=0.1),
            by_detector,
        ),
        **{name: (options(), box_variant(method)) for name, method in BOX_VARIANTS.items()},
        DEFAULT_BOXES: (options(), by_boxes),
        "(c) at min_pose_presence_confidence=0": (
            options(min_pose_presence_confidence=0.0),
            by_boxes,
        ),
        SSD: (detectors[SSD], by_detector),
        **{
            f"{name}, turned {degrees}": (way_options, turned(by_detector, degrees))
            for degrees in args.turns
            for name, way_options in detectors.items()
        },
    }
    rows = {}
    for name, (way_options, way) in ways.items():
        rows[name] = row = evaluate(labels, args.images, way_options, way, args.repeat)
        print(
            f"{name}: {row['good']}/{row['people']} good poses ({row['poses']} poses), mean PCK "
            f"{row['mean_pck']}, OKS AP {row['oks_ap']}, {row['ms_per_image']} CPU ms per image, "
            f"{row['ms_per_box']} per box"
        )
    kept, everything = rows[DEFAULT_BOXES], rows["(c) at min_pose_presence_confidence=0"]
    presence = {
        "good_dropped": everything["good"] - kept["good"],
        "bad_kept": kept["poses"] - kept["good"],
        "bad_kept_at_0": everything["poses"] - everything["good"],
    }
    print(
        f"presence with boxes at 0.5: {presence['good_dropped']} good poses dropped, "
        f"{presence['bad_kept']} bad kept (at 0: {presence['bad_kept_at_0']} bad kept)"
    )
    if args.json:
        args.json.write_text(json.dumps({"ways": rows, "presence": presence}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
