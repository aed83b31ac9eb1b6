"""Command-line inputs, one expansion for `detect`, `video` and `extract`: files, folders (their
files of the kind wanted, recursively, hidden ones skipped), glob patterns (`**` recursive) and
`@list.txt` files (one path, folder or pattern a line, relative to the list's folder; blank
lines and `#` comments skipped), each file once in the order first given; video sources add
stream URLs and camera indices. Also: reading an image file."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx.common.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from blazepose_onnx.common.quiet import native_stderr_silenced
from blazepose_onnx.errors import InputError

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt", "rtp")


def expand_paths(specs: Iterable[str], suffixes: tuple[str, ...], kind: str) -> list[Path]:
    """The files `specs` name (see the module docstring): a folder gives its files with
    `suffixes`; a file named directly is kept whatever its suffix. A file, folder or pattern on
    the command line that gives nothing is an InputError naming it as a `kind` (e.g. "image
    file"); a path in a list is kept even where it does not exist (it fails when it is read,
    by name, as that input)."""
    paths: list[Path] = []
    for spec in specs:
        if spec.startswith("@"):
            paths += _listed(Path(spec[1:]), suffixes, kind)
        else:
            paths += _expand(spec, suffixes, kind, must_exist=True)
    return list(dict.fromkeys(paths))


def image_paths(specs: Iterable[str]) -> list[Path]:
    """The image files `specs` name (`expand_paths`)."""
    return expand_paths(specs, IMAGE_SUFFIXES, "image file")


def video_sources(specs: Iterable[str]) -> list[str]:
    """The video sources `specs` name: stream URLs and camera indices as given, the rest as
    video files (`expand_paths`), each once, in the order first given."""
    sources: list[str] = []
    for spec in specs:
        if spec.isdigit() or is_stream_url(spec):
            sources.append(spec)
        else:
            sources += [str(path) for path in expand_paths([spec], VIDEO_SUFFIXES, "video file")]
    return list(dict.fromkeys(sources))


def is_stream_url(source: str) -> bool:
    """Whether `source` is a network stream URL (rtsp://, http://, ...) OpenCV can open."""
    scheme, separator, _ = source.partition("://")
    return bool(separator) and scheme.lower() in STREAM_SCHEMES


def _listed(listing: Path, suffixes: tuple[str, ...], kind: str) -> list[Path]:
    try:
        lines = listing.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot read the list {listing}: {reason}") from exc
    paths: list[Path] = []
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith("#"):
            paths += _expand(str(listing.parent / entry), suffixes, kind, must_exist=False)
    return paths


def _expand(spec: str, suffixes: tuple[str, ...], kind: str, must_exist: bool) -> list[Path]:
    path = Path(spec)
    if path.is_dir():
        found = _files_under(path, suffixes)
        if not found and must_exist:
            raise InputError(f"no {kind}s in directory {path}")
        return found
    if path.exists() or (not glob.has_magic(spec) and not must_exist):
        return [path]
    if glob.has_magic(spec):
        matches = sorted(glob.glob(spec, recursive=True))
        if not matches:
            raise InputError(f"no files match {spec}")
        return [p for match in matches for p in _expand(match, suffixes, kind, must_exist=False)]
    raise InputError(f"no such {kind}: {path}")


def _files_under(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files with `suffixes` under a folder and its subfolders (hidden ones skipped),
    sorted."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            os.path.join(root, name)
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in suffixes
        ]
    return [Path(path) for path in sorted(found)]


def read_image(path: Path) -> np.ndarray:
    """An image file as RGB uint8."""
    if not path.is_file():
        raise InputError(f"no such image file: {path}")
    with native_stderr_silenced():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"not a readable image: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
