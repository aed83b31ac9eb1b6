"""Command-line inputs: image files, globs and directories; video files and camera indices."""

from __future__ import annotations

import glob
import itertools
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx.common.quiet import native_stderr_silenced
from blazepose_onnx.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (
    ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
    ".3gp",
)  # fmt: skip
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt", "rtp")


def image_paths(specs: list[str]) -> list[Path]:
    """Expand files, glob patterns and directories (their image files, sorted) into paths,
    each file once, in the order first given."""
    return _expand(specs, IMAGE_SUFFIXES, "image")


def video_sources(specs: list[str]) -> list[str]:
    """Expand video files, folders (their video files), glob patterns, stream URLs and camera
    indices into sources for `open_video`, each once, in the order first given."""
    sources: list[str] = []
    for spec in specs:
        if spec.isdigit() or is_stream_url(spec):
            sources.append(spec)
        else:
            sources += [str(path) for path in _expand([spec], VIDEO_SUFFIXES, "video")]
    return list(dict.fromkeys(sources))


def is_stream_url(source: str) -> bool:
    """Whether `source` is a network stream URL (rtsp://, http://, ...) OpenCV can open."""
    scheme, separator, _ = source.partition("://")
    return bool(separator) and scheme.lower() in STREAM_SCHEMES


def _expand(specs: list[str], suffixes: tuple[str, ...], kind: str) -> list[Path]:
    paths: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
            if not found:
                raise InputError(f"no {kind} files in directory {path}")
            paths += found
        elif path.exists():
            paths.append(path)
        elif glob.has_magic(spec):
            found = sorted(Path(p) for p in glob.glob(spec, recursive=True))
            if not found:
                raise InputError(f"no files match {spec}")
            paths += found
        else:
            raise InputError(f"no such {kind} file: {path}")
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


def open_video(source: str, threads: int | None = None) -> tuple[cv2.VideoCapture, float]:
    """An opened capture for a video file, a stream URL or a camera index, and its frame rate
    (30 if unknown). `threads`: a video file's decoder threads (default: FFmpeg's choice, all
    cores); cameras and streams keep their backend's own."""
    stream = is_stream_url(source)
    if not (source.isdigit() or stream):
        if not Path(source).is_file():
            raise InputError(f"no such video file: {source}")
        if cv2.haveImageReader(source):
            raise InputError(f"{source} is a still image, not a video (use blazepose detect)")
    with native_stderr_silenced():
        params = (
            []
            if threads is None or source.isdigit() or stream
            else [cv2.CAP_PROP_N_THREADS, threads]
        )
        capture = cv2.VideoCapture(int(source) if source.isdigit() else source, cv2.CAP_ANY, params)
    if not capture.isOpened():
        if source.isdigit():
            raise InputError(f"camera {source} could not be opened")
        raise InputError(
            f"stream {source} could not be opened" if stream else f"not a readable video: {source}"
        )
    fps = capture.get(cv2.CAP_PROP_FPS)
    return capture, fps if fps and fps > 0 else 30.0


def rgb_frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """An opened capture's frames, in order, as RGB uint8, until it ends."""
    while True:
        ok, frame = capture.read()
        if not ok:
            return
        yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def read_frames(source: str, limit: int | None = None) -> list[np.ndarray]:
    """Up to `limit` frames (all when None) of a video file or camera, as RGB uint8."""
    capture, _ = open_video(source)
    try:
        frames = list(itertools.islice(rgb_frames(capture), limit))
    finally:
        capture.release()
    if not frames:
        raise InputError(f"no frames in video {source}")
    return frames
