"""The legacy graph's composition of the pipeline stages for one video stream (read from
MediaPipe's mediapipe/modules/pose_landmark/*.pbtxt and the calculators they use):

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

from blazepose_onnx.pipeline import FramePoses, PosePipeline
from blazepose_onnx.roi import rois_from_keypoints
from blazepose_onnx.smoothing import OneEuroFilter, PoseSmoother

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


def alignment_box_px(aux: np.ndarray, width: int, height: int) -> float:
    """Side in pixels of the box the auxiliary points span (twice their distance)."""
    delta = (aux[1, :2] - aux[0, :2]) * (width, height)
    return float(2.0 * np.hypot(delta[0], delta[1]))


class LegacyPoseTracker:
    """State of one legacy `Pose` stream: the ROI, the filters, the last mask."""

    def __init__(
        self,
        pipeline: PosePipeline,
        static_image_mode: bool,
        smooth_landmarks: bool,
        smooth_segmentation: bool,
    ) -> None:
        self.pipeline = pipeline
        self.static = static_image_mode
        self.smooth_landmarks = smooth_landmarks and not static_image_mode
        self.smooth_segmentation = smooth_segmentation and not static_image_mode
        self.reset()

    def reset(self) -> None:
        """Forget the stream (as MediaPipe's `Pose.reset()`)."""
        self.timestamp_us = 0
        self._lose()

    def _lose(self) -> None:
        self.roi: np.ndarray | None = None
        self.frame_size: tuple[int, int] | None = None
        self.smoother = PoseSmoother()
        self.aux_filter = OneEuroFilter(*AUX_FILTER)
        self.mask: np.ndarray | None = None

    def process(self, image: np.ndarray) -> FramePoses:
        """The pose in the next frame (RGB uint8), with the legacy tracking and smoothing."""
        timestamp_us, self.timestamp_us = self.timestamp_us, self.timestamp_us + FRAME_STEP_US
        height, width = image.shape[:2]
        if self.frame_size not in (None, (width, height)):
            self._lose()
        tracked = self.roi is not None and not self.static
        rois = self.roi[None] if tracked else self.pipeline.detect_rois(image)[:1]
        poses = self.pipeline.landmarks(image, rois)
        if len(poses.landmarks) == 0:
            self._lose()
            return poses
        self.frame_size = (width, height)
        box_px = alignment_box_px(poses.aux[0], width, height)
        pixels = poses.aux[0, :, :2] * (width, height)
        aux = self.aux_filter.apply(pixels.astype(np.float64), timestamp_us, 1.0 / box_px)
        aux = aux / (width, height)
        self.roi = rois_from_keypoints(aux[None, 0], aux[None, 1], width, height)[0]
        landmarks, world = poses.landmarks, poses.world
        if self.smooth_landmarks:
            smoothed = self.smoother.apply(
                landmarks[0], world[0], box_px, width, height, timestamp_us
            )
            landmarks, world = smoothed[0][None], smoothed[1][None]
        masks = poses.masks
        if masks is not None:
            mask = masks[0]
            if self.smooth_segmentation and self.mask is not None and self.mask.shape == mask.shape:
                mask = smoothed_mask(mask, self.mask)
            self.mask, masks = mask, [mask]
        return FramePoses(landmarks, world, poses.aux, poses.rois, poses.indices, masks)
