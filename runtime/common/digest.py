"""sha256 of a file, read in blocks (model files, downloads, benchmark inputs)."""

from __future__ import annotations

import hashlib
import os

BLOCK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()
