"""Scoring poses against human keypoint labels in COCO's format (any keypoint set whose names
BlazePose has: COCO's 17, CrowdPose's or AI Challenger's 12 of 14): PCK matching and, for COCO's
17, pycocotools' OKS AP when it is installed."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blazepose_onnx.landmarks import COCO17_NAMES, PoseLandmark

MIN_LABELLED = 8  # labelled keypoints (of those BlazePose has) that make a person count
GOOD_PCK = 0.5


@dataclass(frozen=True)
class Labels:
    """People with enough labelled keypoints, per image file, and the label-to-landmark map."""

    path: Path
    people: dict[str, list[dict]]  # file name -> annotations
    image_ids: dict[str, int]
    columns: list[int]  # label keypoint indices BlazePose has
    landmarks: list[int]  # their BlazePose landmark indices
    coco17: bool

    @classmethod
    def read(cls, path: Path) -> Labels:
        data = json.loads(path.read_text())
        names = [n.lower().replace(" ", "_") for n in data["categories"][0]["keypoints"]]
        pairs = [
            (k, int(PoseLandmark[n.upper()])) for k, n in enumerate(names) if n in COCO17_NAMES
        ]
        columns = [k for k, _ in pairs]
        files = {image["id"]: image["file_name"] for image in data["images"]}
        people: dict[str, list[dict]] = {}
        for a in data["annotations"]:
            labelled = np.array(a["keypoints"], float).reshape(-1, 3)[columns, 2] > 0
            if not a.get("iscrowd") and labelled.sum() >= MIN_LABELLED:
                people.setdefault(files[a["image_id"]], []).append(a)
        return cls(
            path,
            people,
            {name: i for i, name in files.items()},
            columns,
            [b for _, b in pairs],
            names == list(COCO17_NAMES),
        )

    def boxes(self, file_name: str) -> np.ndarray:
        """The labelled people's boxes as pixel x1, y1, x2, y2."""
        xywh = np.array([p["bbox"] for p in self.people[file_name]], float).reshape(-1, 4)
        return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)

    def pck(self, pose: np.ndarray, person: dict, width: int, height: int) -> float:
        """Share of the person's labelled keypoints within 0.1 x sqrt(box area) of the label."""
        keypoints = np.array(person["keypoints"], float).reshape(-1, 3)[self.columns]
        labelled = keypoints[:, 2] > 0
        predicted = pose[self.landmarks, :2] * (width, height)
        distance = np.hypot(*(predicted - keypoints[:, :2]).T)
        _, _, w, h = person["bbox"]
        return float((distance[labelled] < 0.1 * np.sqrt(w * h)).mean())

    def match(self, poses: np.ndarray, file_name: str, width: int, height: int) -> list[float]:
        """Each labelled person's PCK with the pose matched to it (one to one, best PCK first;
        0 for a person left without a pose)."""
        people = self.people[file_name]
        scores = sorted(
            ((self.pck(pose, p, width, height), i, j) for i, pose in enumerate(poses)
             for j, p in enumerate(people)),
            reverse=True,
        )  # fmt: skip
        best, used = [0.0] * len(people), set()
        for score, i, j in scores:
            if i not in used and best[j] == 0.0 and score > 0:
                used.add(i)
                best[j] = score
        return best


def coco_results(image_id: int, keypoints: np.ndarray) -> list[dict]:
    """COCO keypoint results for one image from (n, 17, 3) pixel keypoints (x, y, visibility);
    a pose's score is its mean visibility."""
    return [
        {
            "image_id": image_id,
            "category_id": 1,
            "keypoints": [
                round(float(v), 2) for v in np.column_stack([k[:, :2], np.ones(17)]).flat
            ],
            "score": float(k[:, 2].mean()),
        }
        for k in keypoints
    ]


def oks_ap(labels: Path, image_ids: list[int], results: list[dict]) -> float | None:
    """pycocotools' OKS AP (0.50:0.95) over these images, or None without pycocotools."""
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        return None
    if not results:
        return 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(labels))
        evaluation = COCOeval(truth, truth.loadRes(results), "keypoints")
        evaluation.params.imgIds = image_ids
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])
