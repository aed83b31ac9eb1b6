"""Identities that last: a multi-person tracker for streams with a person detector.

Each track has a box motion model (`BoxKalman`), its last pose and, while it is seen, the ROI
MediaPipe's landmark-driven tracking gives for the next frame. A frame goes:

1. `needs_detection`: the person detector runs only when it may find someone, and never while
   all `num_poses` slots are seen (a run could add no one): on the first frame (and a new
   frame size); just after a track was lost; while a lost track may be in sight (IN_SIGHT of
   its predicted box inside the frame); while people the last run found are not yet tracked
   (acquisition: a confident box whose seeded ROI gave no tracked pose is tried at that place
   in up to ACQUIRE_TRIES runs, then given up for RETRY_S, so a poster or a false box the
   landmarker keeps refusing costs neither runs nor seeds); and `interval` frames after its
   last run (people coming into sight). Else tracked ROIs only: free slots alone run nothing.
2. `seed_boxes`: detections (ByteTrack's two passes) are matched to the tracks' predicted boxes
   by IoU: confident boxes first, against every track; then low-score boxes, only against lost
   tracks (they never start one). A box on a seen track adds nothing (its ROI follows the
   person); a box on a lost track, or a confident new one not at a place given up, seeds a ROI
   (the pipeline's box refinement pass).
3. `frame_rois`: the seen tracks' ROIs and the seeded ones, for one batched landmarker call.
4. `assign`: the poses found are matched to tracks by box overlap with each track's predicted
   box and, for tracks seen in the frame before, pose similarity (OKS) with its last pose
   moved as its box moved; greedy, best pair first. A track's ROI that drifted onto someone
   else thus gives that person's pose to that person's track. Unmatched poses start tracks,
   unmatched tracks are lost: they keep predicting for MEMORY_S seconds and take their id
   back when their person is found again near the prediction.
5. A track started after the stream's first frame (and not from the user's person boxes) is
   tentative until seen in CONFIRM_FRAMES frames in a row (SORT's and ByteTrack's rule): its
   poses are not reported (`pose_ids` gives -1) and it ends when lost. The landmarker gives
   confident poses of a few frames on the detector's false boxes (a thin or tiny "person" on
   the background); they never become ids, nor keep the detector running as a lost track
   would.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from blazepose_onnx.pipeline.pose_similarity import KAPPA
from blazepose_onnx.pipeline.roi import axis_aligned_iou
from blazepose_onnx.stream.box_kalman import BoxKalman

HIGH_SCORE = 0.5  # a confident box, unless the detector says (its `confident_score`)
LOW_SCORE_SHARE = 0.4  # low-score boxes down to this share of the high threshold
MATCH_IOU = 0.3  # a confident box on a track's predicted box
LOW_MATCH_IOU = 0.5  # a low-score box on a lost track's (ByteTrack's second pass)
COVERED = 0.7  # a box mostly inside a seen track's box is that person, or hidden by them
MIN_SIMILARITY = 0.3  # a pose on a track: IoU, or (IoU + OKS) / 2 for a track seen just before
OWN_IOU = 0.1  # a pose in its own track's ROI stays that track's while this much on its box
DROPPED = -1  # a pose given to no track
MEMORY_S = 5.0  # how long a lost track waits for its person
ROLLBACK_FRAMES = 10  # a lost track predicts on from its motion this many frames before
IN_SIGHT = 0.5  # a lost track may be seen while this share of its predicted box is in the frame
ACQUIRE_TRIES = 3  # runs that seed a new person's box at a place before it is given up
RETRY_S = 5.0  # a place given up is seeded again this long after its last try
CONFIRM_FRAMES = 4  # frames in a row a new track is seen before it is reported (phantoms: <= 3)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of pixel boxes x1, y1, x2, y2."""
    return axis_aligned_iou(_centre_size(a), _centre_size(b))


def _centre_size(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], axis=1)


def covered_share(boxes: np.ndarray, by: np.ndarray) -> np.ndarray:
    """(len(boxes), len(by)): the share of each box's area inside each box of `by`."""
    low = np.maximum(boxes[:, None, :2], by[None, :, :2])
    high = np.minimum(boxes[:, None, 2:], by[None, :, 2:])
    inside = np.clip(high - low, 0, None).prod(axis=-1)
    area = np.maximum((boxes[:, 2:] - boxes[:, :2]).prod(axis=1), 1.0)
    return inside / area[:, None]


def pose_boxes(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(n, 4) pixel boxes around (n, 33, >=2) normalised landmarks."""
    pixels = landmarks[..., :2].astype(np.float64) * (width, height)
    return np.concatenate([pixels.min(axis=1), pixels.max(axis=1)], axis=1)


def shifted_oks(poses: np.ndarray, previous: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """(n, m) OKS of n pixel poses (n, 33, 2) with m earlier poses (m, 33, 2) each moved by its
    (m, 2) shift; the scale is each earlier pose's box."""
    moved = previous + shift[:, None]
    extent = moved.max(axis=1) - moved.min(axis=1)
    area = np.maximum(extent[:, 0] * extent[:, 1], 1.0)
    squared = ((poses[:, None] - moved[None]) ** 2).sum(axis=-1)  # (n, m, 33)
    return np.exp(-squared / (2 * KAPPA**2 * area[None, :, None])).mean(axis=-1)


def lost_overlap(boxes: np.ndarray, lost: list[PersonTrack]) -> np.ndarray:
    """(len(boxes), len(lost)) IoU of boxes with lost tracks: near where each was predicted
    (moving on as it moved), or where it was last seen (stopped behind what hides it)."""
    moving = box_iou(boxes, np.stack([t.predicted_box for t in lost]))
    return np.maximum(moving, box_iou(boxes, np.stack([t.still_box for t in lost])))


def greedy_pairs(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(row, column) pairs, best similarity first, each row and column at most once, all at or
    above `threshold` (a handful of people: greedy is as good as optimal here and stable)."""
    pairs, used_rows, used_columns = [], set(), set()
    order = np.argsort(-similarity, axis=None, kind="stable")
    for row, column in zip(*np.unravel_index(order, similarity.shape), strict=True):
        if similarity[row, column] < threshold:
            break
        if row not in used_rows and column not in used_columns:
            pairs.append((int(row), int(column)))
            used_rows.add(row)
            used_columns.add(column)
    return pairs


@dataclass
class PersonTrack:
    """One person: box motion, last pose (pixels), next ROI while seen, when last seen."""

    track_id: int
    motion: BoxKalman
    landmarks: np.ndarray  # (33, 2) pixels
    last_seen_us: int
    roi: np.ndarray | None = None  # the next frame's ROI (normalised) while seen
    predicted: np.ndarray | None = None  # this frame's predicted box
    history: deque = field(default_factory=lambda: deque(maxlen=ROLLBACK_FRAMES))
    still: np.ndarray | None = None  # while lost: its box when last seen well, kept still
    pose_id: int = -1  # the id reported, once confirmed (-1: tentative)
    frames_seen: int = 1

    def see(self, box: np.ndarray, pixels: np.ndarray, timestamp_us: int) -> None:
        """This frame's pose (its box and (33, 2) pixel landmarks) is this track's."""
        self.frames_seen += 1
        self.still = None
        self.motion.update(box)
        self.history.append((self.motion.mean.copy(), self.motion.covariance.copy()))
        self.landmarks, self.last_seen_us = pixels, timestamp_us

    def lose(self) -> None:
        """Unseen from this frame on: predict on from the motion of ROLLBACK_FRAMES frames
        before, not from the last few boxes, which a person being hidden distorts, and at a
        constant size (a box's growth does not go on for seconds)."""
        self.roi = None
        if len(self.history) > 1:
            self.motion.mean, self.motion.covariance = self.history[0]
            self.motion.mean[6:] = 0.0
            self.still = self.motion.box
            for _ in range(len(self.history)):
                self.predicted = self.motion.predict()
        self.motion.mean[6:] = 0.0
        if self.still is None:
            self.still = self.motion.box
        self.history.clear()

    @property
    def seen(self) -> bool:
        return self.roi is not None

    @property
    def predicted_box(self) -> np.ndarray:
        """This frame's predicted box: `predict` sets it on every track before any matching."""
        if self.predicted is None:
            raise RuntimeError(f"track {self.track_id} was matched before it was predicted")
        return self.predicted

    @property
    def still_box(self) -> np.ndarray:
        """Its box when last seen well: `lose` sets it on every lost track."""
        if self.still is None:
            raise RuntimeError(f"track {self.track_id} is matched as lost but was never lost")
        return self.still


@dataclass
class RefusedPlace:
    """Where a detector run's new person gave no tracked pose: the box, the runs that refused
    someone there (each within RETRY_S of the one before), and when the last one did."""

    box: np.ndarray
    runs: int
    at_us: int


class PersonTracker:
    """Tracks of one stream (see the module docstring); `interval` is the most frames between
    detector runs, `high_score` the detector's confident-box threshold."""

    def __init__(self, num_poses: int, interval: int, high_score: float = HIGH_SCORE) -> None:
        self.num_poses = num_poses
        self.interval = interval
        self.high_score = high_score
        self.tracks: list[PersonTrack] = []
        self.frame_size: tuple[int, int] | None = None
        self._since_detection = 0
        self._just_lost = False
        self._predicted = False
        self._next_id = 0
        self._next_pose_id = 0
        self._new_people = np.zeros((0, 4))  # this frame's seeded boxes of new people
        self._refused: list[RefusedPlace] = []
        self._last_run_us = -1  # when the detector last ran
        self._given = False  # this frame's seeds are the user's person boxes

    def needs_detection(self, width: int, height: int) -> bool:
        """Whether a width x height frame, the next one, needs the detector (the module
        docstring's rule). Changes nothing."""
        if self.frame_size != (width, height):
            return True
        if sum(track.seen for track in self.tracks) >= self.num_poses:
            return False
        return (
            self._since_detection >= self.interval - 1
            or self._just_lost
            or any(p.runs < ACQUIRE_TRIES and p.at_us == self._last_run_us for p in self._refused)
            or self._lost_in_sight(width, height)
        )

    def _lost_in_sight(self, width: int, height: int) -> bool:
        """Whether a lost track's predicted box is at least IN_SIGHT in the frame."""
        lost = [t.predicted for t in self.tracks if not t.seen and t.predicted is not None]
        if not lost:
            return False
        frame = np.array([[0.0, 0.0, width, height]])
        return bool((covered_share(np.stack(lost), frame) >= IN_SIGHT).any())

    def _predict(self, width: int, height: int) -> None:
        """This frame's predicted boxes (once per frame); a new frame size ends every track."""
        if self._predicted:
            return
        if self.frame_size not in (None, (width, height)):
            self.tracks = []
        for track in self.tracks:
            track.predicted = track.motion.predict()
        self._predicted = True

    def seed_boxes(
        self, boxes: np.ndarray, scores: np.ndarray, width: int, height: int, given: bool = False
    ) -> np.ndarray:
        """The detector's pixel boxes (n, 4) with scores (n,) -> the boxes (k, 4) that need a
        seeded ROI this frame, in priority order (lost tracks first, then new people).
        `given` boxes (the user's person boxes) are people: their new tracks are not tentative."""
        self._predict(width, height)
        self._since_detection = 0
        self._given = given
        seen = [t for t in self.tracks if t.seen]
        lost = [t for t in self.tracks if not t.seen]
        high = np.flatnonzero(scores >= self.high_score)
        low = np.flatnonzero(
            (scores < self.high_score) & (scores >= self.high_score * LOW_SCORE_SHARE)
        )
        revived: list[int] = []  # boxes on lost tracks, then new people's
        free = set(high.tolist())
        waiting = list(range(len(lost)))
        if len(high) and self.tracks:
            overlap = np.zeros((len(high), len(self.tracks)))
            if seen:
                overlap[:, : len(seen)] = box_iou(
                    boxes[high], np.stack([t.predicted_box for t in seen])
                )
            if lost:
                overlap[:, len(seen) :] = lost_overlap(boxes[high], lost)
            for row, column in greedy_pairs(overlap, MATCH_IOU):
                free.discard(int(high[row]))
                if column >= len(seen):
                    revived.append(int(high[row]))
                    waiting.remove(column - len(seen))
        if len(low) and waiting:
            overlap = lost_overlap(boxes[low], [lost[k] for k in waiting])
            revived += [int(low[row]) for row, _ in greedy_pairs(overlap, LOW_MATCH_IOU)]
        new = sorted(free, key=lambda k: -scores[k])
        if new and seen:
            predicted = np.stack([t.predicted_box for t in seen])
            covered = covered_share(boxes[new], predicted).max(axis=1)
            new = [k for k, share in zip(new, covered, strict=True) if share < COVERED]
        if new:  # a place given up is left alone until RETRY_S after it was last tried
            new = [k for k, late in zip(new, self._given_up(boxes[new]), strict=True) if not late]
        seeds = (revived + new)[: max(self.num_poses - len(seen), 0)]
        self._new_people = boxes[seeds[len(revived) :]].reshape(-1, 4)
        return boxes[seeds].reshape(-1, 4)

    def _given_up(self, boxes: np.ndarray) -> np.ndarray:
        """(n,) bool: whether each box is at a place given up (see `_note_refused`)."""
        places = [place.box for place in self._refused if place.runs >= ACQUIRE_TRIES]
        if not places:
            return np.zeros(len(boxes), bool)
        return box_iou(boxes, np.stack(places)).max(axis=1) >= MATCH_IOU

    def frame_rois(
        self, width: int, height: int, seeded: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """This frame's ROIs, the seen tracks' then the seeded ones (None: no detection), and
        the track each seen track's ROI belongs to (-1 for seeded ones)."""
        self._predict(width, height)
        if seeded is None:
            self._since_detection += 1
        seen = [t for t in self.tracks if t.seen]
        rois = [t.roi for t in seen] + ([] if seeded is None else list(seeded))
        owners = [t.track_id for t in seen] + [-1] * (len(rois) - len(seen))
        return np.reshape(rois, (-1, 5)), np.array(owners, np.int64)

    def assign(
        self,
        landmarks: np.ndarray,
        owners: np.ndarray,
        width: int,
        height: int,
        timestamp_us: int,
    ) -> np.ndarray:
        """Track ids (n,) of this frame's poses (n, 33, >=2), normalised, found in ROIs of
        `owners` (n,) (see `frame_rois`); -1 (DROPPED) for a pose beyond `num_poses`, or one
        that starts no track because it lies inside someone's box (a part of a person seen,
        or of one hidden). Updates every track's motion and last pose; unmatched tracks are
        lost (tentative ones end); `pose_ids` gives the ids to report."""
        self._predict(width, height)
        first_frame = self.frame_size != (width, height)
        self.frame_size = (width, height)
        self._predicted = False
        boxes = pose_boxes(landmarks, width, height)
        pixels = landmarks[..., :2].astype(np.float64) * (width, height)
        seen = [t for t in self.tracks if t.seen]
        lost = [t for t in self.tracks if not t.seen]
        ids = np.full(len(landmarks), DROPPED, np.int64)
        if seen and len(landmarks):
            self._match_seen(ids, boxes, pixels, owners, seen)
        free = np.flatnonzero(ids == DROPPED)
        matched = boxes[ids != DROPPED]
        if len(free) and len(matched):  # a pose inside a seen person's box is a part of them
            free = free[covered_share(boxes[free], matched).max(axis=1) < COVERED]
        if lost and len(free):
            for row, column in greedy_pairs(lost_overlap(boxes[free], lost), MIN_SIMILARITY):
                ids[free[row]] = lost[column].track_id
        by_id = {t.track_id: t for t in self.tracks}
        for row in np.flatnonzero(ids != DROPPED).tolist():
            by_id[ids[row]].see(boxes[row], pixels[row], timestamp_us)
        sure = first_frame or self._given  # new tracks need no confirmation
        for row in self._newcomers(ids, boxes, lost):
            ids[row] = self._next_id
            by_id[self._next_id] = PersonTrack(
                self._next_id, BoxKalman(boxes[row]), pixels[row], timestamp_us,
                frames_seen=CONFIRM_FRAMES if sure else 1,
            )  # fmt: skip
            self._next_id += 1
        self._keep_tracks(by_id, set(ids[ids != DROPPED].tolist()), timestamp_us)
        for track in self.tracks:
            if track.pose_id < 0 and track.frames_seen >= CONFIRM_FRAMES:
                track.pose_id, self._next_pose_id = self._next_pose_id, self._next_pose_id + 1
        if self._since_detection == 0:
            self._note_refused(boxes[ids != DROPPED], timestamp_us)
        self._given = False
        return ids

    def pose_ids(self, track_ids: np.ndarray) -> np.ndarray:
        """The reported ids (n,) of tracks (n,): -1 for a tentative one."""
        by_id = {t.track_id: t.pose_id for t in self.tracks}
        return np.array([by_id[i] for i in track_ids.tolist()], np.int64)

    def _note_refused(self, tracked: np.ndarray, now_us: int) -> None:
        """After a detector run: the places of new people it seeded who gave no tracked pose
        (none of this frame's tracked `boxes` on theirs), each with the runs that refused
        someone there; places are remembered for RETRY_S."""
        boxes = self._new_people
        if len(boxes) and len(tracked):
            boxes = boxes[box_iou(boxes, tracked).max(axis=1) < MATCH_IOU]
        places = [RefusedPlace(box, 1, now_us) for box in boxes]
        again: set[int] = set()
        if places and self._refused:
            earlier = np.stack([place.box for place in self._refused])
            for row, column in greedy_pairs(box_iou(boxes, earlier), MATCH_IOU):
                places[row].runs += self._refused[column].runs
                again.add(column)
        self._refused = places + [
            place
            for k, place in enumerate(self._refused)
            if k not in again and now_us - place.at_us <= RETRY_S * 1e6
        ]
        self._last_run_us = now_us
        self._new_people = np.zeros((0, 4))

    @staticmethod
    def _match_seen(
        ids: np.ndarray,
        boxes: np.ndarray,
        pixels: np.ndarray,
        owners: np.ndarray,
        seen: list[PersonTrack],
    ) -> None:
        """Give poses to the tracks seen in the frame before (in `ids`): box overlap and OKS,
        then each track's own ROI's pose when no one claimed it and it is still on the
        track's box (that person seen badly, half hidden, not someone new)."""
        overlap = box_iou(boxes, np.stack([t.predicted_box for t in seen]))
        similarity = overlap.copy()
        for column, track in enumerate(seen):
            shift = box_centre(track.predicted_box) - box_centre(box_of(track.landmarks))
            oks = shifted_oks(pixels, track.landmarks[None], shift[None])[:, 0]
            similarity[:, column] = (similarity[:, column] + oks) / 2
        for row, column in greedy_pairs(similarity, MIN_SIMILARITY):
            ids[row] = seen[column].track_id
        for column, track in enumerate(seen):
            mine = np.flatnonzero((owners == track.track_id) & (ids == DROPPED))
            if track.track_id not in ids and len(mine) and overlap[mine[0], column] > OWN_IOU:
                ids[mine[0]] = track.track_id

    def _newcomers(self, ids: np.ndarray, boxes: np.ndarray, lost: list[PersonTrack]) -> np.ndarray:
        """The unmatched poses that start tracks: not inside the box of someone seen (a part of
        them) or of someone hidden (where they are predicted or were last seen), while
        `num_poses` allows."""
        newcomers = np.flatnonzero(ids == DROPPED)
        hidden = [  # not those found again just now
            np.stack([t.predicted_box, t.still]) for t in lost if t.still is not None
        ]
        others = np.concatenate([boxes[ids != DROPPED], *hidden])
        if len(newcomers) and len(others):
            newcomers = newcomers[covered_share(boxes[newcomers], others).max(axis=1) < COVERED]
        return newcomers[: max(self.num_poses - int((ids != DROPPED).sum()), 0)]

    def _keep_tracks(self, by_id: dict[int, PersonTrack], found: set[int], now_us: int) -> None:
        """The tracks after this frame: the ones found, and the confirmed lost ones younger
        than MEMORY_S; notes whether a confirmed track seen in the frame before was lost now."""
        was_seen = {t.track_id for t in self.tracks if t.seen and t.pose_id >= 0}
        self._just_lost = bool(was_seen - found)
        self.tracks = [
            track
            for i, track in sorted(by_id.items())
            if i in found or (track.pose_id >= 0 and now_us - track.last_seen_us <= MEMORY_S * 1e6)
        ]
        for track in self.tracks:
            if track.track_id not in found and track.seen:
                track.lose()

    def update_rois(self, ids: np.ndarray, rois: np.ndarray) -> None:
        """The next frame's ROIs of the tracks seen in this frame (from their poses)."""
        by_id = {t.track_id: t for t in self.tracks}
        for track_id, roi in zip(ids.tolist(), rois, strict=True):
            by_id[track_id].roi = roi


def box_centre(box: np.ndarray) -> np.ndarray:
    return (box[:2] + box[2:]) / 2


def box_of(pixels: np.ndarray) -> np.ndarray:
    return np.concatenate([pixels.min(axis=0), pixels.max(axis=0)])
