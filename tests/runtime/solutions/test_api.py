"""The legacy `mp.solutions.pose` API as user code uses it: MediaPipe's own pose example runs
with one changed import, and bad input gets typed errors."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

import blazepose_onnx as mp
from blazepose_onnx import LandmarkerClosedError, samples
from blazepose_onnx.solutions import drawing_styles, drawing_utils
from blazepose_onnx.solutions import pose as mp_pose

# MediaPipe's legacy pose example (its page solutions/pose.md), with `import mediapipe as mp`
# replaced and its inputs pointed at files: the static-image part, then the video part on a
# clip instead of a webcam (no window).
EXAMPLE = """
import cv2
import blazepose_onnx as mp
import numpy as np
mp_drawing = mp.solutions.drawing_utils
mp_drawing_styles = mp.solutions.drawing_styles
mp_pose = mp.solutions.pose

IMAGE_FILES = [{image!r}]
BG_COLOR = (192, 192, 192) # gray
with mp_pose.Pose(
    static_image_mode=True,
    model_complexity=2,
    enable_segmentation=True,
    min_detection_confidence=0.5) as pose:
  for idx, file in enumerate(IMAGE_FILES):
    image = cv2.imread(file)
    image_height, image_width, _ = image.shape
    results = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))

    if not results.pose_landmarks:
      continue
    print(
        f'Nose coordinates: ('
        f'{{results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE].x * image_width}}, '
        f'{{results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE].y * image_height}})'
    )

    annotated_image = image.copy()
    condition = np.stack((results.segmentation_mask,) * 3, axis=-1) > 0.1
    bg_image = np.zeros(image.shape, dtype=np.uint8)
    bg_image[:] = BG_COLOR
    annotated_image = np.where(condition, annotated_image, bg_image)
    mp_drawing.draw_landmarks(
        annotated_image,
        results.pose_landmarks,
        mp_pose.POSE_CONNECTIONS,
        landmark_drawing_spec=mp_drawing_styles.get_default_pose_landmarks_style())
    cv2.imwrite('annotated_image' + str(idx) + '.png', annotated_image)
    mp_drawing.plot_landmarks(
        results.pose_world_landmarks, mp_pose.POSE_CONNECTIONS)

cap = cv2.VideoCapture({video!r})
frames = 0
with mp_pose.Pose(
    min_detection_confidence=0.5,
    min_tracking_confidence=0.5) as pose:
  while cap.isOpened():
    success, image = cap.read()
    if not success:
      break
    image.flags.writeable = False
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    results = pose.process(image)
    image.flags.writeable = True
    image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    mp_drawing.draw_landmarks(
        image,
        results.pose_landmarks,
        mp_pose.POSE_CONNECTIONS,
        landmark_drawing_spec=mp_drawing_styles.get_default_pose_landmarks_style())
    frames += results.pose_landmarks is not None
cap.release()
print('frames with a pose:', frames)
"""


@pytest.mark.slow
def test_mediapipe_legacy_example_runs_with_one_changed_import(cli_env, tmp_path):
    code = EXAMPLE.format(image=str(samples.IMAGE), video=str(samples.VIDEO))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**cli_env, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Nose coordinates: (") and lines[-1] == "frames with a pose: 60"
    annotated = cv2.imread(str(tmp_path / "annotated_image0.png"))
    assert annotated.shape == (1000, 1500, 3)
    assert (annotated == (192, 192, 192)).all(axis=2).mean() > 0.5  # background replaced


def test_results_fields_indexing_and_arrays(images, model_dir):
    with mp_pose.Pose(static_image_mode=True) as pose:
        results = pose.process(images["messi5"])
        empty = pose.process(np.full((240, 320, 3), 127, np.uint8))
    nose = results.pose_landmarks.landmark[mp_pose.PoseLandmark.NOSE]
    assert 0 < nose.x < 1 and 0 < nose.visibility <= 1 and not hasattr(nose, "presence")
    assert nose.HasField("visibility") and not nose.HasField("presence")
    assert results.pose_landmarks.to_array().shape == (33, 4)
    assert len(results.pose_world_landmarks.landmark) == 33 and results.segmentation_mask is None
    assert set(results.to_dict()) == {
        "pose_landmarks",
        "pose_world_landmarks",
        "segmentation_mask_shape",
    }
    assert empty.pose_landmarks is None and empty.pose_world_landmarks is None
    assert mp.solutions.pose.POSE_CONNECTIONS == mp_pose.POSE_CONNECTIONS
    assert len(mp_pose.POSE_CONNECTIONS) == 35 and (11, 12) in mp_pose.POSE_CONNECTIONS


def test_positional_parameters_and_our_keyword_only_extras(model_dir, clips):
    pose = mp_pose.Pose(False, 0, True, False, True, 0.5, 0.5, providers=["cpu"], num_threads=1)
    frames = clips["squat.mp4"][:3]
    first = [pose.process(f).pose_landmarks.to_array() for f in frames]
    pose.reset()  # a new stream: the same results again
    again = [pose.process(f).pose_landmarks.to_array() for f in frames]
    pose.close()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError):
        mp_pose.Pose(False, 1, True, False, True, 0.5, 0.5, ["cpu"])  # extras are keyword-only


@pytest.mark.parametrize(
    ("image", "error", "fragment"),
    [
        (np.zeros((64, 64), np.uint8), ValueError, "three channel rgb"),
        (np.zeros((64, 64, 4), np.uint8), ValueError, "three channel rgb"),
        (np.zeros((64, 64, 3), np.float32), TypeError, "uint8"),
        ("frame.jpg", TypeError, "numpy array"),
        (np.zeros((4, 4, 3), np.uint8), ValueError, "too small"),
    ],
)
def test_bad_input_gets_typed_errors(model_dir, image, error, fragment):
    with mp_pose.Pose() as pose, pytest.raises(error, match=fragment):
        pose.process(image)


def test_bad_options_and_a_closed_pose(model_dir, images):
    with pytest.raises(ValueError, match="model_complexity"):
        mp_pose.Pose(model_complexity=3)
    with pytest.raises(ValueError, match="min_pose_detection_confidence"):
        mp_pose.Pose(min_detection_confidence=1.5)
    with pytest.raises(TypeError, match="static_image_mode"):
        mp_pose.Pose(static_image_mode="yes")
    pose = mp_pose.Pose()
    pose.close()
    with pytest.raises(LandmarkerClosedError):
        pose.process(images["messi5"])


def test_drawing_utils_and_styles(images, model_dir, tmp_path):
    with mp_pose.Pose(static_image_mode=True) as pose:
        results = pose.process(images["messi5"])
    bgr = cv2.cvtColor(images["messi5"], cv2.COLOR_RGB2BGR)
    canvas = bgr.copy()
    style = drawing_styles.get_default_pose_landmarks_style()
    assert style[mp_pose.PoseLandmark.LEFT_WRIST].color == (0, 138, 255)
    assert style[mp_pose.PoseLandmark.RIGHT_WRIST].color == (231, 217, 0)
    drawing_utils.draw_landmarks(
        canvas, results.pose_landmarks, mp_pose.POSE_CONNECTIONS, landmark_drawing_spec=style
    )
    changed = (canvas != bgr).any(axis=2)
    nose = results.pose_landmarks.landmark[0]
    x, y = int(nose.x * 1500), int(nose.y * 1000)
    assert changed[y - 3 : y + 4, x - 3 : x + 4].any() and changed.mean() < 0.05
    untouched = bgr.copy()
    drawing_utils.draw_landmarks(untouched, None)  # no pose: nothing drawn, no error
    assert (untouched == bgr).all()
    with pytest.raises(ValueError, match="out of range"):
        drawing_utils.draw_landmarks(canvas, results.pose_landmarks, [(0, 40)])
    os.environ.setdefault("MPLBACKEND", "Agg")
    figure = drawing_utils.plot_landmarks(results.pose_world_landmarks, mp_pose.POSE_CONNECTIONS)
    assert len(figure.axes[0].lines) >= 20
