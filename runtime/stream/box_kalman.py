"""A constant-velocity Kalman filter on a person's box, one frame per step (SORT and
ByteTrack's motion model): state centre x, y, width, height and their velocities, in pixels;
noise proportional to the box's height, so near and far people move alike."""

from __future__ import annotations

import numpy as np

POSITION_NOISE = 1 / 20  # of the box height, per frame: how much a box may move unexplained
VELOCITY_NOISE = 1 / 160
MEASUREMENT_NOISE = 1 / 20

_TRANSITION = np.eye(8) + np.eye(8, k=4)  # position += velocity
_OBSERVATION = np.eye(4, 8)


def box_state(box: np.ndarray) -> np.ndarray:
    """Centre x, y, width, height of a pixel box x1, y1, x2, y2."""
    return np.array(
        [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]]
    )


def state_box(state: np.ndarray) -> np.ndarray:
    """Pixel box x1, y1, x2, y2 of a centre, width, height state."""
    centre, half = state[:2], np.maximum(state[2:4], 1.0) / 2
    return np.concatenate([centre - half, centre + half])


class BoxKalman:
    """A person's box over time: `predict` each frame, `update` when the person is seen."""

    def __init__(self, box: np.ndarray) -> None:
        measured = box_state(box)
        self.mean = np.concatenate([measured, np.zeros(4)])
        height = measured[3]
        std = np.array([2 * POSITION_NOISE, 2 * POSITION_NOISE, 2 * POSITION_NOISE,
                        2 * POSITION_NOISE, 10 * VELOCITY_NOISE, 10 * VELOCITY_NOISE,
                        10 * VELOCITY_NOISE, 10 * VELOCITY_NOISE]) * height  # fmt: skip
        self.covariance = np.diag(std**2)

    @property
    def box(self) -> np.ndarray:
        """The current estimate as a pixel box."""
        return state_box(self.mean[:4])

    def predict(self) -> np.ndarray:
        """Step one frame ahead; the predicted box."""
        height = self.mean[3]
        std = np.repeat([POSITION_NOISE * height, VELOCITY_NOISE * height], 4)
        self.mean = _TRANSITION @ self.mean
        self.covariance = _TRANSITION @ self.covariance @ _TRANSITION.T + np.diag(std**2)
        return self.box

    def update(self, box: np.ndarray) -> None:
        """Correct the estimate with a seen box."""
        noise = np.diag(np.full(4, MEASUREMENT_NOISE * self.mean[3]) ** 2)
        projected = _OBSERVATION @ self.covariance @ _OBSERVATION.T + noise
        gain = np.linalg.solve(projected, _OBSERVATION @ self.covariance).T
        self.mean = self.mean + gain @ (box_state(box) - _OBSERVATION @ self.mean)
        self.covariance = self.covariance - gain @ projected @ gain.T
