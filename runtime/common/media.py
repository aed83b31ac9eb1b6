"""Which files are photos and which are videos, by suffix (lower case): what `detect`, `video`
and `extract` take from a folder, and what `blazepose-convert verify` crops inputs from."""

from __future__ import annotations

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (
    ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
    ".3gp",
)  # fmt: skip
