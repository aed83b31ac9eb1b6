"""ROI tracking across frames (VIDEO and LIVE_STREAM), as MediaPipe Tasks does it.

Each tracked pose has an id. The next frame's ROIs come from the auxiliary landmarks 33
(centre) and 34 (size and rotation); the detector runs only when fewer than `num_poses` ROIs
survive, and its ROIs are merged in by axis-aligned IoU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from blazepose_onnx.pipeline.roi import axis_aligned_iou, rois_from_keypoints


def next_frame_rois(aux: np.ndarray, width: int, height: int) -> np.ndarray:
    """ROIs for the next frame from (n, 2, >=2) auxiliary landmarks (raw, unsmoothed)."""
    return rois_from_keypoints(aux[:, 0, :2], aux[:, 1, :2], width, height)


def rescale_rois(rois: np.ndarray, width: int, height: int) -> np.ndarray:
    """Keep normalised centres and make each ROI square in pixels of a new frame size."""
    side = np.sqrt(rois[:, 2] * width * rois[:, 3] * height)
    out = rois.copy()
    out[:, 2], out[:, 3] = side / width, side / height
    return out


def associate(
    previous: np.ndarray, detected: np.ndarray, threshold: float, distinct: bool = False
) -> tuple[list[int], dict[int, int]]:
    """Indices into concat(previous, detected) of the ROIs kept, in order (MediaPipe's rule),
    and for each ROI that replaced others, the index of the one it overlapped most.

    ROIs are added one by one, previous first; each new ROI removes every kept ROI whose
    axis-aligned IoU with it exceeds `threshold`. `distinct` detections (one per person box)
    replace previous ROIs only, never each other.
    """
    candidates = np.concatenate([previous, detected]) if len(detected) else previous
    if len(candidates) == 0:
        return [], {}
    iou = axis_aligned_iou(candidates, candidates)
    kept: list[int] = []
    replaced: dict[int, int] = {}
    for index in range(len(candidates)):
        removed = [
            k for k in kept if iou[k, index] > threshold and not (distinct and k >= len(previous))
        ]
        if removed:
            replaced[index] = max(removed, key=lambda k: iou[k, index])
        kept = [k for k in kept if k not in removed]
        kept.append(index)
    return kept, replaced


@dataclass
class RoiTracker:
    """ROIs (and their track ids) carried from one frame to the next."""

    num_poses: int
    iou_threshold: float
    rois: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    frame_size: tuple[int, int] | None = None
    _next_id: int = 0

    def needs_detection(self) -> bool:
        return len(self.rois) < self.num_poses

    def frame_rois(
        self, width: int, height: int, detected: np.ndarray, distinct: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """This frame's ROIs and ids: tracked ones merged with `detected`, clipped to num_poses.

        A detection that replaces a tracked ROI (the same person, found again) keeps that
        track's id; other detections start new tracks with new ids. `distinct` detections
        (from person boxes) do not remove each other.
        """
        previous = self.rois
        if self.frame_size not in (None, (width, height)) and len(previous):
            previous = rescale_rois(previous, width, height)
        kept, replaced = associate(previous, detected, self.iou_threshold, distinct)
        kept = kept[: self.num_poses]
        if not kept:
            return np.zeros((0, 5)), np.zeros(0, np.int64)
        candidate_ids = np.concatenate([self.ids, np.full(len(detected), -1, np.int64)])
        for index in kept:
            if candidate_ids[index] >= 0:
                continue
            source = replaced.get(index)
            while source is not None and candidate_ids[source] < 0:  # a replaced detection
                source = replaced.get(source)
            if source is not None:
                candidate_ids[index] = candidate_ids[source]
            else:
                candidate_ids[index] = self._next_id
                self._next_id += 1
        return np.concatenate([previous, detected])[kept], candidate_ids[kept]

    def update(self, rois: np.ndarray, ids: np.ndarray, width: int, height: int) -> None:
        """Remember the next-frame ROIs of the poses found in this frame."""
        self.rois = rois
        self.ids = ids
        self.frame_size = (width, height)
