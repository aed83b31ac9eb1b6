"""`blazepose bench`: the command line of the benchmark engine (`blazepose_onnx.bench`).

The options become a checked `BenchPlan` before anything is timed; its cases run one by one
with progress on stderr; the table, the JSON (every timed step's milliseconds, the inputs'
digests, the command and the machine) and the report page are written from the results. A case
that fails still leaves the finished ones in the outputs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from blazepose_onnx.backend.providers import available_providers, resolve_providers
from blazepose_onnx.bench.cases import check_mediapipe
from blazepose_onnx.bench.machine import machine_info
from blazepose_onnx.bench.plan import BenchPlan
from blazepose_onnx.bench.results import (
    VIDEO_FRAMES,
    CaseResult,
    markdown_table,
    run_document,
    run_info,
)
from blazepose_onnx.common.fileio import write_bytes_atomic
from blazepose_onnx.common.install import require
from blazepose_onnx.common.plural import counted
from blazepose_onnx.errors import InputError
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.options import required_provider


def _csv(text: str, name: str, cast: Callable = str) -> list:
    try:
        items = [cast(item) for item in text.split(",") if item.strip()]
    except ValueError as exc:
        raise InputError(
            f"--{name} must be a comma-separated list of numbers, got {text!r}"
        ) from exc
    if not items:
        raise InputError(f"--{name} is empty")
    return items


def _positive(values: list[int], name: str) -> list[int]:
    bad = [v for v in values if v < 1]
    if bad:
        raise InputError(f"--{name} values must be at least 1, got {bad[0]}")
    return values


def plan_from_args(args: argparse.Namespace) -> BenchPlan:
    """Validate the arguments: unknown or unavailable providers, bad modes and sizes fail here."""
    providers = _csv(args.providers, "providers") if args.providers else available_providers()
    resolve_providers(providers)  # names the missing provider and the install that brings it
    precisions = _csv(args.precision, "precision")  # names checked as they were parsed
    for precision in precisions:
        needed = required_provider(precision)
        if needed is not None and needed not in providers:
            raise InputError(
                f"--precision {precision} runs on OpenVINO: add {needed} to --providers"
            )
    variants = _csv(args.variants, "variants")
    modes = _csv(args.modes, "modes")
    if args.iterations < 1 or args.warmup < 0:
        raise InputError("--iterations must be at least 1 and --warmup at least 0")
    if args.mediapipe_bundles is not None:
        check_mediapipe(args.mediapipe_bundles, variants)
    if args.report is not None:
        require("matplotlib", "report", "blazepose bench --report")
    return BenchPlan(
        providers,
        precisions,
        variants,
        modes,
        _positive(_csv(args.batch, "batch", int), "batch"),
        _positive(_csv(args.streams, "streams", int), "streams"),
        _positive(_csv(args.people, "people", int), "people"),
        args.warmup,
        args.iterations,
        args.mediapipe_bundles,
    )


def _write(results: list[CaseResult], args: argparse.Namespace) -> str:
    """Write the outputs asked for; the report page is built from the very JSON text written."""
    machine = machine_info()
    table = markdown_table(results, machine)
    run = run_info(sys.argv[1:], args.warmup, args.iterations, args.image, args.video)
    document = run_document(results, machine, run) + "\n"
    for target, text in ((args.markdown, table + "\n"), (args.json, document)):
        if target == "-":
            sys.stdout.write(text)
        elif target:
            write_bytes_atomic(target, text.encode())
    if args.report:
        from blazepose_onnx.report.output import write_run_report

        write_run_report(args.report, document)
    return table


def run_bench(args: argparse.Namespace) -> int:
    """`blazepose bench`: check every case first, time them with progress on stderr, print the
    table; a case that fails still leaves the finished ones in the outputs."""
    plan = plan_from_args(args)
    images = [read_image(args.image)]
    frames = read_frames(str(args.video), limit=VIDEO_FRAMES)
    cases = plan.cases(images, frames)
    results: list[CaseResult] = []
    try:
        for k, case in enumerate(cases, 1):
            print(f"bench [{k}/{len(cases)}] {case.label}", file=sys.stderr, flush=True)
            results.append(case.run())
    except BaseException:
        outputs = [str(path) for path in (args.json, args.markdown, args.report) if path]
        if results and outputs:
            _write(results, args)
            print(
                f"bench: wrote the {counted(len(results), 'finished case')} to "
                f"{', '.join(outputs)}",
                file=sys.stderr,
            )
        raise
    table = _write(results, args)
    if args.markdown != "-":  # else the table is on stdout already
        print(table, file=sys.stderr if args.json == "-" else sys.stdout)
    return 0
