"""Writing a report folder: each file atomically, and never over a file this tool did not
write (a page without our generator mark, a JSON that is not bench JSON, a link, a device)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from blazepose_onnx.bench.results import BENCH_FORMAT, BenchRun, ReportError, parse_run
from blazepose_onnx.common.errors import WriteError
from blazepose_onnx.common.fileio import write_bytes_atomic
from blazepose_onnx.report.page import GENERATOR, compare_page, run_page

PAGE, JSON = "index.html", "bench.json"
MARKS = {PAGE: f'<meta name="generator" content="{GENERATOR}">', JSON: f'"{BENCH_FORMAT}"'}


def _check_replaceable(path: Path) -> None:
    """ReportError unless `path` is absent or a regular file holding our mark."""
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_file():
        raise ReportError(f"{path} exists and is not a regular file: not replacing it")
    with path.open("rb") as existing:
        head = existing.read(4096).decode("utf-8", "replace")
    if MARKS[path.name] not in head:
        raise ReportError(
            f"{path} exists and was not written by blazepose bench: remove it or choose another "
            "folder"
        )


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """Write `files` (name: text) into `folder`, the page last; return the page's path."""
    if os.path.lexists(folder) and not folder.is_dir():
        raise ReportError(f"{folder} exists and is not a folder")
    for name in files:
        _check_replaceable(folder / name)
    try:
        for name in sorted(files, key=lambda n: n == PAGE):
            write_bytes_atomic(folder / name, files[name].encode("utf-8"))
    except WriteError as exc:
        raise ReportError(str(exc)) from exc
    return folder / PAGE


def write_run_report(folder: Path, document: str, name: str = JSON) -> Path:
    """`folder`/index.html from one run's bench JSON text (called `name` on the page), beside
    that very text as bench.json, so the page can be rebuilt from the folder alone."""
    return write_folder(folder, {JSON: document, PAGE: run_page(parse_run(document, name))})


def write_compare_report(folder: Path, runs: Sequence[BenchRun]) -> Path:
    """`folder`/index.html comparing `runs` against the first."""
    return write_folder(folder, {PAGE: compare_page(runs)})
