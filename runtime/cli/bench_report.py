"""`blazepose bench report` and `blazepose bench compare`: pages from bench JSON, no timing."""

from __future__ import annotations

import argparse

from blazepose_onnx.common.install import require


def run_report(args: argparse.Namespace) -> int:
    """Rebuild one run's page from its JSON alone."""
    require("matplotlib", "report", "blazepose bench report")
    from blazepose_onnx.bench.results import read_run
    from blazepose_onnx.report.output import write_run_report

    run = read_run(args.run_json)
    print(write_run_report(args.out, run.text, run.name))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    """Print each later run's ratios against the first and, with --report, write the page."""
    from blazepose_onnx.bench.results import ReportError, read_runs
    from blazepose_onnx.report.compare import faster_or_slower, notes, pairs

    if len(args.runs) < 2:
        raise ReportError("bench compare needs at least two bench JSON files")
    if args.page is not None:
        require("matplotlib", "report", "blazepose bench compare --report")
    runs = read_runs(args.runs)
    for line in notes(runs):
        print(f"note: {line}")
    for run in runs[1:]:
        for pair in pairs(runs[0], run):
            print(
                f"{pair.base.label}: {run.name} {pair.other.p('total', 'p50'):.2f} ms vs "
                f"{pair.base.p('total', 'p50'):.2f} ms, {faster_or_slower(pair.time_ratio)}"
            )
    if args.page is not None:
        from blazepose_onnx.report.output import write_compare_report

        print(write_compare_report(args.page, runs))
    return 0
