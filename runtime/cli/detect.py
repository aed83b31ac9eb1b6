"""`blazepose detect`: poses in images, to JSON, CSV and annotated images."""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx.converter.fileio import atomic_path
from blazepose_onnx.drawing import draw_landmarks
from blazepose_onnx.export import CsvResultWriter
from blazepose_onnx.inputs import InputError, image_paths, read_image
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pose_landmarker import PoseLandmarker

log = logging.getLogger("blazepose")


def check_outputs(inputs: list[Path], outputs: dict[str, str | None]) -> None:
    """Refuse outputs that overwrite an input or each other (conflicting flags)."""
    resolved_inputs = {p.resolve() for p in inputs}
    seen: dict[Path, str] = {}
    for flag, value in outputs.items():
        if value in (None, "-"):
            continue
        path = Path(value).resolve()
        if path in resolved_inputs:
            raise InputError(f"{flag} {value} is an input file; choose another output path")
        if path in seen:
            raise InputError(f"{flag} and {seen[path]} both write {value}")
        seen[path] = flag


def run_detect(args: argparse.Namespace, options: PoseLandmarkerOptions) -> int:
    paths = image_paths(args.images)
    targets = (
        {path: Path(args.annotate) / f"{path.stem}_pose.png" for path in paths}
        if args.annotate
        else {}
    )
    mask_dir = Path(args.masks) if isinstance(args.masks, str) else None
    check_outputs(
        paths,
        {
            "--json": args.json,
            "--csv": args.csv,
            **{f"--annotate ({t.name})": str(t) for t in targets.values()},
        },
    )
    records = {}
    csv_text = io.StringIO()
    csv_writer = CsvResultWriter(csv_text) if args.csv else None
    with ExitStack() as outputs, PoseLandmarker.create_from_options(options) as landmarker:
        for path in paths:  # one image in memory at a time; a bad one aborts with nothing written
            image = read_image(path)
            result = landmarker.detect(image, rotation_degrees=args.rotate)
            records[str(path)] = {
                "width": image.shape[1],
                "height": image.shape[0],
                **result.to_dict(),
            }
            if csv_writer:
                csv_writer.write(str(path), 0, None, result)
            if args.annotate:
                canvas = draw_landmarks(image.copy(), result)
                _write_png(outputs, targets[path], cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
            if mask_dir is not None:
                for k, mask in enumerate(result.segmentation_masks):
                    mask_png = np.rint(np.clip(mask, 0.0, 1.0) * 255).astype(np.uint8)
                    _write_png(outputs, mask_dir / f"{path.stem}_mask{k}.png", mask_png)
            log.info("%s: %d pose(s)", path, len(result.pose_landmarks))
        text = json.dumps({"model": str(args.model), "images": records}, indent=1)
        if args.json and args.json != "-":
            outputs.enter_context(atomic_path(args.json)).write_text(text + "\n")
        if args.csv:
            outputs.enter_context(atomic_path(args.csv)).write_text(csv_text.getvalue())
    if args.json == "-" or not (args.json or args.csv or args.annotate):
        print(text)
    poses = sum(len(r["pose_landmarks"]) for r in records.values())
    written = [p for p in (args.json, args.csv) if p and p != "-"] + [
        str(folder) for folder in (args.annotate, mask_dir) if folder
    ]
    empty = [name for name, record in records.items() if not record["pose_landmarks"]]
    no_pose = f"no pose found in: {', '.join(empty)}" if empty else ""
    if written:  # the summary; stdout holds JSON otherwise, so the no-pose note goes to stderr
        print(f"{poses} pose(s) in {len(records)} image(s); wrote {', '.join(written)}")
    if no_pose:
        print(no_pose, file=sys.stdout if written else sys.stderr)
    return 0


def _write_png(outputs: ExitStack, target: Path, image: np.ndarray) -> None:
    """An image file written atomically (complete under its name when `outputs` closes)."""
    temp = outputs.enter_context(atomic_path(target, suffix=".part.png"))
    try:
        written = cv2.imwrite(str(temp), image)
    except cv2.error as exc:
        raise InputError(f"could not write {target}: {exc}") from exc
    if not written:
        raise InputError(f"could not write {target}")
