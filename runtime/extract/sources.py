"""What `blazepose extract` reads: files, folders (recursive), glob patterns and `@list.txt`
files, expanded into absolute paths, each once, in the order first given."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from blazepose_onnx.errors import InputError
from blazepose_onnx.io.inputs import IMAGE_SUFFIXES, VIDEO_SUFFIXES

PHOTO, VIDEO = "photo", "video"


@dataclass(frozen=True)
class Source:
    """One input of a dataset: its absolute path and whether it is a photo or a video."""

    path: str
    kind: str


def kind_of(path: str) -> str:
    """A photo by its suffix; anything else is tried as a video (a non-media file then fails
    as an unreadable video, in its manifest row)."""
    return PHOTO if Path(path).suffix.lower() in IMAGE_SUFFIXES else VIDEO


def expand_sources(specs: Iterable[str]) -> list[Source]:
    """Files, folders (their photos and videos, recursively, sorted), glob patterns and
    `@list.txt` (one path, folder or pattern a line, relative to the list's folder; blank lines
    and `#` comments skipped). A path on the command line that does not exist is an error; one
    in a list becomes a failed source."""
    paths: list[str] = []
    for spec in specs:
        if spec.startswith("@"):
            paths += _listed(Path(spec[1:]))
        else:
            paths += _expand(spec, must_exist=True)
    if not paths:
        raise InputError("no photos or videos in the sources given")
    return [Source(path, kind_of(path)) for path in dict.fromkeys(paths)]


def _listed(listing: Path) -> list[str]:
    try:
        lines = listing.read_text().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the source list {listing}: {exc.strerror or exc}") from exc
    paths: list[str] = []
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith("#"):
            paths += _expand(str(listing.parent / entry), must_exist=False)
    return paths


def _expand(spec: str, must_exist: bool) -> list[str]:
    path = Path(spec)
    if path.is_dir():
        return _media_under(path)
    if path.exists() or (not glob.has_magic(spec) and not must_exist):
        return [os.path.abspath(path)]
    if glob.has_magic(spec):
        found = sorted(glob.glob(spec, recursive=True))
        if not found:
            raise InputError(f"no files match {spec}")
        return [p for match in found for p in _expand(match, must_exist=True)]
    raise InputError(f"no such file or folder: {spec}")


def _media_under(folder: Path) -> list[str]:
    """The photos and videos under a folder and its subfolders (hidden ones skipped), sorted."""
    suffixes = IMAGE_SUFFIXES + VIDEO_SUFFIXES
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [
            os.path.abspath(os.path.join(root, name))
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in suffixes
        ]
    return sorted(found)
