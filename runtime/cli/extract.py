"""`blazepose extract`: a dataset's photos and videos into Parquet (README, "Datasets")."""

from __future__ import annotations

import argparse
import sys

from blazepose_onnx.options import PoseLandmarkerOptions


def run_extract(args: argparse.Namespace, options: PoseLandmarkerOptions) -> int:
    """Run the extraction the arguments ask for; print its summary; its exit code."""
    from blazepose_onnx.extract import extract  # without pyarrow: one line, the command to run
    from blazepose_onnx.quiet import silence_opencv_logging

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
    )
    first, *failures = summary.lines()
    print(first)
    for line in failures:
        print(line, file=sys.stderr)
    if summary.exit_code:
        print(
            f"blazepose: {summary.failed + summary.truncated} of {summary.sources} sources "
            f"failed or were truncated (exit code {summary.exit_code}; --retry-failed redoes "
            "the failed ones)",
            file=sys.stderr,
        )
    return summary.exit_code
