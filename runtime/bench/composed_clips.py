"""Multi-person clips with identities known by construction, composed from a one-person clip.

A scene places tiles (each a segment of the source clip, maybe mirrored, scaled and turned by a
multiple of 90 degrees) on a plain background, each on its own path; later tiles are drawn over
earlier ones. Each tile holds one person, so who is where is known in every frame; `tile_truth`
takes each person's landmarks from the single-person pipeline run on that tile's own frames,
and `visible_fraction` says how much of them a tile drawn over it leaves in sight.

    clip = compose(frames, SCENES["occlusion"])
    truth = tile_truth(clip, model="lite")  # (tiles, frames, 33, 5) in the clip's frame, NaN: none
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from blazepose_onnx.common.errors import InvalidValueError

BACKGROUND = (52, 56, 60)
FPS = 30


@dataclass(frozen=True)
class Tile:
    """One person: source frames from `start` on (played back and forth past the ends), mirrored,
    scaled, turned clockwise by `rotation` degrees, with its top-left corner on `path(t)`."""

    start: int
    path: Callable[[int], tuple[float, float]]
    scale: float = 0.5
    mirror: bool = False
    rotation: int = 0


@dataclass(frozen=True)
class Scene:
    """Tiles on a `size` (width, height) background for `frames` frames."""

    size: tuple[int, int]
    frames: int
    tiles: tuple[Tile, ...]


@dataclass(frozen=True)
class ComposedClip:
    """The frames (RGB) and, per tile and frame, its top-left corner and its image."""

    scene: Scene
    frames: list[np.ndarray]
    corners: np.ndarray  # (tiles, frames, 2) pixels
    tile_frames: list[list[np.ndarray]]  # [tile][frame] RGB


def still(x: float, y: float = 0.0) -> Callable[[int], tuple[float, float]]:
    return lambda t: (x, y)


def moving(keys: Sequence[tuple[int, float, float]]) -> Callable[[int], tuple[float, float]]:
    """A path through (frame, x, y) keys, linear between them, still before and after."""
    times = np.array([k[0] for k in keys], np.float64)
    xs, ys = np.array([k[1] for k in keys]), np.array([k[2] for k in keys])
    return lambda t: (float(np.interp(t, times, xs)), float(np.interp(t, times, ys)))


def people_scene(
    count: int, frames: int, source_size: tuple[int, int], scale: float = 0.5
) -> Scene:
    """`count` tiles of a (width, height) source side by side, each from another point of
    it, every other one mirrored (for benchmarks)."""
    width = round(source_size[0] * scale) + 8
    tiles = tuple(
        Tile(start=17 * k, path=still(4 + width * k), scale=scale, mirror=k % 2 == 1)
        for k in range(count)
    )
    return Scene((width * count, round(source_size[1] * scale)), frames, tiles)


# The scenes the tracking tests and the tables of docs/people.md use (source: tests/data/squat.mp4,
# 406x720, whose tiles at scale 0.5 are 203x360).
SCENES: dict[str, Scene] = {
    # three people side by side, one mirrored, one smaller
    "side_by_side": Scene(
        (640, 360),
        90,
        (
            Tile(0, still(8)),
            Tile(40, still(220), mirror=True),
            Tile(80, still(450, 54), scale=0.42),
        ),
    ),
    # the right person is covered by a tile sliding over it for 3 s, then uncovered
    "occlusion": Scene(
        (640, 360),
        180,
        (
            Tile(60, still(420)),
            Tile(0, moving([(15, 20, 0), (45, 420, 0), (135, 420, 0), (165, 20, 0)]), mirror=True),
        ),
    ),
    # two people cross: the one walking right passes in front of the other
    "passing": Scene(
        (640, 360),
        120,
        (
            Tile(30, moving([(10, 430, 0), (110, 10, 0)])),
            Tile(0, moving([(10, 10, 0), (110, 430, 0)]), mirror=True),
        ),
    ),
    # a person upright, one lying (turned 90 degrees), one upside down
    "rotated": Scene(
        (800, 360),
        90,
        (
            Tile(0, still(8)),
            Tile(40, still(224, 78), rotation=90),
            Tile(80, still(592), rotation=180, mirror=True),
        ),
    ),
}


def source_index(start: int, t: int, length: int) -> int:
    """Frame `start + t` of a source of `length` frames played forth and back (ping-pong)."""
    period = 2 * (length - 1)
    k = (start + t) % period
    return k if k < length else period - k


def tile_image(source: np.ndarray, tile: Tile) -> np.ndarray:
    """A source frame as the tile shows it: mirrored, scaled, turned."""
    image = source[:, ::-1] if tile.mirror else source
    height, width = image.shape[:2]
    size = (round(width * tile.scale), round(height * tile.scale))
    image = cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.rot90(image, k=-(tile.rotation // 90)))


def compose(source: Sequence[np.ndarray], scene: Scene) -> ComposedClip:
    """The scene's frames from the source clip's RGB frames."""
    width, height = scene.size
    corners = np.zeros((len(scene.tiles), scene.frames, 2))
    tile_frames: list[list[np.ndarray]] = [[] for _ in scene.tiles]
    frames = []
    for t in range(scene.frames):
        canvas = np.empty((height, width, 3), np.uint8)
        canvas[...] = BACKGROUND
        for k, tile in enumerate(scene.tiles):
            image = tile_image(source[source_index(tile.start, t, len(source))], tile)
            x, y = (round(v) for v in tile.path(t))
            tile_height, tile_width = image.shape[:2]
            if x < 0 or y < 0 or x + tile_width > width or y + tile_height > height:
                raise InvalidValueError(f"tile {k} leaves the {width}x{height} frame at frame {t}")
            canvas[y : y + tile_height, x : x + tile_width] = image
            corners[k, t] = x, y
            tile_frames[k].append(image)
        frames.append(canvas)
    return ComposedClip(scene, frames, corners, tile_frames)


def tile_truth(clip: ComposedClip, model: str = "full", **options) -> np.ndarray:
    """(tiles, frames, 33, 5) landmarks normalised to the clip's frame: the single-person
    pipeline (VIDEO mode, its own pose detector) on each tile's frames, turned upright by its
    `rotation_degrees`; NaN where it found no pose."""
    from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
    from blazepose_onnx.pose_landmarker import PoseLandmarker

    width, height = clip.scene.size
    truth = np.full((len(clip.scene.tiles), clip.scene.frames, 33, 5), np.nan)
    for k, tile in enumerate(clip.scene.tiles):
        settings = PoseLandmarkerOptions(model=model, running_mode=RunningMode.VIDEO, **options)
        upright = (360 - tile.rotation) % 360
        with PoseLandmarker.create_from_options(settings) as landmarker:
            for t, image in enumerate(clip.tile_frames[k]):
                result = landmarker.detect_for_video(image, t * 1000 // FPS, upright)
                if len(result):
                    landmarks = result.as_arrays()[0][0].astype(np.float64)
                    tile_height, tile_width = image.shape[:2]
                    pixels = landmarks[:, :2] * (tile_width, tile_height) + clip.corners[k, t]
                    truth[k, t] = landmarks
                    truth[k, t, :, :2] = pixels / (width, height)
    return truth


def pose_boxes(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(..., 4) pixel boxes x1, y1, x2, y2 around (..., 33, >=2) normalised landmarks."""
    pixels = landmarks[..., :2] * (width, height)
    return np.concatenate([pixels.min(axis=-2), pixels.max(axis=-2)], axis=-1)


def visible_fraction(clip: ComposedClip, truth: np.ndarray) -> np.ndarray:
    """(tiles, frames): the share of each person's box (from `truth`) that no later tile covers
    and that lies in the frame (NaN truth: 0)."""
    width, height = clip.scene.size
    boxes = pose_boxes(truth, width, height)
    sizes = [(img.shape[1], img.shape[0]) for img in (frames[0] for frames in clip.tile_frames)]
    out = np.zeros(truth.shape[:2])
    for t in range(clip.scene.frames):
        for k in range(len(clip.scene.tiles)):
            if np.isnan(boxes[k, t]).any():
                continue
            x1, y1, x2, y2 = np.clip(boxes[k, t], 0, [width, height, width, height])
            inside = np.zeros((height, width), bool)
            inside[int(y1) : int(np.ceil(y2)), int(x1) : int(np.ceil(x2))] = True
            full = max(1.0, (boxes[k, t, 2] - boxes[k, t, 0]) * (boxes[k, t, 3] - boxes[k, t, 1]))
            for above in range(k + 1, len(clip.scene.tiles)):
                x, y = clip.corners[above, t].astype(int)
                inside[y : y + sizes[above][1], x : x + sizes[above][0]] = False
            out[k, t] = min(1.0, inside.sum() / full)
    return out
