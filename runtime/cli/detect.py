"""`blazepose detect`: poses in images, to JSON, CSV and annotated images.

Among several images, one that cannot be read is named on stderr and skipped; the others are
written and the exit code is 4 (`--strict`: the first one stops the run, nothing is written).
The summary goes to stdout unless stdout carries data (`--json -`, `--csv -`, or JSON by
default).
"""

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

from blazepose_onnx.cli.boxes_file import boxes_for, misfit, unmatched
from blazepose_onnx.cli.preview import Preview
from blazepose_onnx.cli.skipped import SkippedInputs
from blazepose_onnx.common.fileio import atomic_path
from blazepose_onnx.common.media import IMAGE_SUFFIXES
from blazepose_onnx.common.plural import counted
from blazepose_onnx.common.quiet import silence_opencv_logging
from blazepose_onnx.drawing import draw_landmarks
from blazepose_onnx.errors import InputError
from blazepose_onnx.io.export import CsvResultWriter
from blazepose_onnx.io.inputs import image_paths, read_image
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


def report(message: str, stdout_has_data: bool) -> None:
    """A summary line: on stdout, unless stdout carries the results."""
    print(message, file=sys.stderr if stdout_has_data else sys.stdout)


def _images_and_mask_dir(args: argparse.Namespace) -> tuple[list[str], Path | None]:
    """The image arguments and the mask folder; `--masks photo.jpg` (an image file, where a
    folder was meant) counts as an input, not as the mask folder."""
    masks = args.masks
    if isinstance(masks, str) and (
        Path(masks).is_file() or Path(masks).suffix.lower() in IMAGE_SUFFIXES
    ):
        return [*args.images, masks], None
    return args.images, Path(masks) if isinstance(masks, str) else None


def run_detect(args: argparse.Namespace, options: PoseLandmarkerOptions) -> int:
    silence_opencv_logging()
    images, mask_dir = _images_and_mask_dir(args)
    if not images:
        args.parser.error("the following arguments are required: images")
    paths = image_paths(images)
    typos = unmatched(args.boxes, paths)
    if typos:
        args.parser.error(f"--person-boxes: no input image is named {typos[0]!r}")
    targets = (
        {path: Path(args.annotate) / f"{path.stem}_pose{annotated_suffix(path)}" for path in paths}
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
    json_to_stdout = args.json == "-" or not (args.json or args.csv or args.annotate)
    stdout_has_data = json_to_stdout or args.csv == "-"
    preview = Preview() if args.show else None
    records, skipped = {}, SkippedInputs(len(paths), args.strict, "image")
    csv_text = io.StringIO()
    csv_writer = CsvResultWriter(csv_text, args.keypoints) if args.csv else None
    with ExitStack() as outputs, PoseLandmarker.create_from_options(options) as landmarker:
        for path in paths:  # one image in memory at a time
            try:
                image = read_image(path)
            except InputError as exc:
                skipped.skip(str(path), exc)
                continue
            boxes = boxes_for(args.boxes, path)
            problem = misfit({path.name: boxes or []}, image.shape[1], image.shape[0])
            if problem:
                args.parser.error(f"--person-boxes: {problem}")
            result = landmarker.detect(image, rotation_degrees=args.rotate, person_boxes=boxes)
            records[str(path)] = {
                "width": image.shape[1],
                "height": image.shape[0],
                **result.to_dict(args.keypoints),
            }
            if csv_writer:
                csv_writer.write(str(path), 0, None, result)
            if args.annotate or preview:
                canvas = draw_landmarks(image.copy(), result)
                if args.annotate:
                    _write_image(
                        outputs,
                        targets[path],
                        cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR),
                        encoding_options(targets[path], args.quality),
                    )
                if preview and not preview.show(canvas, wait_ms=0):
                    preview = None  # q or Esc: no more windows, the run goes on
            if mask_dir is not None:
                for k, mask in enumerate(result.segmentation_masks or ()):
                    mask_png = np.rint(np.clip(mask, 0.0, 1.0) * 255).astype(np.uint8)
                    _write_image(outputs, mask_dir / f"{path.stem}_mask{k}.png", mask_png)
            log.info("%s: %d pose(s)", path, len(result.pose_landmarks))
        document = {"model": str(args.model), "keypoints": args.keypoints, "images": records}
        if skipped.errors:
            document["failed"] = skipped.errors
        text = json.dumps(document, indent=1)
        if args.json and args.json != "-":
            outputs.enter_context(atomic_path(args.json)).write_text(text + "\n")
        if args.csv and args.csv != "-":
            outputs.enter_context(atomic_path(args.csv)).write_text(csv_text.getvalue())
    if json_to_stdout:
        print(text)
    if args.csv == "-":
        sys.stdout.write(csv_text.getvalue())
    _summarise(args, records, mask_dir, stdout_has_data)
    return skipped.report()


def _summarise(
    args: argparse.Namespace,
    records: dict,
    mask_dir: Path | None,
    stdout_has_data: bool,
) -> None:
    poses = sum(len(r["pose_landmarks"]) for r in records.values())
    written = [p for p in (args.json, args.csv) if p and p != "-"] + [
        str(folder) for folder in (args.annotate, mask_dir) if folder
    ]
    summary = f"{counted(poses, 'pose')} in {counted(len(records), 'image')}"
    report(summary + (f"; wrote {', '.join(written)}" if written else ""), stdout_has_data)
    empty = [name for name, record in records.items() if not record["pose_landmarks"]]
    if empty:
        report(f"no pose found in: {', '.join(empty)}", stdout_has_data)


# Annotated images keep their input's format (one suffix per format); others are PNG.
SAME_FORMAT = {".jpeg": ".jpg", ".tiff": ".tif"}


def annotated_suffix(path: Path) -> str:
    """The file suffix of an image's annotated copy: its own format's (PNG where none)."""
    suffix = path.suffix.lower()
    return SAME_FORMAT.get(suffix, suffix) if suffix in IMAGE_SUFFIXES else ".png"


def encoding_options(target: Path, quality: int) -> list[int]:
    """cv2.imwrite parameters: `quality` for the lossy formats (JPEG, WebP)."""
    flag = {".jpg": cv2.IMWRITE_JPEG_QUALITY, ".webp": cv2.IMWRITE_WEBP_QUALITY}
    return [flag[target.suffix], quality] if target.suffix in flag else []


def _write_image(
    outputs: ExitStack, target: Path, image: np.ndarray, options: list[int] | None = None
) -> None:
    """An image file written atomically (complete under its name when `outputs` closes), in
    the format of its suffix."""
    temp = outputs.enter_context(atomic_path(target, suffix=".part" + target.suffix))
    try:
        written = cv2.imwrite(str(temp), image, options or [])
    except cv2.error as exc:
        raise InputError(f"could not write {target}: {exc}") from exc
    if not written:
        raise InputError(f"could not write {target}")
