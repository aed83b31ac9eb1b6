"""`blazepose`: pose landmarks from the command line (detect, video, providers, bench)."""

from __future__ import annotations

import argparse
import sys

import onnxruntime as ort

from blazepose_onnx import __version__, samples
from blazepose_onnx.cli import bench, serve
from blazepose_onnx.cli.detect import run_detect
from blazepose_onnx.cli.video import run_video
from blazepose_onnx.converter.command import run_command
from blazepose_onnx.converter.errors import ConverterError
from blazepose_onnx.inputs import InputError
from blazepose_onnx.options import PRECISIONS, PoseLandmarkerOptions
from blazepose_onnx.providers import PROVIDERS, resolve_providers, unavailable_reason
from blazepose_onnx.quiet import silence_opencv_logging
from blazepose_onnx.serving.server import ServingError


def _options(args: argparse.Namespace) -> PoseLandmarkerOptions:
    return PoseLandmarkerOptions(
        model=args.model,
        num_poses=args.num_poses,
        min_pose_detection_confidence=args.min_detection_confidence,
        min_pose_presence_confidence=args.min_presence_confidence,
        min_tracking_confidence=args.min_tracking_confidence,
        output_segmentation_masks=bool(args.masks),
        providers=[args.provider],
        provider_fallback=args.provider_fallback,
        num_threads=args.num_threads,
        precision=args.precision,
        trust_unverified=args.trust_unverified,
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


def cmd_bench(args: argparse.Namespace) -> int:
    return bench.run_bench(args)


def _model_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--model",
        default="full",
        help="lite, full, heavy, a .task bundle or a folder with detector.onnx and "
        "landmarker.onnx (default: %(default)s)",
    )
    command.add_argument(
        "--trust-unverified",
        action="store_true",
        help="accept a .task whose weights match no known model (your own or fine-tuned "
        "bundle), converting it on first use",
    )
    command.add_argument(
        "--provider",
        default="cpu",
        help="execution provider: cpu, cuda, tensorrt, openvino, coreml, directml or auto "
        "(default: %(default)s; see `blazepose providers`)",
    )
    command.add_argument(
        "--provider-fallback",
        action="store_true",
        help="accept ONNX Runtime falling back to the CPU when the provider cannot run "
        "(warns; default: an error)",
    )
    command.add_argument(
        "--num-threads",
        type=int,
        help="ONNX Runtime intra-op threads per model (default: all cores)",
    )
    command.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp32; fp16 (compute models for GPUs); bf16 (opt-in, with --provider openvino on "
        "a CPU with native bfloat16: faster, landmarks drift; README, Speed) "
        "(default: %(default)s)",
    )
    command.add_argument(
        "--num-poses", type=int, default=1, help="most poses per image (default: %(default)s)"
    )
    for name, what in (
        ("detection", "the pose detector's score"),
        ("presence", "the landmarker's pose presence score"),
        ("tracking", "ROI overlap (IoU) that keeps a tracked pose in video modes"),
    ):
        command.add_argument(
            f"--min-{name}-confidence",
            type=float,
            default=0.5,
            help=f"minimum {what}, in [0, 1] (default: %(default)s)",
        )
    command.add_argument(
        "--rotate",
        type=int,
        default=0,
        help="clockwise degrees (a multiple of 90) that make people upright (default: 0)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blazepose", description="MediaPipe pose landmarks on ONNX Runtime."
    )
    parser.add_argument("--version", action="version", version=f"blazepose-onnx {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details and library messages"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    detect = commands.add_parser("detect", help="landmarks of the people in images (IMAGE mode)")
    detect.add_argument("images", nargs="+", help="image files, glob patterns or directories")
    _model_options(detect)
    detect.add_argument(
        "--masks",
        nargs="?",
        const=True,
        default=False,
        metavar="DIR",
        help="compute segmentation masks and draw them; with DIR, also write one PNG per image "
        "and pose (<name>_mask<k>.png, 0-255); give it after the images",
    )
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
        "--masks", action="store_true", help="compute segmentation masks and draw them"
    )
    video.add_argument(
        "--live",
        action="store_true",
        help="LIVE_STREAM mode: frames that arrive while one is processed are dropped",
    )
    video.add_argument(
        "--out", help="annotated video (.mp4; H.264 when PyAV is installed, else MPEG-4 Part 2)"
    )
    video.add_argument("--jsonl", help="per-frame results as JSON Lines")
    video.add_argument("--csv", help="per-frame results as CSV, one row per pose and landmark")
    video.add_argument("--max-frames", type=int, help="stop after this many frames (default: all)")
    video.add_argument(
        "--allow-truncated",
        action="store_true",
        help="exit 0 when a file ends before its stated frame count (default: exit 3)",
    )
    video.add_argument("--quiet", action="store_true", help="no progress bar")
    video.set_defaults(run=cmd_video)

    providers = commands.add_parser("providers", help="execution providers this machine has")
    providers.set_defaults(run=cmd_providers)

    serve_cmd = commands.add_parser("serve", help="serve on NVIDIA Triton (write-repo, triton)")
    serve.add_arguments(serve_cmd)

    bench_cmd = commands.add_parser("bench", help="time providers x variants x modes x batch sizes")
    bench.add_arguments(bench_cmd, samples.IMAGE, samples.VIDEO)
    bench_cmd.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    silence_opencv_logging()  # errors are ours, one line
    return run_command(
        build_parser(),
        argv,
        (InputError, ConverterError, ServingError, ValueError, TypeError, OSError),
        "(or pass it with --model PATH.task).",
    )


if __name__ == "__main__":
    sys.exit(main())
