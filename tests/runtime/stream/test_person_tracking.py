"""Identities that last (`person_detector="ssd"` in stream modes, the one option: `num_poses`
unset, everyone), measured on clips whose identities are known by construction
(runtime/bench/composed_clips.py: tiles of tests/data/squat.mp4, truth from the single-person
pipeline on each tile's frames) and on dance.mp4's hand-checked lanes, with motmetrics
(benchmarks/tracking_eval.py, which also gives the README's table).

Cost (lite model, the full suite on 2 cores): about 100 s: truth for the 480 composed frames
(26 s), each clip tracked once (5-15 s each, shared by the tests), dance.mp4 (8 s), LIVE_STREAM
and multi-stream runs of 60 frames (16 s), the cadence's runs of 30-45 frames (10 s); twice
that on a busy machine."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from blazepose_onnx import MultiStreamPoseLandmarker, PoseLandmarkerOptions, RunningMode
from blazepose_onnx.bench.composed_clips import FPS, SCENES, compose, tile_truth
from blazepose_onnx.pose_landmarker import PoseLandmarker

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "tracking_eval", ROOT / "benchmarks" / "tracking_eval.py"
)
tracking_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tracking_eval)

MODEL = "lite"


@pytest.fixture(scope="module")
def clips(model_dir, data_dir) -> dict:
    from blazepose_onnx.io.video_reader import read_frames

    source = read_frames(str(data_dir / "squat.mp4"))
    return {name: compose(source, scene) for name, scene in SCENES.items()}


@pytest.fixture(scope="module")
def truths(clips) -> dict:
    return {name: tile_truth(clip, model=MODEL) for name, clip in clips.items()}


def tracked(frames, **options):
    """Poses and ids of every frame, and stats, with the one option (and any `options`)."""
    return tracking_eval.track_video(frames, model=MODEL, person_detector="ssd", **options)


@pytest.fixture(scope="module")
def runs(clips) -> dict:
    """Each clip tracked once (poses and ids per frame, stats), by name, as tests ask."""
    cache: dict = {}

    def run(name: str):
        if name not in cache:
            cache[name] = tracked(clips[name].frames)
        return cache[name]

    return run


# measured (lite, ssd, interval 10, num_poses unset), occlusion, passing, rotated, side_by_side:
# recall 1.0, 0.9953, 1.0, 1.0; IDF1 0.9941, 0.9862, 1.0, 1.0; 0 switches; one id per person
# (without tentative tracks, passing: 6 ids, IDF1 0.9683)
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCENES))
def test_every_person_keeps_one_id_on_the_composed_clips(name, clips, truths, runs):
    clip = clips[name]
    tracks, _ = runs(name)
    scores = tracking_eval.mot_scores(clip, truths[name], tracks)
    assert scores["switches"] == 0, scores
    assert scores["recall"] >= 0.95 and scores["idf1"] >= 0.95, scores
    assert scores["ids"] == len(clip.scene.tiles), scores


@pytest.mark.slow
def test_the_hidden_person_takes_their_id_back(runs):
    """occlusion: the right person is covered for 3 s; the same id before and after, none
    while hidden."""
    tracks, stats = runs("occlusion")
    hidden_id = {int(ids[np.argmax(landmarks[:, 23, 0])]) for landmarks, ids in tracks[:10]}
    after = {int(ids[np.argmax(landmarks[:, 23, 0])]) for landmarks, ids in tracks[-10:]}
    assert hidden_id == after and len(hidden_id) == 1
    assert all(len(ids) == 1 for _, ids in tracks[60:120])  # only the one in front
    # the detector runs on every frame while the hidden person may be in sight (measured 118)
    assert stats["detector_runs"] >= 90


@pytest.mark.slow
def test_dance_mp4_three_dancers_three_ids(data_dir):
    """MediaPipe's multi-pose output gives 63 ids and finds 3 dancers in no frame; with the
    tracker (measured, lite): 3 ids, 0 switches, 3 poses in 109 of 120 frames."""
    from blazepose_onnx.io.video_reader import read_frames

    lanes = json.loads((data_dir / "dance_lanes.json").read_text())["lanes"]
    tracks, _ = tracked(read_frames(str(data_dir / "dance.mp4")))
    scores = tracking_eval.lane_scores(tracks, lanes)
    assert scores["switches"] == 0 and scores["ids"] <= 6, scores
    assert scores["frames_by_poses"].get("3", 0) >= 100, scores


@pytest.mark.slow
def test_the_detector_runs_only_when_it_may_find_someone(clips, runs):
    """side_by_side: 3 people in sight throughout, 90 frames. Free slots alone run nothing:
    with num_poses unset (64 slots) the detector ran on every frame before, as with a given
    num_poses=4; now on the first frame, every 10th, and twice more where its boxes beside the
    people gave no one new (measured 14 of 90; num_poses=4: 8 of 45, frames 0-2, 12, 22, 32,
    42-43). With every slot tracked (num_poses=3) a run could add no one: the first frame
    only. The interval still bounds the time between runs (1: every frame)."""
    clip = clips["side_by_side"]
    _, unset = runs("side_by_side")
    four_tracks, four = tracked(clip.frames[:45], num_poses=4)
    _, full = tracked(clip.frames[:45], num_poses=3)
    _, every_frame = tracked(clip.frames[:30], person_detection_interval=1)
    assert unset["detector_runs"] <= 16 and four["detector_runs"] <= 10
    assert {int(i) for _, ids in four_tracks for i in ids} == {0, 1, 2}
    assert full["detector_runs"] == 1
    assert every_frame["detector_runs"] == 30


@pytest.mark.slow
def test_live_stream_and_multi_stream_track_as_video_does(clips):
    """The one stream step: LIVE_STREAM (each frame awaited: none dropped) and one
    MultiStreamPoseLandmarker step for two clips give VIDEO mode's poses and ids."""
    import threading

    passing, occlusion = clips["passing"].frames[:60], clips["occlusion"].frames[:60]
    expected = {name: tracked(frames)[0] for name, frames in [("p", passing), ("o", occlusion)]}

    delivered, ready = [], threading.Event()

    def deliver(result, image, timestamp_ms):
        delivered.append((result.as_arrays()[0], np.array(result.pose_ids)))
        ready.set()

    options = PoseLandmarkerOptions(
        model=MODEL, person_detector="ssd", running_mode=RunningMode.LIVE_STREAM,
        result_callback=deliver,
    )  # fmt: skip
    with PoseLandmarker.create_from_options(options) as landmarker:
        for k, frame in enumerate(passing):
            ready.clear()
            landmarker.detect_async(frame, k * 1000 // FPS)
            assert ready.wait(30)
    streams_options = PoseLandmarkerOptions(model=MODEL, person_detector="ssd")
    with MultiStreamPoseLandmarker(streams_options) as streams:
        streams.open_stream("p")
        streams.open_stream("o")
        stepped = {"p": [], "o": []}
        for k, (a, b) in enumerate(zip(passing, occlusion, strict=True)):
            step = streams.process({"p": (a, k * 1000 // FPS), "o": (b, k * 1000 // FPS)})
            for name, result in step.items():
                stepped[name].append((result.as_arrays()[0], np.array(result.pose_ids)))
    for name, runs in [("p", delivered), ("p", stepped["p"]), ("o", stepped["o"])]:
        for (landmarks, ids), (want, want_ids) in zip(runs, expected[name], strict=True):
            assert ids.tolist() == want_ids.tolist()
            np.testing.assert_allclose(landmarks, want, atol=1e-5)


def test_people_from_given_boxes_get_ids_at_once(data_dir):
    """A new track waits 4 frames for its id (the SSD's false boxes give poses of a few
    frames), but one from the user's person boxes is a person: reported on its first frame."""
    from blazepose_onnx.io.video_reader import read_frames

    dancers = [[0, 240, 140, 560], [100, 250, 245, 580], [215, 225, 360, 560]]  # frame 0
    first, second = read_frames(str(data_dir / "dance.mp4"), limit=2)
    options = PoseLandmarkerOptions(
        model=MODEL, person_detector="ssd", running_mode=RunningMode.VIDEO
    )
    with PoseLandmarker.create_from_options(options) as landmarker:
        assert landmarker.detect_for_video(first, 0, person_boxes=[]).pose_ids == []
        assert landmarker.detect_for_video(second, 33, person_boxes=dancers).pose_ids == [0, 1, 2]


@pytest.mark.parametrize("value", [0, -3, True, 2.5, "10"])
def test_the_interval_option_is_checked(value):
    with pytest.raises(ValueError, match="person_detection_interval"):
        PoseLandmarkerOptions(person_detection_interval=value).validated()
