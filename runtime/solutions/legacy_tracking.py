"""The legacy graph's rules for the one stream step (`stream.PoseStream`), read from
MediaPipe's mediapipe/modules/pose_landmark/*.pbtxt and the calculators they use:

- one pose; the detector (weighted NMS at IoU 0.3) runs only when the last frame left no ROI,
  and its best detection becomes the ROI;
- the pose is kept while the landmarker's presence score exceeds `min_tracking_confidence`;
- the auxiliary landmarks are always one-euro smoothed (0.01, 10, 1), and the next frame's ROI
  comes from the smoothed ones (Tasks: from the raw ones);
- landmarks, world landmarks and visibility are smoothed with the Tasks parameters, but with the
  object scale of the raw auxiliary points' box, without the 1.25 ROI margin;
- frames are stamped at a fixed 30 fps (33,333 us apart), whatever the video's rate;
- the segmentation mask is blended with the previous one by its uncertainty (ratio 0.7).
"""

from __future__ import annotations

import numpy as np

from blazepose_onnx.stream.pose_stream import StreamPolicy

LEGACY_NMS_IOU_THRESHOLD = 0.3
FRAME_STEP_US = 33_333
AUX_FILTER = (0.01, 10.0, 1.0)  # min cutoff, beta, derivative cutoff
SEGMENTATION_MIX = 0.7
# MediaPipe's polynomial for the squared uncertainty of a mask value p, in x = (p - 0.5)^2.
UNCERTAINTY_POLYNOMIAL = (-624.717, 291.309, -57.8051, -0.748699, 5.68842)


def smoothed_mask(current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """MediaPipe's SegmentationSmoothingCalculator: mix in the previous mask where the current
    one is uncertain (values near 0.5)."""
    x = (current - np.float32(0.5)) ** 2
    certainty = np.polyval(np.array(UNCERTAINTY_POLYNOMIAL, np.float32), x) * x
    uncertainty = np.float32(1.0) - np.minimum(np.float32(1.0), certainty)
    return current + (previous - current) * (uncertainty * np.float32(SEGMENTATION_MIX))


def legacy_policy(
    static_image_mode: bool, smooth_landmarks: bool, smooth_segmentation: bool
) -> StreamPolicy:
    """The legacy graph's stream rules (with one-pose options: `num_poses=1`)."""
    streaming = not static_image_mode
    return StreamPolicy(
        smooth_landmarks=smooth_landmarks and streaming,
        track=streaming,
        rescale_on_resize=False,
        roi_filter=AUX_FILTER,
        scale_with_margin=False,
        frame_step_us=FRAME_STEP_US,
        smooth_mask=smoothed_mask if smooth_segmentation and streaming else None,
    )
