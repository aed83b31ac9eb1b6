"""Porting MediaPipe's own pose landmarker example is replacing `mediapipe` by
`blazepose_onnx` in its imports (the example's code, as in MediaPipe's guide, below)."""

from __future__ import annotations

import numpy as np

import blazepose_onnx as mp
from blazepose_onnx import samples
from blazepose_onnx.tasks import python
from blazepose_onnx.tasks.python import vision


def test_mediapipe_example_runs_with_only_its_imports_changed(model_dir):
    model_path = str(model_dir / "pose_landmarker_full.task")

    # MediaPipe's example from here on, unchanged:
    base_options = python.BaseOptions(model_asset_path=model_path)
    options = vision.PoseLandmarkerOptions(
        base_options=base_options, output_segmentation_masks=True
    )
    detector = vision.PoseLandmarker.create_from_options(options)
    image = mp.Image.create_from_file(str(samples.IMAGE))
    detection_result = detector.detect(image)
    segmentation_mask = detection_result.segmentation_masks[0].numpy_view()
    visualized_mask = np.repeat(segmentation_mask[:, :, np.newaxis], 3, axis=2) * 255

    assert (image.width, image.height) == (1500, 1000)
    assert len(detection_result.pose_landmarks) == 1
    nose = detection_result.pose_landmarks[0][vision.PoseLandmark.NOSE]
    assert 0 < nose.x < 1 and 0 < nose.y < 1
    assert visualized_mask.shape == (1000, 1500, 3) and visualized_mask.max() > 200
    detector.close()


def test_image_formats(data_dir):
    rgb = mp.Image.create_from_file(str(data_dir / "bus.jpg"))
    assert rgb.image_format is mp.ImageFormat.SRGB and rgb.channels == 3
    view = rgb.numpy_view()
    assert view.shape == (1080, 810, 3) and not view.flags.writeable
    wrapped = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(view))
    assert (wrapped.width, wrapped.height) == (810, 1080)
