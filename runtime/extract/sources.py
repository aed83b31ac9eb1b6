"""What `blazepose extract` reads: the photos and videos its sources name, as absolute paths,
each once, in the order first given, and which of them are photos."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from blazepose_onnx.common.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from blazepose_onnx.errors import InputError
from blazepose_onnx.io.inputs import expand_paths

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
    """The photos and videos `specs` name (`inputs.expand_paths`: files, folders recursively,
    glob patterns, `@list.txt`), as absolute paths, each once. A path on the command line that
    does not exist is an error; one in a list becomes a failed source."""
    paths = expand_paths(specs, IMAGE_SUFFIXES + VIDEO_SUFFIXES, "photo or video file")
    if not paths:
        raise InputError("no photos or videos in the sources given")
    absolute = dict.fromkeys(os.path.abspath(path) for path in paths)
    return [Source(path, kind_of(path)) for path in absolute]
