"""Command-line inputs: image files, globs and directories; video files and camera indices."""

from __future__ import annotations

import glob
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx.quiet import native_stderr_silenced

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class InputError(Exception):
    """A user's input that cannot be used (reported as one line)."""


def image_paths(specs: list[str]) -> list[Path]:
    """Expand files, glob patterns and directories (their image files, sorted) into paths,
    each file once, in the order first given."""
    paths: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(f"no image files in directory {path}")
            paths += found
        elif path.exists():
            paths.append(path)
        elif glob.has_magic(spec):
            found = sorted(Path(p) for p in glob.glob(spec, recursive=True))
            if not found:
                raise InputError(f"no files match {spec}")
            paths += found
        else:
            raise InputError(f"no such image file: {path}")
    return list(dict.fromkeys(paths))


def read_image(path: Path) -> np.ndarray:
    """An image file as RGB uint8."""
    if not path.is_file():
        raise InputError(f"no such image file: {path}")
    with native_stderr_silenced():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"not a readable image: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def open_video(source: str) -> tuple[cv2.VideoCapture, float]:
    """An opened capture for a video file or a camera index, and its frame rate (30 if unknown)."""
    if not source.isdigit() and not Path(source).is_file():
        raise InputError(f"no such video file: {source}")
    if not source.isdigit() and cv2.haveImageReader(source):
        raise InputError(f"{source} is a still image, not a video (use blazepose detect)")
    with native_stderr_silenced():
        capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not capture.isOpened():
        raise InputError(
            f"camera {source} could not be opened"
            if source.isdigit()
            else f"not a readable video: {source}"
        )
    fps = capture.get(cv2.CAP_PROP_FPS)
    return capture, fps if fps and fps > 0 else 30.0


def read_frames(source: str, limit: int | None = None) -> list[np.ndarray]:
    """Up to `limit` frames (all when None) of a video file or camera, as RGB uint8."""
    capture, _ = open_video(source)
    frames = []
    while limit is None or len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    if not frames:
        raise InputError(f"no frames in video {source}")
    return frames
