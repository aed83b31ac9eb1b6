"""`blazepose`: pose landmarks from the command line (detect, video, extract, providers, bench,
serve).

Building the parser imports nothing heavy, so `--version` and `--help` are quick and work
without an ONNX Runtime build; each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from blazepose_onnx._version import __version__
from blazepose_onnx.cli import bench_arguments, serve
from blazepose_onnx.cli.arguments import (
    int_in,
    positive_float,
    refuse_two_on_stdout,
)
from blazepose_onnx.cli.command import run_command
from blazepose_onnx.cli.model_options import add_model_options, landmarker_options
from blazepose_onnx.common.install import require_onnxruntime
from blazepose_onnx.landmarks import KEYPOINT_SETS
from blazepose_onnx.samples import IMAGE, VIDEO


def _boxes_file(args: argparse.Namespace, read: Callable[[str], dict]) -> dict:
    """The --person-boxes table ({} without one); a bad file is a usage error naming it."""
    from blazepose_onnx.cli.boxes_file import BoxesFileError

    if args.person_boxes is None:
        return {}
    try:
        return read(args.person_boxes)
    except BoxesFileError as exc:
        parser: argparse.ArgumentParser = args.parser
        parser.error(f"--person-boxes: {exc}")


# detect, video and extract check their options (and that an ONNX Runtime build is installed)
# before importing the pipeline, which imports onnxruntime.


def cmd_detect(args: argparse.Namespace) -> int:
    refuse_two_on_stdout(args, ("json", "csv"))
    options = landmarker_options(args)
    from blazepose_onnx.cli.boxes_file import image_boxes
    from blazepose_onnx.cli.detect import run_detect

    args.boxes = _boxes_file(args, image_boxes)
    return run_detect(args, options)


def cmd_video(args: argparse.Namespace) -> int:
    refuse_two_on_stdout(args, ("jsonl", "csv"))
    options = landmarker_options(args)
    from blazepose_onnx.cli.boxes_file import frame_boxes
    from blazepose_onnx.cli.video import run_video

    args.boxes = _boxes_file(args, frame_boxes)
    return run_video(args, options)


def cmd_extract(args: argparse.Namespace) -> int:
    if args.engine != "ray":
        for flag in ("address", "gpus_per_worker", "connect_timeout"):
            if getattr(args, flag) is not None:
                args.parser.error(f"--{flag.replace('_', '-')} is for --engine ray")
    options = landmarker_options(args)
    from blazepose_onnx.cli.extract import run_extract

    return run_extract(args, options)


def cmd_providers(args: argparse.Namespace) -> int:
    if args.person_detector is not None and args.model is None:
        args.parser.error("--person-detector is for --model: it adds that model's placement")
    require_onnxruntime()
    import onnxruntime as ort

    from blazepose_onnx.backend.providers import PROVIDERS, resolve_providers, unavailable_reason

    (auto,) = resolve_providers(["auto"])
    print(f"onnxruntime {ort.__version__}; 'auto' picks: {auto.name}")
    for name in PROVIDERS:
        reason = unavailable_reason(name)
        print(f"  {name:<9} {'available' if reason is None else 'unavailable: ' + reason}")
    if args.model is not None:
        from blazepose_onnx.cli.placement_table import print_placement

        print_placement(args.model, args.precision, args.person_detector)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.bench_command is not None:  # report, compare: pages from JSON, no runtime needed
        from blazepose_onnx.cli import bench_report
        from blazepose_onnx.cli.bench_arguments import ignored_timing_options

        given = ignored_timing_options(args, args.parser)
        if given:
            args.parser.error(
                f"bench {args.bench_command} reads JSON and times nothing: "
                f"{', '.join(given)} would be ignored (they are for a timed run: "
                "blazepose bench ... --json FILE)"
            )

        return getattr(bench_report, f"run_{args.bench_command}")(args)
    refuse_two_on_stdout(args, ("json", "markdown"))
    require_onnxruntime()
    from blazepose_onnx.cli import bench

    return bench.run_bench(args)


def _display_options(command: argparse.ArgumentParser) -> None:
    """Options of detect and video only: person boxes, exported keypoints, the window."""
    command.add_argument(
        "--person-boxes",
        metavar="BOXES.json",
        help="person boxes to take poses from: {image path or name: [[x1, y1, x2, y2], ...]} for "
        "detect, {frame index: [...]} for video; pixels, before --rotate "
        "(docs/people.md#person-boxes)",
    )
    command.add_argument(
        "--keypoints",
        choices=list(KEYPOINT_SETS),
        default="mediapipe33",
        help="landmarks in the JSON, JSON Lines and CSV exports: MediaPipe's 33, or the 17 "
        "COCO keypoints in COCO's order (docs/cli.md#exports) (default: %(default)s)",
    )
    command.add_argument(
        "--show",
        action="store_true",
        help="show the annotated frames in a window (needs a display and OpenCV with GUI "
        "support; q or Esc stops)",
    )


def _detect_parser(commands: argparse._SubParsersAction) -> None:
    detect = commands.add_parser("detect", help="landmarks of the people in images (IMAGE mode)")
    detect.add_argument("images", nargs="*", help="image files, glob patterns or directories")
    add_model_options(detect)
    _display_options(detect)
    detect.add_argument(
        "--masks",
        nargs="?",
        const=True,
        default=False,
        metavar="DIR",
        help="compute segmentation masks and draw them; with DIR, also write one PNG per image "
        "and pose (<name>_mask<k>.png, 0-255); an image file given here counts as an input",
    )
    detect.add_argument("--json", help="results as JSON to this file ('-': stdout; the default)")
    detect.add_argument("--csv", help="results as CSV, one row per pose and landmark ('-': stdout)")
    detect.add_argument(
        "--annotate",
        help="folder for annotated images, each in its input's format (<name>_pose.jpg for a "
        "JPEG, .png for a PNG, ...)",
    )
    detect.add_argument(
        "--quality",
        type=int_in(1, 100),
        default=95,
        help="JPEG and WebP quality of annotated images, 1 to 100 (default: %(default)s)",
    )
    detect.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first unreadable image and write nothing (default: skip it, name it "
        "on stderr, write the other results and exit 4)",
    )
    detect.set_defaults(run=cmd_detect, parser=detect)


def _command_with_inputs(
    commands: argparse._SubParsersAction, name: str, what: str, metavar: str, inputs: str
) -> argparse.ArgumentParser:
    """A subcommand taking one or more inputs (in `args.<metavar>s`)."""
    command = commands.add_parser(name, help=what)
    command.add_argument(f"{metavar}s", nargs="+", metavar=metavar, help=inputs)
    return command


def _video_parser(commands: argparse._SubParsersAction) -> None:
    video = _command_with_inputs(
        commands,
        "video",
        "landmarks through videos, streams or a camera (VIDEO mode)",
        "input",
        "video files, folders, glob patterns, stream URLs (rtsp://, http://, ...) or a camera "
        "index such as 0",
    )
    add_model_options(video)
    _display_options(video)
    video.add_argument(
        "--masks", action="store_true", help="compute segmentation masks and draw them"
    )
    video.add_argument(
        "--live",
        action="store_true",
        help="LIVE_STREAM mode: frames that arrive while one is processed are dropped",
    )
    for flag, what in (
        ("--out", "annotated video (.mp4; H.264 when PyAV is installed, else MPEG-4 Part 2)"),
        ("--jsonl", "per-frame results as JSON Lines"),
        ("--csv", "per-frame results as CSV, one row per pose and landmark"),
    ):
        video.add_argument(
            flag,
            help=f"{what}; with several inputs (or an existing folder) a folder holding one "
            "file per input",
        )
    video.add_argument(
        "--max-frames", type=int_in(1), help="stop after this many frames (default: all)"
    )
    sampling = video.add_mutually_exclusive_group()
    sampling.add_argument(
        "--stride", type=int_in(1), default=1, help="process every Nth frame (default: 1)"
    )
    sampling.add_argument(
        "--fps",
        type=positive_float,
        help="process frames at most at this rate, in video time (default: every frame)",
    )
    video.add_argument(
        "--allow-truncated",
        action="store_true",
        help="exit 0 when a file ends before its stated frame count (default: exit 3)",
    )
    video.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first input that cannot be read (default: go on with the others "
        "and exit 4)",
    )
    video.add_argument("--quiet", action="store_true", help="no progress bar")
    video.set_defaults(run=cmd_video, parser=video)


def _extract_parser(commands: argparse._SubParsersAction) -> None:
    what = "poses of a dataset's photos and videos into Parquet, resumable"
    sources = "photo and video files, folders (recursive), glob patterns, or @list.txt (one "
    extract = _command_with_inputs(commands, "extract", what, "source", sources + "path a line)")
    extract.add_argument("--out", required=True, help="dataset folder (or a pyarrow.fs URI)")
    add_model_options(extract)
    extract.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local worker processes, or tasks on a Ray cluster (default: %(default)s)",
    )
    extract.add_argument(
        "--workers",
        type=int_in(1),
        help="worker processes (ray: tasks at a time) (default: the cores divided by "
        "--num-threads, which defaults to 1 per worker)",
    )
    extract.add_argument(
        "--address",
        help="Ray cluster: auto, HOST:PORT or ray://... (default: RAY_ADDRESS or a "
        "new local cluster)",
    )
    extract.add_argument(
        "--connect-timeout",
        type=positive_float,
        metavar="SECONDS",
        help="how long to wait for the Ray cluster at --address (or RAY_ADDRESS) before "
        "giving up with an error naming it (default: 30)",
    )
    extract.add_argument(
        "--gpus-per-worker",
        type=positive_float,
        help="GPUs each Ray task reserves, fractions allowed (default: none)",
    )
    extract.add_argument(
        "--allow-truncated",
        action="store_true",
        help="exit 0 when the only problem is videos that ended before their video stream "
        "(default: exit 3, as `blazepose video`)",
    )
    redo = extract.add_mutually_exclusive_group()
    redo.add_argument(
        "--retry-failed", action="store_true", help="redo the sources that failed before"
    )
    redo.add_argument(
        "--overwrite", action="store_true", help="remove what --out holds and start over"
    )
    extract.set_defaults(run=cmd_extract, parser=extract, masks=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blazepose", description="MediaPipe pose landmarks on ONNX Runtime."
    )
    parser.add_argument("--version", action="version", version=f"blazepose-onnx {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details and library messages"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _detect_parser(commands)
    _video_parser(commands)
    _extract_parser(commands)

    providers = commands.add_parser("providers", help="execution providers this machine has")
    providers.add_argument(
        "--model",
        help="also build this model's sessions (lite, full, heavy, a .task or a folder) on "
        "each available provider and print how many of each model's nodes it runs",
    )
    providers.add_argument(
        "--precision", choices=("fp32", "fp16"), default="fp32", help="with --model: its precision"
    )
    providers.add_argument(
        "--person-detector",
        metavar="{ssd,MODEL.onnx}",
        help="with --model: also the placement of this person detector's session",
    )
    providers.set_defaults(run=cmd_providers, parser=providers)

    serve_cmd = commands.add_parser("serve", help="serve on NVIDIA Triton (write-repo, triton)")
    serve.add_arguments(serve_cmd)

    bench_cmd = commands.add_parser("bench", help="time providers x variants x modes x batch sizes")
    bench_arguments.add_arguments(bench_cmd, IMAGE, VIDEO)
    bench_cmd.set_defaults(run=cmd_bench, parser=bench_cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, "(or pass it with --model PATH.task).")


if __name__ == "__main__":
    sys.exit(main())
