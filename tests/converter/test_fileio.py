"""Atomic writes from many processes at once (as extract's workers write one dataset)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from blazepose_onnx.common.fileio import write_bytes_atomic

WRITERS = 8


def _write_one(target: str) -> str | None:
    try:
        write_bytes_atomic(target, Path(target).name.encode())
    except Exception as exc:  # reported to the test, which names it
        return f"{target}: {exc!r}"
    return None


def test_writers_racing_to_create_the_same_new_folders_all_succeed(tmp_path):
    # Before the fix one writer in about a third of rounds failed with "File exists" when
    # another created the shared parent folder between its check and its mkdir.
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        for round_ in range(20):
            folder = tmp_path / f"r{round_}" / "a" / "b"
            targets = [str(folder / f"{i}.bin") for i in range(WRITERS)]
            errors = [e for e in pool.map(_write_one, targets) if e]
            assert not errors, errors
            assert all(Path(t).read_bytes() == Path(t).name.encode() for t in targets)
