"""`--person-boxes FILE`: person boxes for `blazepose detect` (per image) and `blazepose video`
(per frame index), read and checked before any model loads (whether they overlap an image or a
video's frames: when it is read).

detect: {"IMAGE": [[x1, y1, x2, y2], ...], ...}, IMAGE being the path as given on the command
line or the file name; video: {"FRAME": [[x1, y1, x2, y2], ...], ...}, FRAME a frame index of
the input (0 is the first frame, counted before --stride/--fps), the same file for every input.
Boxes are pixels of the image or frame as read (before --rotate), a fifth number being a score;
where some boxes of an entry have one and others not, those without count as sure (score 1, as
given boxes are in video modes). An image or frame without an entry is searched by the pose
detector (or --person-detector); an empty list means no people there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.pipeline.person_boxes import box_table, check_person_boxes

SURE = 1.0  # the score of a box given without one, beside boxes with one


class BoxesFileError(InvalidValueError):
    """The file cannot be read or is not in the documented format (a usage error)."""


def _boxes(key: str, value: Any) -> list[list[float]]:
    rows = value if isinstance(value, list) else None
    if rows is None or not all(
        isinstance(row, list)
        and len(row) in (4, 5)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)
        for row in rows
    ):
        raise BoxesFileError(
            f"the boxes of {key!r} must be a list of [x1, y1, x2, y2] or [x1, y1, x2, y2, score] "
            "lists of numbers"
        )
    if len({len(row) for row in rows}) > 1:
        rows = [row if len(row) == 5 else [*row, SURE] for row in rows]
    try:
        box_table(rows, f"the boxes of {key!r}")
    except (TypeError, ValueError) as exc:
        raise BoxesFileError(str(exc)) from exc
    return rows


def misfit(table: dict[Any, list[list[float]]], width: int, height: int) -> str | None:
    """What is wrong with the first entry of `table` with a box outside a width x height image,
    or None."""
    for key, boxes in table.items():
        try:
            check_person_boxes(boxes, width, height, len(boxes), f"the boxes of {str(key)!r}")
        except ValueError as exc:
            return str(exc)
    return None


def _table(path: str) -> dict[str, Any]:
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BoxesFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise BoxesFileError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(table, dict):
        raise BoxesFileError(f"{path} must hold a JSON object (image or frame -> boxes)")
    return table


def image_boxes(path: str) -> dict[str, list[list[float]]]:
    """Boxes per image path or file name."""
    return {key: _boxes(key, value) for key, value in _table(path).items()}


def frame_boxes(path: str) -> dict[int, list[list[float]]]:
    """Boxes per frame index."""
    table = _table(path)
    bad = [key for key in table if not (key.isdigit() and key.isascii())]
    if bad:
        raise BoxesFileError(
            f"{path}: frame keys must be frame indices (0, 1, ...), got {bad[0]!r}"
        )
    return {int(key): _boxes(key, value) for key, value in table.items()}


def boxes_for(table: dict[str, list[list[float]]], image: Path) -> list[list[float]] | None:
    """An image's boxes (by its path as given, then its file name), or None."""
    return table.get(str(image), table.get(image.name))


def unmatched(table: dict[str, list[list[float]]], images: list[Path]) -> list[str]:
    """Keys of the table that name none of the images (a typo, most likely)."""
    names = {str(p) for p in images} | {p.name for p in images}
    return [key for key in table if key not in names]
