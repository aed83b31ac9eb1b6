"""PoseLandmarker: MediaPipe's Pose Landmarker task on ONNX Runtime (same API)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from runtime.errors import LandmarkerClosedError
from runtime.image import check_rotation, rotate_clockwise, to_rgb_uint8, unrotate_points
from runtime.options import PoseLandmarkerOptions, RunningMode
from runtime.pipeline import FramePoses, PosePipeline
from runtime.results import PoseLandmarkerResult


class PoseLandmarker:
    """Finds up to `num_poses` people and their 33 landmarks, world landmarks and masks.

    Create with `create_from_options` or `create_from_model_path`; use as a context manager
    or call `close()`. Images are numpy HxWx3 uint8 RGB by default (see `to_rgb_uint8` for
    BGR, RGBA, gray and float input via `color=`).
    """

    def __init__(self, options: PoseLandmarkerOptions) -> None:
        self._options = options.validated()
        self._pipeline = PosePipeline(self._options)
        self._closed = False

    @classmethod
    def create_from_options(cls, options: PoseLandmarkerOptions) -> PoseLandmarker:
        """A landmarker for these options."""
        if not isinstance(options, PoseLandmarkerOptions):
            raise TypeError(f"options must be PoseLandmarkerOptions, got {type(options).__name__}")
        return cls(options)

    @classmethod
    def create_from_model_path(cls, model_path: str | os.PathLike) -> PoseLandmarker:
        """An IMAGE-mode landmarker with default options for a variant name or model path."""
        return cls(PoseLandmarkerOptions(model=model_path))

    @property
    def options(self) -> PoseLandmarkerOptions:
        return self._options

    def detect(
        self, image: Any, rotation_degrees: int = 0, *, color: str = "rgb"
    ) -> PoseLandmarkerResult:
        """Poses in a single image (IMAGE mode). Coordinates refer to the image as passed in.

        `rotation_degrees` (a multiple of 90) is the clockwise rotation that makes the person
        upright; the models see the rotated image, results are mapped back.
        """
        self._check_call("detect", RunningMode.IMAGE)
        rgb = to_rgb_uint8(image, color)
        degrees = check_rotation(rotation_degrees)
        upright = rotate_clockwise(rgb, degrees)
        poses = self._pipeline.landmarks(upright, self._pipeline.detect_rois(upright))
        return _result(poses, degrees, rgb.shape[1], upright.shape[1])

    def close(self) -> None:
        """Release the sessions. Further calls raise LandmarkerClosedError."""
        self._closed = True
        self._pipeline = None

    def __enter__(self) -> PoseLandmarker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_call(self, method: str, mode: RunningMode) -> None:
        if self._closed:
            raise LandmarkerClosedError(f"{method}() called after close()")
        if self._options.running_mode is not mode:
            raise ValueError(
                f"{method}() is for {mode.value} mode; this landmarker was created in "
                f"{self._options.running_mode.value} mode"
            )


def _result(
    poses: FramePoses, degrees: int, width: int, upright_width: int
) -> PoseLandmarkerResult:
    """The public result, with image coordinates and masks mapped back through the rotation."""
    landmarks = unrotate_points(poses.landmarks, degrees, upright_width / width)
    masks = poses.masks
    if masks is not None and degrees:
        masks = [np.ascontiguousarray(np.rot90(mask, k=degrees // 90)) for mask in masks]
    return PoseLandmarkerResult(landmarks, poses.world, masks)
