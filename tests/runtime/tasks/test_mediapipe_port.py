"""Porting MediaPipe's own pose landmarker example is replacing `mediapipe` by
`blazepose_onnx` in its imports (the example's code, as in MediaPipe's guide, below)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

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


# MediaPipe's official pose landmarker notebook, google-ai-edge/mediapipe-samples,
# examples/pose_landmarker/python/[MediaPipe_Python_Tasks]_Pose_Landmarker.ipynb, Copyright 2023
# The MediaPipe Authors, Apache License 2.0: its code cells as a user pastes them, with
# `mediapipe` renamed to `blazepose_onnx` in the imports and nothing else changed. Left out: the
# `!pip install` cell and the `!wget` lines (the test puts pose_landmarker.task and image.jpg
# where they download them). `cv2_imshow` is Colab's (google.colab.patches); the test provides
# one that saves what it is shown.
# Cells the two versions share: the photo shown, then detection and drawing.
SHOW_PHOTO = """\

import cv2
from google.colab.patches import cv2_imshow

img = cv2.imread("image.jpg")
cv2_imshow(img)
"""
DETECT_AND_DRAW = """\
# STEP 1: Import the necessary modules.
import blazepose_onnx as mp
from blazepose_onnx.tasks import python
from blazepose_onnx.tasks.python import vision

# STEP 2: Create an PoseLandmarker object.
base_options = python.BaseOptions(model_asset_path='pose_landmarker.task')
options = vision.PoseLandmarkerOptions(
    base_options=base_options,
    output_segmentation_masks=True)
detector = vision.PoseLandmarker.create_from_options(options)

# STEP 3: Load the input image.
image = mp.Image.create_from_file("image.jpg")

# STEP 4: Detect pose landmarks from the input image.
detection_result = detector.detect(image)

# STEP 5: Process the detection result. In this case, visualize it.
annotated_image = draw_landmarks_on_image(image.numpy_view(), detection_result)
cv2_imshow(cv2.cvtColor(annotated_image, cv2.COLOR_RGB2BGR))
"""
NOTEBOOK_CELLS = {
    # commit 54e3a8e1592bf83d0dc09662c5b68b33df8820d3 (2023-05-10): the drawing helper with
    # landmark_pb2 and mp.solutions, copied into countless user scripts
    "landmark_pb2": [
        """\
#@markdown To better demonstrate the Pose Landmarker API, we have created a set of visualization tools that will be used in this colab. These will draw the landmarks on a detect person, as well as the expected connections between those markers.

from blazepose_onnx import solutions
from blazepose_onnx.framework.formats import landmark_pb2
import numpy as np


def draw_landmarks_on_image(rgb_image, detection_result):
  pose_landmarks_list = detection_result.pose_landmarks
  annotated_image = np.copy(rgb_image)

  # Loop through the detected poses to visualize.
  for idx in range(len(pose_landmarks_list)):
    pose_landmarks = pose_landmarks_list[idx]

    # Draw the pose landmarks.
    pose_landmarks_proto = landmark_pb2.NormalizedLandmarkList()
    pose_landmarks_proto.landmark.extend([
      landmark_pb2.NormalizedLandmark(x=landmark.x, y=landmark.y, z=landmark.z) for landmark in pose_landmarks
    ])
    solutions.drawing_utils.draw_landmarks(
      annotated_image,
      pose_landmarks_proto,
      solutions.pose.POSE_CONNECTIONS,
      solutions.drawing_styles.get_default_pose_landmarks_style())
  return annotated_image
""",  # noqa: E501 (the notebook's own lines)
        SHOW_PHOTO,
        DETECT_AND_DRAW,
        """\
segmentation_mask = detection_result.segmentation_masks[0].numpy_view()
visualized_mask = np.repeat(segmentation_mask[:, :, np.newaxis], 3, axis=2) * 255
cv2_imshow(visualized_mask)
""",
    ],
    # commit 837d950d357fd78255547cbccd9f5198765c9832 (2026-01-30, "updated the visualization to
    # use tasks API"): Tasks' drawing_utils, given a Tasks pose's landmark list directly
    "tasks": [
        """\
import numpy as np
from blazepose_onnx.tasks.python.vision import drawing_utils
from blazepose_onnx.tasks.python.vision import drawing_styles
from blazepose_onnx.tasks.python import vision


def draw_landmarks_on_image(rgb_image, detection_result):
  pose_landmarks_list = detection_result.pose_landmarks
  annotated_image = np.copy(rgb_image)

  pose_landmark_style = drawing_styles.get_default_pose_landmarks_style()
  pose_connection_style = drawing_utils.DrawingSpec(color=(0, 255, 0), thickness=2)

  for pose_landmarks in pose_landmarks_list:
    drawing_utils.draw_landmarks(
        image=annotated_image,
        landmark_list=pose_landmarks,
        connections=vision.PoseLandmarksConnections.POSE_LANDMARKS,
        landmark_drawing_spec=pose_landmark_style,
        connection_drawing_spec=pose_connection_style)

  return annotated_image
""",
        SHOW_PHOTO,
        DETECT_AND_DRAW,
        """\
segmentation_mask = detection_result.segmentation_masks[0].numpy_view()
segmentation_mask = np.squeeze(segmentation_mask)

# Convert to 3\u2011channel uint8 image for visualization.
visualized_mask = (segmentation_mask * 255).astype(np.uint8)
visualized_mask = np.stack([visualized_mask]*3, axis=-1)
""",
    ],
}
# What the test reads back after the cells ran (not part of the notebook).
AFTER_THE_CELLS = """
import json
json.dump({"landmarks": [[p.x, p.y, p.visibility] for p in detection_result.pose_landmarks[0]],
           "mask": [list(visualized_mask.shape), float(visualized_mask.max())]},
          open("read_back.json", "w"))
"""
COLAB_PATCHES = '''
import itertools, cv2
_shown = itertools.count()
def cv2_imshow(a):
    """Colab's cv2_imshow shows a BGR image; this one saves it as shown<k>.png."""
    cv2.imwrite(f"shown{next(_shown)}.png", a)
'''


@pytest.mark.slow
@pytest.mark.parametrize("version", sorted(NOTEBOOK_CELLS))
def test_mediapipe_notebook_cells_run_with_only_the_imports_renamed(
    version, model_dir, data_dir, cli_env, tmp_path
):
    import json
    import subprocess
    import sys

    import cv2

    colab = tmp_path / "colab" / "google" / "colab"
    colab.mkdir(parents=True)
    # no google/__init__.py: `google` stays a namespace package (protobuf is google.protobuf)
    (colab / "__init__.py").write_text("")
    (colab / "patches.py").write_text(COLAB_PATCHES)
    work = tmp_path / "notebook"
    work.mkdir()
    shutil.copy(model_dir / "pose_landmarker_heavy.task", work / "pose_landmarker.task")
    shutil.copy(data_dir / "messi5.jpg", work / "image.jpg")  # a real photo, one person
    script = "\n".join(NOTEBOOK_CELLS[version]) + AFTER_THE_CELLS
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=work, env={**cli_env, "PYTHONPATH": str(tmp_path / "colab")},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    read_back = json.loads((work / "read_back.json").read_text())
    shown = sorted(p.name for p in work.glob("shown*.png"))
    assert shown == ["shown0.png", "shown1.png", "shown2.png"][: 3 if version != "tasks" else 2]
    original, annotated = (cv2.imread(str(work / name)) for name in ("shown0.png", "shown1.png"))
    assert original.shape == annotated.shape == (1000, 1500, 3)
    height, width = original.shape[:2]
    drawn = (original != annotated).any(axis=2)
    points = {
        k: (int(x * width), int(y * height)) for k, (x, y, _) in enumerate(read_back["landmarks"])
    }
    # each landmark's ring in its style colour (BGR on an RGB image, as in MediaPipe's notebook)
    left, right = (0, 138, 255), (231, 217, 0)
    for k, colour in (
        (vision.PoseLandmark.LEFT_KNEE, left),
        (vision.PoseLandmark.RIGHT_HIP, right),
    ):
        x, y = points[k]
        window = annotated[y - 4 : y + 5, x - 4 : x + 5].reshape(-1, 3).tolist()
        assert list(colour[::-1]) in window, (k, window)  # shown as BGR: the tuple reversed
    # the skeleton between the shoulders: white (legacy) or the notebook's green
    line = (224, 224, 224) if version == "landmark_pb2" else (0, 255, 0)
    (x0, y0), (x1, y1) = points[11], points[12]
    middle = annotated[
        (y0 + y1) // 2 - 3 : (y0 + y1) // 2 + 4, (x0 + x1) // 2 - 3 : (x0 + x1) // 2 + 4
    ]
    assert list(line[::-1]) in middle.reshape(-1, 3).tolist()
    assert drawn.sum() > 2000  # 33 rings and 35 lines
    mask_shape, mask_max = read_back["mask"]
    assert mask_shape == [1000, 1500, 3] and mask_max > 200
