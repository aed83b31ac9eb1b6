"""`blazepose extract`: a dataset's photos and videos into Parquet
(docs/datasets.md)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from blazepose_onnx.common.errors import EXIT_TRUNCATED
from blazepose_onnx.common.plural import counted
from blazepose_onnx.options import PoseLandmarkerOptions

if TYPE_CHECKING:  # the extract package needs pyarrow, which run_extract checks for
    from blazepose_onnx.extract.run import Summary


def run_extract(args: argparse.Namespace, options: PoseLandmarkerOptions) -> int:
    """Run the extraction the arguments ask for; print its summary; its exit code."""
    from blazepose_onnx.common.quiet import silence_opencv_logging
    from blazepose_onnx.extract import extract  # without pyarrow: one line, the command to run

    silence_opencv_logging()
    summary = extract(
        args.sources,
        args.out,
        options,
        engine=args.engine,
        workers=args.workers,
        address=args.address,
        gpus_per_worker=args.gpus_per_worker or 0.0,
        rotate=args.rotate,
        retry_failed=args.retry_failed,
        overwrite=args.overwrite,
        **({"connect_timeout": args.connect_timeout} if args.connect_timeout else {}),
    )
    first, *failures = summary.lines()
    print(first)
    for line in failures:
        print(line, file=sys.stderr)
    code = summary.exit_code
    if code == EXIT_TRUNCATED and args.allow_truncated:
        return 0
    if code:
        print(f"blazepose: {_outcome(summary)}", file=sys.stderr)
    return code


def _outcome(summary: Summary) -> str:
    """What went wrong, counted, with the exit code and the option that redoes or accepts it
    (--retry-failed only where some source failed: truncated videos are not redone)."""
    sources = counted(summary.sources, "source")
    was = "was" if summary.truncated == 1 else "were"
    if not summary.failed:
        return (
            f"{summary.truncated} of {sources} {was} truncated (exit code {summary.exit_code}; "
            "--allow-truncated accepts truncated videos)"
        )
    also = f" and {summary.truncated} {was} truncated" if summary.truncated else ""
    return (
        f"{summary.failed} of {sources} failed{also} (exit code {summary.exit_code}; "
        "--retry-failed redoes the failed ones)"
    )
