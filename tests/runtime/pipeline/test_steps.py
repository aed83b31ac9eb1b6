"""Each pure pipeline step on its own, against values worked out from the formulas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from blazepose_onnx.pipeline.anchors import ssd_anchors
from blazepose_onnx.pipeline.detector import (
    Detections,
    decode_detections,
    detection_rois,
    detector_input,
    letterbox_roi,
    remove_letterbox,
    weighted_nms,
)
from blazepose_onnx.pipeline.landmarker import (
    crop_inputs,
    decode_outputs,
    masks_to_image,
    project_landmarks,
    refine_with_heatmap,
    rotate_world,
)
from blazepose_onnx.pipeline.roi import (
    axis_aligned_iou,
    crop_matrices,
    normalize_radians,
    project_to_image,
)


def test_anchor_layout():
    anchors = ssd_anchors()
    assert anchors.shape == (2254, 2)
    np.testing.assert_allclose(anchors[0], anchors[1])  # two anchors per 28x28 location
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28])  # x runs fastest
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14])  # 28*28*2 = 1568
    np.testing.assert_allclose(anchors[1960:1966], np.tile([0.5 / 7, 0.5 / 7], (6, 1)))
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7])


def test_letterbox_of_a_wide_image():
    roi, pad = letterbox_roi(1500, 1000)
    assert pad.top == pytest.approx(1 / 6) and pad.bottom == pytest.approx(1 / 6)
    assert pad.left == 0 and pad.right == 0
    np.testing.assert_allclose(roi[0], [0.5, 0.5, 1.0, 1.5, 0.0])
    image = np.full((1000, 1500, 3), 255, np.uint8)
    tensor, _ = detector_input(image)
    assert tensor.shape == (1, 224, 224, 3) and tensor.dtype == np.uint8
    assert np.all(tensor[:, :30] == 0)  # zero border (1/6 of 224 = 37 rows)
    assert np.all(tensor[:, 45:180] == 255)
    assert np.all(tensor[:, 195:] == 0)


def _raw(anchor: int, values: list[float]) -> np.ndarray:
    boxes = np.zeros((2254, 12), np.float32)
    boxes[anchor] = values
    return boxes


def test_decode_formula_and_score_threshold():
    anchor = 100
    ax, ay = ssd_anchors()[anchor]
    values = [22.4, -11.2, 44.8, 67.2, 1, 2, 3, 4, 5, 6, 7, 8]
    scores = np.full((2254, 1), -1000.0, np.float32)
    scores[anchor] = 2.0
    det = decode_detections(_raw(anchor, values), scores, min_score=0.5)
    assert len(det) == 1
    cx, cy, w, h = ax + 0.1, ay - 0.05, 0.2, 0.3
    np.testing.assert_allclose(
        det.boxes[0], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], atol=1e-6
    )
    np.testing.assert_allclose(det.keypoints[0, 1], [ax + 3 / 224, ay + 4 / 224], atol=1e-6)
    assert det.scores[0] == pytest.approx(1 / (1 + np.exp(-2.0)))


def test_decode_clips_logits_and_drops_invalid_boxes():
    scores = np.full((2254, 1), 1e6, np.float32)  # clipped to 100 -> score 1.0
    boxes = np.zeros((2254, 12), np.float32)
    boxes[:, 2:4] = 10
    boxes[5, 2] = -1  # negative width
    boxes[6, 0] = np.nan
    det = decode_detections(boxes, scores, min_score=0.5)
    assert len(det) == 2252
    assert np.all(det.scores == 1.0)


def _dets(boxes, scores, keypoints=None) -> Detections:
    boxes = np.array(boxes, np.float64)
    if keypoints is None:
        keypoints = np.repeat(((boxes[:, :2] + boxes[:, 2:]) / 2)[:, None], 4, axis=1)
    return Detections(boxes, np.asarray(keypoints, np.float64), np.array(scores, np.float64))


def test_weighted_nms_merges_overlaps_and_keeps_best_score():
    det = _dets([[0, 0, 1, 1], [0.1, 0, 1.1, 1], [5, 5, 6, 6]], [0.6, 0.9, 0.8])
    out = weighted_nms(det)
    assert len(out) == 2
    np.testing.assert_allclose(out.scores, [0.9, 0.8])
    np.testing.assert_allclose(out.boxes[0], [0.9 * 0.1 / 1.5, 0, 1 + 0.9 * 0.1 / 1.5, 1])
    np.testing.assert_allclose(out.boxes[1], [5, 5, 6, 6])


def test_weighted_nms_needs_iou_strictly_above_threshold():
    # IoU of these two is exactly 0.5: they stay separate.
    det = _dets([[0, 0, 3, 1], [1, 0, 4, 1]], [0.9, 0.8])
    assert len(weighted_nms(det, 0.5)) == 2
    assert len(weighted_nms(det, 0.49)) == 1


def test_remove_letterbox():
    _, pad = letterbox_roi(1500, 1000)
    det = _dets([[0.25, 1 / 6, 0.75, 0.5]], [1.0])
    out = remove_letterbox(det, pad)
    np.testing.assert_allclose(out.boxes[0], [0.25, 0.0, 0.75, 0.5], atol=1e-12)


def test_detection_to_roi_centre_size_rotation():
    keypoints = np.zeros((2, 4, 2))
    keypoints[0, 0], keypoints[0, 1] = (0.5, 0.5), (0.5, 0.3)  # upright: kp1 above kp0
    keypoints[1, 0], keypoints[1, 1] = (0.5, 0.5), (0.7, 0.5)  # kp1 to the right
    rois = detection_rois(_dets([[0, 0, 1, 1]] * 2, [1, 1], keypoints), 100, 200)
    # distance: 0.2*200 = 40 px (first), 0.2*100 = 20 px (second); side = 2 * d * 1.25
    np.testing.assert_allclose(rois[0], [0.5, 0.5, 100 / 100, 100 / 200, 0.0], atol=1e-12)
    np.testing.assert_allclose(rois[1], [0.5, 0.5, 50 / 100, 50 / 200, np.pi / 2], atol=1e-12)


def test_normalize_radians():
    np.testing.assert_allclose(
        normalize_radians(np.array([3 * np.pi, -np.pi, np.pi / 2])), [-np.pi, -np.pi, np.pi / 2]
    )


def test_crop_matrix_maps_roi_corners_like_opencv_rotated_rect():
    roi = np.array([[0.4, 0.6, 0.5, 0.25, np.radians(30)]])
    width, height = 400, 800
    matrix = crop_matrices(roi, width, height, 256)[0]
    corners = cv2.boxPoints(((160, 480), (200, 200), 30))
    mapped = np.c_[corners, np.ones(4)] @ matrix.T
    np.testing.assert_allclose(mapped, [[0, 256], [0, 0], [256, 0], [256, 256]], atol=1e-4)


def test_projection_inverts_the_crop():
    roi = np.array([[0.4, 0.6, 0.5, 0.25, np.radians(-40)]])
    crop_points = np.array([[[0.2, 0.3, 0.0], [0.9, 0.5, 0.0]]])
    image_points = project_to_image(crop_points, roi)
    matrix = crop_matrices(roi, 400, 800, 256)[0]
    pixels = image_points[0, :, :2] * [400, 800]
    back = (np.c_[pixels, np.ones(2)] @ matrix.T) / 256
    np.testing.assert_allclose(back, crop_points[0, :, :2], atol=1e-9)


def test_axis_aligned_iou_ignores_rotation():
    a = np.array([[0.5, 0.5, 0.2, 0.2, 0.0]])
    b = np.array([[0.5, 0.5, 0.2, 0.2, 1.0], [0.6, 0.5, 0.2, 0.2, 0.0], [0.9, 0.9, 0.1, 0.1, 0.0]])
    np.testing.assert_allclose(axis_aligned_iou(a, b), [[1.0, 1 / 3, 0.0]])


def test_crop_uses_replicated_border():
    image = np.zeros((50, 50, 3), np.uint8)
    image[:, :25] = 255
    roi = np.array([[0.5, 0.5, 4.0, 4.0, 0.0]])  # four times the image: mostly border
    crop = crop_inputs(image, roi)
    assert crop.shape == (1, 256, 256, 3) and crop.dtype == np.uint8
    assert crop[0, 5, 5].tolist() == [255, 255, 255]  # left border replicates white
    assert crop[0, 250, 250].tolist() == [0, 0, 0]


def test_decode_outputs_scales_and_sigmoids():
    landmarks = np.zeros((1, 195), np.float32)
    landmarks[0, :5] = [128, 64, 25.6, 0.0, 100.0]
    raw = decode_outputs(landmarks, np.array([[0.7]]), np.zeros((1, 117)), None)
    np.testing.assert_allclose(raw.points[0, 0], [0.5, 0.25, 0.1, 0.5, 1.0])
    assert raw.pose_flag.tolist() == pytest.approx([0.7])


def test_heatmap_refinement_weighted_mean_threshold_and_bounds():
    heatmap = np.full((1, 39, 64, 64), -10.0, np.float32)
    heatmap[0, 0, 20, 10] = 10.0  # confident peak for point 0
    heatmap[0, 0, 20, 11] = 0.0  # sigmoid 0.5 beside it
    points = np.zeros((1, 39, 5), np.float32)
    points[0, :, :2] = 0.3
    points[0, 0, :2] = [10.5 / 64, 21.2 / 64]  # cell (row 21, col 10): peak inside 7x7
    points[0, 1, :2] = [-0.01, 0.5]  # int() truncates toward zero: col 0, refined
    points[0, 2, :2] = [0.5, 70 / 64]  # row 70: window rows 67..73 all outside
    heatmap[0, 1, 32, 0] = 10.0
    out = refine_with_heatmap(points, heatmap)
    conf = 1 / (1 + np.exp(-heatmap[0, 0, 18:25, 7:14].astype(np.float64)))
    rows, cols = np.mgrid[18:25, 7:14]
    assert out[0, 0, 0] == pytest.approx((conf * cols).sum() / conf.sum() / 64, rel=1e-5)
    assert out[0, 0, 1] == pytest.approx((conf * rows).sum() / conf.sum() / 64, rel=1e-5)
    assert out[0, 1, 0] == pytest.approx(0.0, abs=1e-3)  # refined toward the col-0 peak
    assert out[0, 2, :2].tolist() == pytest.approx(points[0, 2, :2].tolist())
    assert out[0, 5, :2].tolist() == pytest.approx([0.3, 0.3])  # no confident cell: unchanged


def test_projection_of_landmarks_scales_z_by_roi_width():
    roi = np.array([[0.5, 0.5, 0.4, 0.2, np.pi / 2]])
    points = np.array([[[0.75, 0.5, 0.1, 0.9, 0.8]]])
    out = project_landmarks(points, roi)
    # dx = 0.25 rotated by 90 degrees -> dy = 0.25, scaled by the height 0.2
    np.testing.assert_allclose(out[0, 0], [0.5, 0.55, 0.04, 0.9, 0.8], atol=1e-12)


def test_world_rotation():
    world = np.array([[[1.0, 0.0, 0.3]]])
    out = rotate_world(world, np.array([[0, 0, 1, 1, np.pi / 2]]))
    np.testing.assert_allclose(out[0, 0], [0.0, 1.0, 0.3], atol=1e-12)


def test_mask_is_warped_back_into_the_roi():
    logits = np.full((1, 256, 256), 50.0, np.float32)
    roi = np.array([[0.5, 0.5, 0.5, 0.5, 0.0]])
    (mask,) = masks_to_image(logits, roi, 200, 100)
    assert mask.shape == (100, 200) and mask.dtype == np.float32
    assert mask[50, 100] == pytest.approx(1.0)
    assert mask[5, 5] == 0.0 and mask[95, 195] == 0.0
    assert 0.2 < (mask > 0.5).mean() < 0.3  # a quarter of the image
