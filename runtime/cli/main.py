"""`blazepose`: pose landmarks from the command line (detect, video, providers, bench)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import onnxruntime as ort
from blazepose_onnx import samples
from blazepose_onnx.cli import bench
from blazepose_onnx.cli.detect import run_detect
from blazepose_onnx.cli.video import run_video
from blazepose_onnx.converter.command import run_command
from blazepose_onnx.converter.errors import ConverterError
from blazepose_onnx.converter.fileio import write_bytes_atomic
from blazepose_onnx.inputs import InputError, read_frames, read_image
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.providers import (
    PROVIDERS,
    available_providers,
    resolve_providers,
    unavailable_reason,
)


def _options(args: argparse.Namespace) -> PoseLandmarkerOptions:
    return PoseLandmarkerOptions(
        model=args.model,
        num_poses=args.num_poses,
        min_pose_detection_confidence=args.min_detection_confidence,
        min_pose_presence_confidence=args.min_presence_confidence,
        min_tracking_confidence=args.min_tracking_confidence,
        output_segmentation_masks=args.masks,
        providers=[args.provider],
    ).validated()


def cmd_detect(args: argparse.Namespace) -> int:
    return run_detect(args, _options(args))


def cmd_video(args: argparse.Namespace) -> int:
    return run_video(args, _options(args))


def cmd_providers(args: argparse.Namespace) -> int:
    ((auto, _, _),) = resolve_providers(["auto"])
    print(f"onnxruntime {ort.__version__}; 'auto' picks: {auto}")
    for name in PROVIDERS:
        reason = unavailable_reason(name)
        print(f"  {name:<9} {'available' if reason is None else 'unavailable: ' + reason}")
    return 0


def _csv(text: str, cast=str) -> list:
    return [cast(item) for item in text.split(",") if item]


def cmd_bench(args: argparse.Namespace) -> int:
    images = [read_image(args.image)]
    frames = read_frames(str(args.video), limit=120)
    providers = _csv(args.providers) if args.providers else available_providers()
    modes = _csv(args.modes)
    unknown = set(modes) - {"image", "video", "video-parallel"}
    if unknown:
        raise InputError(
            f"unknown mode(s) {', '.join(sorted(unknown))}: use image, video, video-parallel"
        )
    results = []
    for provider in providers:
        for variant in _csv(args.variants):
            if "image" in modes:
                results += [
                    bench.bench_image(provider, variant, images, b, args.warmup, args.iterations)
                    for b in _csv(args.batch, int)
                ]
            if "video" in modes:
                results += [
                    bench.bench_video(provider, variant, frames, n, args.warmup, args.iterations)
                    for n in _csv(args.streams, int)
                ]
            if "video-parallel" in modes:
                results += [
                    bench.bench_parallel_video(provider, variant, frames, n, args.iterations)
                    for n in _csv(args.streams, int)
                    if n > 1
                ]
    if args.mediapipe_bundles:
        for variant in _csv(args.variants):
            for mode in sorted({m.replace("-parallel", "") for m in modes}):
                result = bench.bench_mediapipe(
                    Path(args.mediapipe_bundles),
                    variant,
                    mode,
                    images,
                    frames,
                    args.warmup,
                    args.iterations,
                )
                if result is None:
                    print(
                        "MediaPipe is not installed or cannot load these bundles", file=sys.stderr
                    )
                else:
                    results.append(result)
    machine = bench.machine_info()
    table = bench.to_markdown(results, machine)
    print(table)
    if args.markdown:
        write_bytes_atomic(args.markdown, (table + "\n").encode())
    if args.json:
        write_bytes_atomic(args.json, (bench.to_json(results, machine) + "\n").encode())
    return 0


def _model_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--model", default="full", help="lite, full, heavy, a .task bundle or an ONNX directory"
    )
    command.add_argument(
        "--provider", default="cpu", help="execution provider (see `blazepose providers`)"
    )
    command.add_argument("--num-poses", type=int, default=1)
    command.add_argument("--min-detection-confidence", type=float, default=0.5)
    command.add_argument("--min-presence-confidence", type=float, default=0.5)
    command.add_argument("--min-tracking-confidence", type=float, default=0.5)
    command.add_argument(
        "--masks", action="store_true", help="compute segmentation masks (and draw them)"
    )
    command.add_argument(
        "--rotate", type=int, default=0, help="clockwise degrees that make people upright"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blazepose", description="MediaPipe pose landmarks on ONNX Runtime."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)

    detect = commands.add_parser("detect", help="landmarks of the people in images (IMAGE mode)")
    detect.add_argument("images", nargs="+", help="image files, glob patterns or directories")
    _model_options(detect)
    detect.add_argument("--json", help="results as JSON to this file ('-': stdout; the default)")
    detect.add_argument("--csv", help="results as CSV, one row per pose and landmark")
    detect.add_argument("--annotate", help="folder for annotated images (<name>_pose.png)")
    detect.set_defaults(run=cmd_detect)

    video = commands.add_parser(
        "video", help="landmarks through a video file or camera (VIDEO mode)"
    )
    video.add_argument("input", help="video file, or a camera index such as 0")
    _model_options(video)
    video.add_argument(
        "--live", action="store_true", help="LIVE_STREAM mode (frames may be dropped)"
    )
    video.add_argument("--out", help="annotated video (.mp4)")
    video.add_argument("--jsonl", help="per-frame results as JSON Lines")
    video.add_argument("--csv", help="per-frame results as CSV, one row per pose and landmark")
    video.add_argument("--max-frames", type=int, help="stop after this many frames")
    video.add_argument("--quiet", action="store_true", help="no progress bar")
    video.set_defaults(run=cmd_video)

    providers = commands.add_parser("providers", help="execution providers this machine has")
    providers.set_defaults(run=cmd_providers)

    bench_cmd = commands.add_parser("bench", help="time providers x variants x modes x batch sizes")
    bench_cmd.add_argument("--providers", help="comma-separated (default: every available one)")
    bench_cmd.add_argument("--variants", default="full", help="comma-separated lite,full,heavy")
    bench_cmd.add_argument("--modes", default="image,video", help="image, video, video-parallel")
    bench_cmd.add_argument("--batch", default="1", help="IMAGE-mode batch sizes, e.g. 1,4")
    bench_cmd.add_argument("--streams", default="1", help="VIDEO-mode stream counts, e.g. 1,2")
    bench_cmd.add_argument("--iterations", type=int, default=100)
    bench_cmd.add_argument("--warmup", type=int, default=10)
    bench_cmd.add_argument("--image", type=Path, default=samples.IMAGE)
    bench_cmd.add_argument("--video", type=Path, default=samples.VIDEO)
    bench_cmd.add_argument(
        "--mediapipe-bundles", help="MediaPipe-loadable .task folder: time MediaPipe too"
    )
    bench_cmd.add_argument("--json", help="write the results as JSON")
    bench_cmd.add_argument("--markdown", help="write the table as Markdown")
    bench_cmd.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # errors are ours, one line
    return run_command(
        build_parser(), argv, (InputError, ConverterError, ValueError, TypeError, OSError)
    )


if __name__ == "__main__":
    sys.exit(main())
