"""Landmark smoothing as MediaPipe's LandmarksSmoothing (one-euro) and VisibilitySmoothing.

Image landmarks are filtered in pixels with a value scale of 1 / object size; world landmarks
without value scaling; visibility with a low-pass filter. All values of one pose share one
filter state, vectorised.
"""

from __future__ import annotations

import numpy as np

DEFAULT_FREQUENCY = 30.0
VISIBILITY_ALPHA = 0.1
IMAGE_FILTER = (0.05, 80.0, 1.0)  # min cutoff, beta, derivative cutoff
WORLD_FILTER = (0.1, 40.0, 1.0)


class LowPassFilter:
    """Exponential smoothing; the first value passes through."""

    def __init__(self, alpha: float | None = None) -> None:
        self.alpha = alpha
        self.stored: np.ndarray | None = None
        self.raw: np.ndarray | None = None

    def apply(self, value: np.ndarray, alpha: float | np.ndarray | None = None) -> np.ndarray:
        factor = self.alpha if alpha is None else alpha
        if self.stored is None:
            self.stored = value
        elif factor is None:
            raise TypeError("LowPassFilter.apply needs an alpha: none was given at creation")
        else:
            self.stored = factor * value + (1 - factor) * self.stored
        self.raw = value
        return self.stored


UNINITIALIZED_TIME = -1  # MediaPipe's OneEuroFilter::Create: a first frame at time 0 counts


class OneEuroFilter:
    """One-euro filter over an array of values sharing one clock (timestamps in microseconds).

    `initial_time_us` is -1 as in MediaPipe's `OneEuroFilter::Create` (a stream starting at
    timestamp 0 is filtered from its first frame); 0 gives its legacy filter, which ignores a
    frame at time 0.
    """

    def __init__(
        self,
        min_cutoff: float,
        beta: float,
        derivative_cutoff: float,
        initial_time_us: int = UNINITIALIZED_TIME,
    ) -> None:
        self.min_cutoff, self.beta, self.derivative_cutoff = min_cutoff, beta, derivative_cutoff
        self.frequency = DEFAULT_FREQUENCY
        self.last_time_us = initial_time_us
        self.value = LowPassFilter()
        self.derivative = LowPassFilter()

    def _alpha(self, cutoff: float | np.ndarray) -> float | np.ndarray:
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau * self.frequency)

    def apply(self, value: np.ndarray, timestamp_us: int, value_scale: float = 1.0) -> np.ndarray:
        if self.last_time_us >= timestamp_us:
            return value  # MediaPipe ignores non-increasing timestamps
        if self.last_time_us != 0 and timestamp_us != 0:
            self.frequency = 1e6 / (timestamp_us - self.last_time_us)
        self.last_time_us = timestamp_us
        previous = self.value.raw
        change = (
            np.zeros_like(value)
            if previous is None
            else (value - previous) * value_scale * self.frequency
        )
        smoothed_change = self.derivative.apply(change, self._alpha(self.derivative_cutoff))
        cutoff = self.min_cutoff + self.beta * np.abs(smoothed_change)
        return self.value.apply(value, self._alpha(cutoff))


def object_scale(roi: np.ndarray, width: int, height: int) -> float:
    """MediaPipe's object scale of a ROI: the mean of its sides in pixels."""
    return float((roi[2] * width + roi[3] * height) / 2)


def aux_box_px(aux: np.ndarray, width: int, height: int) -> float:
    """The object scale without the ROI margin (MediaPipe's legacy graph): the side in pixels
    of the box a pose's (2, >=2) auxiliary points span (twice their distance)."""
    delta = (aux[1, :2] - aux[0, :2]) * (width, height)
    return float(2.0 * np.hypot(delta[0], delta[1]))


class PoseSmoother:
    """Smooths one tracked pose: image landmarks, world landmarks and visibility.

    `initial_time_us` as in OneEuroFilter: -1 for MediaPipe Tasks 1.x, 0 for its legacy graph.
    """

    def __init__(self, initial_time_us: int = UNINITIALIZED_TIME) -> None:
        self.image = OneEuroFilter(*IMAGE_FILTER, initial_time_us)
        self.world = OneEuroFilter(*WORLD_FILTER, initial_time_us)
        self.image_visibility = LowPassFilter(VISIBILITY_ALPHA)
        self.world_visibility = LowPassFilter(VISIBILITY_ALPHA)

    def apply(
        self,
        landmarks: np.ndarray,
        world: np.ndarray,
        scale_px: float,
        width: int,
        height: int,
        timestamp_us: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed (33, 5) image and world landmarks; `scale_px` (the object size in pixels)
        scales the image filter's speed."""
        scale = np.array([width, height, width], np.float64)
        out, out_world = landmarks.astype(np.float64), world.astype(np.float64)
        out[:, 3] = self.image_visibility.apply(out[:, 3])
        out_world[:, 3] = self.world_visibility.apply(out_world[:, 3])
        pixels = self.image.apply(out[:, :3] * scale, timestamp_us, 1.0 / scale_px)
        out[:, :3] = pixels / scale
        out_world[:, :3] = self.world.apply(out_world[:, :3], timestamp_us)
        return out.astype(np.float32), out_world.astype(np.float32)
