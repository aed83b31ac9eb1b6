"""MediaPipe's `drawing_utils` for pose: `draw_landmarks` on BGR images with `DrawingSpec`s,
and `plot_landmarks` in 3-D (matplotlib, imported only when called). They take what both
MediaPipe APIs pass: a landmark list message (legacy results, `landmark_pb2`) or a Tasks pose's
list of landmarks, and connections as (start, end) pairs or Tasks' `Connection`s."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import cv2
import numpy as np

from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.common.install import require
from blazepose_onnx.drawing import check_canvas

if TYPE_CHECKING:
    from mpl_toolkits.mplot3d import Axes3D

PRESENCE_THRESHOLD = 0.5
VISIBILITY_THRESHOLD = 0.5
WHITE_COLOR = (224, 224, 224)
BLACK_COLOR = (0, 0, 0)
RED_COLOR = (0, 0, 255)
GREEN_COLOR = (0, 128, 0)
BLUE_COLOR = (255, 0, 0)


@dataclass
class DrawingSpec:
    """Colour (BGR), line thickness and circle radius of landmarks or connections."""

    color: tuple[int, int, int] = WHITE_COLOR
    thickness: int = 2
    circle_radius: int = 2


LANDMARK_SPEC = DrawingSpec(color=RED_COLOR)
CONNECTION_SPEC = DrawingSpec()
PLOT_LANDMARK_SPEC = DrawingSpec(color=RED_COLOR, thickness=5)
PLOT_CONNECTION_SPEC = DrawingSpec(color=BLACK_COLOR, thickness=5)


def _in_unit_range(value: float) -> bool:
    return (value > 0 or math.isclose(0, value)) and (value < 1 or math.isclose(1, value))


def _pixel(x: float, y: float, width: int, height: int) -> tuple[int, int] | None:
    """Pixel of a normalised point, or None outside the image (as MediaPipe)."""
    if not (_in_unit_range(x) and _in_unit_range(y)):
        return None
    return min(math.floor(x * width), width - 1), min(math.floor(y * height), height - 1)


def _score(landmark, name: str) -> float | None:
    """A landmark's visibility or presence; None where it has none (a message field not set,
    as MediaPipe's `HasField`, or a Tasks landmark's None)."""
    if hasattr(landmark, "HasField"):
        return getattr(landmark, name) if landmark.HasField(name) else None
    return getattr(landmark, name, None)


def _shown(landmark) -> bool:
    visibility, presence = _score(landmark, "visibility"), _score(landmark, "presence")
    return (visibility is None or visibility >= VISIBILITY_THRESHOLD) and (
        presence is None or presence >= PRESENCE_THRESHOLD
    )


def _landmarks(landmark_list) -> list:
    """The landmarks of a list message (`.landmark`) or of a Tasks pose (a list itself)."""
    return list(getattr(landmark_list, "landmark", landmark_list))


def _checked_connections(connections: Iterable, count: int) -> list[tuple[int, int]]:
    """(start, end) index pairs of pairs or Tasks `Connection`s, each checked against the
    landmark count."""
    checked = []
    for connection in connections:
        start, end = (
            (connection.start, connection.end) if hasattr(connection, "start") else connection
        )
        if not (0 <= start < count and 0 <= end < count):
            raise InvalidValueError(
                f"Landmark index is out of range. Invalid connection from landmark #{start} to "
                f"landmark #{end}."
            )
        checked.append((start, end))
    return checked


def draw_landmarks(
    image: np.ndarray,
    landmark_list,
    connections: Iterable | None = None,
    landmark_drawing_spec: DrawingSpec | Mapping[int, DrawingSpec] | None = LANDMARK_SPEC,
    connection_drawing_spec: DrawingSpec | Mapping[tuple[int, int], DrawingSpec] | None = (
        CONNECTION_SPEC
    ),
    is_drawing_landmarks: bool = True,
) -> None:
    """Draw a landmark list (legacy `results.pose_landmarks`, a `landmark_pb2` list, or a Tasks
    pose `result.pose_landmarks[i]`) on a BGR image, in place.

    Landmarks with visibility or presence below 0.5, or outside the image, are skipped, as are
    connections to them; specs may be one DrawingSpec or a mapping per landmark / connection
    (`drawing_styles.get_default_pose_landmarks_style()`). None as a spec skips that part.
    """
    if not landmark_list:
        return
    check_canvas(image)
    height, width = image.shape[:2]
    landmarks = _landmarks(landmark_list)
    points = {
        k: px
        for k, p in enumerate(landmarks)
        if _shown(p) and (px := _pixel(p.x, p.y, width, height)) is not None
    }
    for start, end in _checked_connections(connections or (), len(landmarks)):
        if connection_drawing_spec and start in points and end in points:
            spec = (
                connection_drawing_spec[(start, end)]
                if isinstance(connection_drawing_spec, Mapping)
                else connection_drawing_spec
            )
            cv2.line(image, points[start], points[end], spec.color, spec.thickness)
    if not (is_drawing_landmarks and landmark_drawing_spec):
        return
    for k, point in points.items():
        spec = (
            landmark_drawing_spec[k]
            if isinstance(landmark_drawing_spec, Mapping)
            else landmark_drawing_spec
        )
        border = max(spec.circle_radius + 1, int(spec.circle_radius * 1.2))
        cv2.circle(image, point, border, WHITE_COLOR, spec.thickness)
        cv2.circle(image, point, spec.circle_radius, spec.color, spec.thickness)


def plot_landmarks(
    landmark_list,
    connections: Iterable[tuple[int, int]] | None = None,
    landmark_drawing_spec: DrawingSpec = PLOT_LANDMARK_SPEC,
    connection_drawing_spec: DrawingSpec = PLOT_CONNECTION_SPEC,
    elevation: int = 10,
    azimuth: int = 10,
):
    """Plot landmarks (e.g. `results.pose_world_landmarks`) in 3-D with matplotlib and show
    the figure; returns it. Needs matplotlib (imported only here)."""
    require("matplotlib", "solutions", "plot_landmarks")
    import matplotlib.pyplot as plt

    if not landmark_list:
        return None
    point_spec, line_spec = landmark_drawing_spec, connection_drawing_spec
    figure = plt.figure(figsize=(10, 10))
    axes = cast("Axes3D", plt.axes(projection="3d"))  # matplotlib types it by no projection
    axes.view_init(elev=elevation, azim=azimuth)
    landmarks = _landmarks(landmark_list)
    plotted = {k: (-p.z, p.x, -p.y) for k, p in enumerate(landmarks) if _shown(p)}
    rgb = tuple(c / 255.0 for c in point_spec.color[::-1])
    for x, y, z in plotted.values():
        axes.scatter3D(xs=[x], ys=[y], zs=[z], color=rgb, linewidth=point_spec.thickness)
    line_rgb = tuple(c / 255.0 for c in line_spec.color[::-1])
    for start, end in _checked_connections(connections or (), len(landmarks)):
        if start in plotted and end in plotted:
            xs, ys, zs = zip(plotted[start], plotted[end], strict=True)
            axes.plot3D(xs=xs, ys=ys, zs=zs, color=line_rgb, linewidth=line_spec.thickness)
    plt.show()
    return figure
