"""Multi-person recall against human keypoint labels (COCO format), three ways in one run.

    python benchmarks/multi_person_eval.py LABELS.json IMAGE_DIR [--variant full] [--json out]

A labelled person (>= 8 labelled keypoints) counts as found when one pose (matched one to one,
best first) has PCK@0.1 >= 0.5: at least half of its labelled keypoints within 0.1 x
sqrt(box area) of the label. Ways: (a) MediaPipe-identical defaults; (b) the pose detector at
min_pose_detection_confidence=0.1 with duplicate suppression; (c) the labelled boxes passed as
`person_boxes` (the upper bound a good person detector gives), with 2 and 3 landmarker passes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions
from blazepose_onnx.inputs import read_image

# COCO's 17 keypoints as BlazePose landmark indices.
COCO_TO_BLAZEPOSE = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
MIN_LABELLED = 8


def pck(pose: np.ndarray, keypoints: np.ndarray, box: np.ndarray, width: int, height: int) -> float:
    labelled = keypoints[:, 2] > 0
    predicted = pose[COCO_TO_BLAZEPOSE, :2] * (width, height)
    distance = np.hypot(*(predicted - keypoints[:, :2]).T)
    return float((distance[labelled] < 0.1 * np.sqrt(box[2] * box[3])).mean())


def found(poses: np.ndarray, people: list[dict], width: int, height: int) -> int:
    """Labelled people matched (one to one, best PCK first) with PCK >= 0.5."""
    scores = [
        (
            pck(
                pose,
                np.array(p["keypoints"], float).reshape(17, 3),
                np.array(p["bbox"]),
                width,
                height,
            ),
            i,
            j,
        )
        for i, pose in enumerate(poses)
        for j, p in enumerate(people)
    ]
    used_poses, used_people, matched = set(), set(), 0
    for score, i, j in sorted(scores, reverse=True):
        if score >= 0.5 and i not in used_poses and j not in used_people:
            used_poses.add(i)
            used_people.add(j)
            matched += 1
    return matched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("images", type=Path)
    parser.add_argument("--variant", default="full")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    data = json.loads(args.labels.read_text())
    people = defaultdict(list)
    for a in data["annotations"]:
        if not a["iscrowd"] and sum(v > 0 for v in a["keypoints"][2::3]) >= MIN_LABELLED:
            people[a["image_id"]].append(a)
    files = {i["id"]: i["file_name"] for i in data["images"]}
    ways = {
        "(a) defaults": PoseLandmarkerOptions(model=args.variant, num_poses=8),
        "(b) threshold 0.1 + duplicate suppression": PoseLandmarkerOptions(
            model=args.variant, num_poses=8, min_pose_detection_confidence=0.1
        ),
        "(b') threshold 0.1, no suppression": PoseLandmarkerOptions(
            model=args.variant,
            num_poses=8,
            min_pose_detection_confidence=0.1,
            suppress_duplicate_poses=False,
        ),
        "(c) labelled boxes": PoseLandmarkerOptions(model=args.variant, num_poses=8),
    }
    total = sum(len(p) for p in people.values())
    rows = []
    for name, options in ways.items():
        hits, poses_out = 0, 0
        with PoseLandmarker.create_from_options(options) as landmarker:
            for image_id, labelled in people.items():
                image = read_image(args.images / files[image_id])
                height, width = image.shape[:2]
                boxes = None
                if name.startswith("(c)"):
                    boxes = [[x, y, x + w, y + h] for x, y, w, h in (p["bbox"] for p in labelled)]
                result = landmarker.detect(image, person_boxes=boxes)
                landmarks = result.as_arrays()[0]
                poses_out += len(landmarks)
                hits += found(landmarks, labelled, width, height)
        rows.append({"way": name, "found": hits, "people": total, "poses": poses_out})
        print(f"{name}: {hits}/{total} labelled people found ({poses_out} poses returned)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
