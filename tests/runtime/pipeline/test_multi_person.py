"""Many people: person boxes from any detector, a pluggable first stage (a callable or a
YOLO-layout ONNX file), and no duplicate poses of one person."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pyarrow.parquet as pq
import pytest
from onnx import TensorProto, helper, numpy_helper

from blazepose_onnx import (
    MultiStreamPoseLandmarker,
    PoseLandmarker,
    PoseLandmarkerOptions,
    RunningMode,
)
from blazepose_onnx.pipeline.person_detector import decode_yolo
from blazepose_onnx.pipeline.pose_similarity import DUPLICATE_OKS, oks_matrix

# The four pedestrians of bus.jpg (810x1080), drawn by hand: x1, y1, x2, y2 in pixels.
BUS_PEOPLE = np.array(
    [[48, 398, 245, 902], [670, 380, 809, 875], [221, 405, 344, 857], [0, 550, 63, 873]], float
)


def hips_inside(landmarks: np.ndarray, boxes: np.ndarray, width: int, height: int) -> list[int]:
    """For each pose, the index of the box holding its mid-hip point (-1 if none), with 8 px of
    slack: the hips of the man cut off by bus.jpg's right edge land on that edge, 2 px past his
    hand-drawn box. Where boxes overlap (the person at the left edge stands in front of the
    first), the one whose centre is nearest."""
    boxes = np.asarray(boxes, float)
    slack = boxes + np.array([-8, -8, 8, 8])
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    out = []
    for pose in landmarks:
        x, y = pose[[23, 24], :2].mean(axis=0) * (width, height)
        inside = np.flatnonzero(
            (slack[:, 0] <= x) & (x <= slack[:, 2]) & (slack[:, 1] <= y) & (y <= slack[:, 3])
        )
        nearest = np.linalg.norm(centres[inside] - (x, y), axis=1).argmin() if len(inside) else 0
        out.append(int(inside[nearest]) if len(inside) else -1)
    return out


def test_person_boxes_find_the_people_the_pose_detector_misses(landmarker_factory, images):
    landmarker = landmarker_factory("full", num_poses=5)
    assert len(landmarker.detect(images["bus"]).pose_landmarks) == 1  # MediaPipe-identical
    result = landmarker.detect(images["bus"], person_boxes=BUS_PEOPLE)
    landmarks = result.as_arrays()[0]
    assert result.pose_ids == list(range(len(landmarks)))
    # One pose per box, the man cut off by the right edge too: a box is a person, so the
    # refinement pass keeps his box although its first crop scores below the presence threshold
    # (see hips_inside).
    assert sorted(hips_inside(landmarks, BUS_PEOPLE, 810, 1080)) == [0, 1, 2, 3]


def test_boxes_beyond_num_poses_keep_the_best_scores(landmarker_factory, images):
    scored = np.concatenate([BUS_PEOPLE, [[0.2], [0.1], [0.9], [0.05]]], axis=1)
    result = landmarker_factory("full", num_poses=2).detect(images["bus"], person_boxes=scored)
    inside = hips_inside(result.as_arrays()[0], BUS_PEOPLE, 810, 1080)
    assert sorted(inside) == [0, 2]  # the boxes scored 0.9 and 0.2


@pytest.mark.parametrize(
    ("boxes", "error", "fragment"),
    [
        ([[10, 10, 50]], ValueError, "shape (n, 4) or (n, 5)"),
        ([[10, np.nan, 50, 60]], ValueError, "NaN"),
        ([[50, 10, 10, 60]], ValueError, "x2 > x1"),
        ([[10, 10, 10, 60]], ValueError, "x2 > x1"),
        ([[900, 10, 1000, 60]], ValueError, "overlap the 810x1080 image"),
        ([["a", "b", "c", "d"]], TypeError, "numbers"),
    ],
)
def test_malformed_boxes_are_typed_errors(landmarker_factory, images, boxes, error, fragment):
    with pytest.raises(error) as caught:
        landmarker_factory("lite").detect(images["bus"], person_boxes=boxes)
    assert fragment in str(caught.value)


def test_batch_and_rotated_images_take_boxes_in_their_own_coordinates(landmarker_factory, images):
    landmarker = landmarker_factory("full", num_poses=5)
    turned = np.ascontiguousarray(np.rot90(images["bus"]))  # 1080x810, people lying down
    x1, y1, x2, y2 = BUS_PEOPLE.T
    turned_boxes = np.stack([y1, 810 - x2, y2, 810 - x1], axis=1)  # the same people, turned
    upright, sideways = landmarker.detect_batch(
        [images["bus"], turned], person_boxes=[BUS_PEOPLE, turned_boxes]
    )
    rotated = landmarker.detect(turned, 90, person_boxes=turned_boxes)
    assert len(rotated.pose_landmarks) == len(upright.pose_landmarks) >= 3
    assert len(sideways.pose_landmarks) >= 1
    inside = hips_inside(rotated.as_arrays()[0], turned_boxes, 1080, 810)
    assert -1 not in inside
    with pytest.raises(ValueError, match="one box array per image"):
        landmarker.detect_batch([images["bus"]], person_boxes=[BUS_PEOPLE, BUS_PEOPLE])


def test_boxes_seed_video_tracks_and_multistream_steps(model_dir, clips):
    frames = clips["squat.mp4"]
    box = np.array([[60, 120, 360, 700]], float)  # the squatting person
    options = PoseLandmarkerOptions(model="lite", running_mode=RunningMode.VIDEO, num_poses=2)
    with PoseLandmarker.create_from_options(options) as landmarker:
        seeded = landmarker.detect_for_video(frames[0], 0, person_boxes=box)
        tracked = [landmarker.detect_for_video(f, (i + 1) * 33) for i, f in enumerate(frames[1:6])]
    assert len(seeded.pose_landmarks) == 1
    assert all(r.pose_ids[:1] == seeded.pose_ids for r in tracked)  # the box's track goes on
    with MultiStreamPoseLandmarker(PoseLandmarkerOptions(model="lite")) as streams:
        streams.open_stream("a")
        streams.open_stream("b")
        step = streams.process({"a": (frames[0], 0), "b": (frames[0], 0)}, person_boxes={"a": box})
        assert len(step["a"].pose_landmarks) == len(step["b"].pose_landmarks) == 1
        with pytest.raises(ValueError, match="without a frame"):
            streams.process({"a": (frames[1], 33)}, person_boxes={"c": box})


def test_a_callable_person_detector_replaces_the_pose_detector(model_dir, images):
    def detector(rgb):
        return BUS_PEOPLE, np.array([0.9, 0.8, 0.7, 0.6])

    options = PoseLandmarkerOptions(model="full", num_poses=5, person_detector=detector)
    with PoseLandmarker.create_from_options(options) as landmarker:
        assert len(landmarker.detect(images["bus"]).pose_landmarks) >= 3
        assert landmarker.pipeline.detector is None  # the pose detector is not even loaded

    def broken(rgb):
        raise RuntimeError("camera unplugged")

    for bad, fragment in (
        (broken, "person_detector failed: RuntimeError: camera unplugged"),
        (lambda rgb: (BUS_PEOPLE, [0.9]), "4 boxes but 1 scores"),
        (lambda rgb: "boxes", "person_detector failed"),
    ):
        options = PoseLandmarkerOptions(model="lite", person_detector=bad)
        with (
            PoseLandmarker.create_from_options(options) as landmarker,
            pytest.raises(ValueError) as caught,
        ):
            landmarker.detect(images["bus"])
        assert fragment in str(caught.value)
    with pytest.raises(ValueError, match="callable or an ONNX file"):
        PoseLandmarkerOptions(person_detector="missing.onnx").validated()


def yolo_model(path, predictions: np.ndarray) -> None:
    """A YOLO-layout ONNX model whose output is `predictions` (1, 4 + classes, N), whatever
    the image (it still reads the input, as a real detector does)."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
            helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["table", "nothing"], ["output0"]),
        ],
        "yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(predictions.shape))],
        [
            numpy_helper.from_array(predictions.astype(np.float32), "table"),
            numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)


@pytest.mark.slow
def test_an_onnx_person_detector_in_yolo_layout(model_dir, images, tmp_path, cli, data_dir):
    scale = 640 / 1080
    pad_x = round((640 - round(810 * scale)) / 2 - 0.1)
    boxes = BUS_PEOPLE[[0, 2]] * scale + [pad_x, 0, pad_x, 0]  # in the 640x640 letterbox
    centres, sizes = (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]
    columns = [
        [*centres[0], *sizes[0], 0.9, 0.1],  # person 0
        [*(centres[0] + 2), *sizes[0], 0.8, 0.1],  # a near copy: NMS removes it
        [*centres[1], *sizes[1], 0.7, 0.1],  # person 2
        [*centres[1], *sizes[1], 0.1, 0.95],  # another class only: not a person
        [*centres[1], *sizes[1], 0.2, 0.1],  # below the 0.25 score threshold
    ]
    predictions = np.array(columns).T[None]  # (1, 6, 5): 4 box values + 2 classes
    decoded, scores = decode_yolo(predictions, scale, (pad_x, 0))
    np.testing.assert_allclose(decoded, BUS_PEOPLE[[0, 2]], atol=1.0)
    np.testing.assert_allclose(scores, [0.9, 0.7], atol=1e-6)
    path = tmp_path / "yolo.onnx"
    yolo_model(path, predictions)
    options = PoseLandmarkerOptions(model="full", num_poses=5, person_detector=str(path))
    with PoseLandmarker.create_from_options(options) as landmarker:
        result = landmarker.detect(images["bus"])
    assert sorted(hips_inside(result.as_arrays()[0], BUS_PEOPLE, 810, 1080)) == [0, 2]
    out = tmp_path / "cli.json"
    done = cli("detect", str(data_dir / "bus.jpg"), "--num-poses", "5", "--json", str(out),
               "--person-detector", str(path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (poses,) = [r["pose_landmarks"] for r in json.loads(out.read_text())["images"].values()]
    from_cli = np.array([[[p["x"], p["y"]] for p in pose] for pose in poses])
    np.testing.assert_allclose(from_cli, result.as_arrays()[0][..., :2], atol=1e-6)  # as in-process
    dataset = tmp_path / "dataset"
    command = ("extract", str(data_dir / "bus.jpg"), "--out", str(dataset), "--num-poses", "5")
    extracted = cli(*command, "--person-detector", str(path))
    assert extracted.returncode == 0, extracted.stderr
    table = pq.read_table(next((dataset / "poses").rglob("*.parquet")))
    rows = np.stack(table["landmarks"].to_numpy(zero_copy_only=False)).reshape(-1, 33, 5)
    np.testing.assert_allclose(rows[..., :2], result.as_arrays()[0][..., :2], atol=1e-6)
    refused = cli(*command)  # the same folder without the detector: other rows, refused
    assert refused.returncode != 0 and "options" in refused.stderr, refused.stderr


def test_duplicates_of_one_person_are_suppressed(landmarker_factory, images):
    """zidane.jpg at a low detection threshold: MediaPipe returns two poses of one man."""
    kept = landmarker_factory("full", num_poses=5, min_pose_detection_confidence=0.1)
    raw = landmarker_factory(
        "full", num_poses=5, min_pose_detection_confidence=0.1, suppress_duplicate_poses=False
    )
    doubled = raw.detect(images["zidane"]).as_arrays()[0]
    assert len(doubled) == 2 and oks_matrix(doubled, 1280, 720)[0, 1] >= DUPLICATE_OKS
    single = kept.detect(images["zidane"]).as_arrays()[0]
    assert len(single) == 1
    np.testing.assert_array_equal(single[0], doubled[0])  # the first (best) one stays


def test_live_stream_frames_take_boxes_too(model_dir, images):
    delivered = []
    options = PoseLandmarkerOptions(
        model="full",
        num_poses=5,
        running_mode=RunningMode.LIVE_STREAM,
        result_callback=lambda result, image, ts: delivered.append(result),
    )
    with PoseLandmarker.create_from_options(options) as landmarker:
        landmarker.detect_async(images["bus"], 0, person_boxes=BUS_PEOPLE)
    (result,) = delivered
    assert len(result.pose_landmarks) >= 3
    assert -1 not in hips_inside(result.as_arrays()[0], BUS_PEOPLE, 810, 1080)
