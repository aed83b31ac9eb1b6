"""`blazepose detect`: poses in images, to JSON, CSV and annotated images."""

from __future__ import annotations

import argparse
import io
import json
import logging
from contextlib import ExitStack
from pathlib import Path

import cv2

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
                target = targets[path]
                temp = outputs.enter_context(atomic_path(target, suffix=".part.png"))
                if not cv2.imwrite(str(temp), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)):
                    raise InputError(f"could not write {target}")
            log.info("%s: %d pose(s)", path, len(result.pose_landmarks))
        text = json.dumps({"model": str(args.model), "images": records}, indent=1)
        if args.json and args.json != "-":
            outputs.enter_context(atomic_path(args.json)).write_text(text + "\n")
        if args.csv:
            outputs.enter_context(atomic_path(args.csv)).write_text(csv_text.getvalue())
    if args.json == "-" or not (args.json or args.csv or args.annotate):
        print(text)
    poses = sum(len(r["pose_landmarks"]) for r in records.values())
    written = [p for p in (args.json, args.csv) if p and p != "-"] + (
        [args.annotate] if args.annotate else []
    )
    if written:
        print(f"{poses} pose(s) in {len(records)} image(s); wrote {', '.join(written)}")
    return 0
