"""The options of `blazepose bench`, apart from the benchmark itself so that building the
command line's parser imports nothing heavy."""

from __future__ import annotations

import argparse
from pathlib import Path

from blazepose_onnx.bench.results import MODES, VIDEO_FRAMES
from blazepose_onnx.cli.arguments import listed
from blazepose_onnx.converter import VARIANTS
from blazepose_onnx.options import PRECISIONS


def add_arguments(command: argparse.ArgumentParser, image: Path, video: Path) -> None:
    """The `blazepose bench` options; `image` and `video` are the default inputs; the
    `report` and `compare` subcommands read its JSON instead of timing."""
    pages = command.add_subparsers(dest="bench_command", metavar="{report,compare}")
    report = pages.add_parser("report", help="the page of one run from its --json, rebuilt")
    compare = pages.add_parser("compare", help="runs side by side: ratios against the first")
    page_options = [
        report.add_argument(
            "run_json", type=Path, metavar="JSON", help="a `blazepose bench --json` file"
        ),
        report.add_argument(
            "--out", type=Path, required=True, metavar="DIR", help="writes DIR/index.html"
        ),
        compare.add_argument(
            "runs", type=Path, nargs="+", metavar="JSON", help="bench --json files"
        ),
        compare.add_argument(
            "--report", dest="page", type=Path, metavar="DIR", help="writes DIR/index.html"
        ),
    ]
    command.set_defaults(page_options=frozenset(o.dest for o in page_options) | {"bench_command"})
    command.add_argument(
        "--providers", help="comma-separated (default: every provider that runs here)"
    )
    command.add_argument(
        "--precision",
        type=listed(PRECISIONS, "precision"),
        default="fp32",
        help="comma-separated fp32, fp16, bf16; bf16 times the openvino cases only "
        "(default: %(default)s)",
    )
    command.add_argument(
        "--model",
        "--variants",
        dest="variants",
        type=listed(VARIANTS, "model"),
        metavar="MODELS",
        default="full",
        help="comma-separated lite,full,heavy, as --model of detect and video (--variants: the "
        "old name) (default: %(default)s)",
    )
    command.add_argument(
        "--modes",
        type=listed(MODES, "mode"),
        default="image,video",
        help=f"of {', '.join(MODES)} (default: %(default)s)",
    )
    command.add_argument(
        "--batch", default="1", help="IMAGE-mode batch sizes, e.g. 1,4 (default: %(default)s)"
    )
    command.add_argument(
        "--streams", default="1", help="VIDEO-mode stream counts, e.g. 1,2 (default: %(default)s)"
    )
    command.add_argument(
        "--people",
        default="1,2,4",
        help="people mode: people per frame, e.g. 1,2,4: copies of --video side by side, "
        "tracked with --person-detector ssd (default: %(default)s)",
    )
    command.add_argument(
        "--iterations", type=int, default=100, help="timed steps per case (default: %(default)s)"
    )
    command.add_argument(
        "--warmup", type=int, default=10, help="untimed steps first (default: %(default)s)"
    )
    command.add_argument(
        "--image", type=Path, default=image, help="photo to time (default: the shipped sample)"
    )
    command.add_argument(
        "--video",
        type=Path,
        default=video,
        help=f"clip to time, first {VIDEO_FRAMES} frames (default: the shipped sample)",
    )
    command.add_argument(
        "--mediapipe-bundles",
        type=Path,
        help="folder of MediaPipe-loadable pose_landmarker_<variant>.task: time MediaPipe too",
    )
    command.add_argument("--json", help="write the results as JSON ('-': stdout)")
    command.add_argument(
        "--markdown", help="write the table as Markdown ('-': stdout; the table is printed anyway)"
    )
    command.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="write DIR/index.html, a page with charts, and DIR/bench.json it is built from "
        "(the [report] extra)",
    )


def ignored_timing_options(args: argparse.Namespace, command: argparse.ArgumentParser) -> list[str]:
    """The timing options given to `bench report`/`bench compare`, which time nothing."""
    defaults = vars(command.parse_args([]))
    return [
        f"--{name.replace('_', '-')}"
        for name, default in defaults.items()
        if name not in args.page_options and vars(args).get(name) != default
    ]
