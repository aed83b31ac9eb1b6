"""`blazepose`: run the pose landmarker from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2
import onnxruntime as ort

from converter.command import run_command
from converter.errors import ConverterError
from converter.fileio import write_bytes_atomic
from runtime import bench
from runtime.options import PoseLandmarkerOptions
from runtime.pose_landmarker import PoseLandmarker
from runtime.providers import AUTO_ORDER, PROVIDERS, available_providers, unavailable_reason

log = logging.getLogger("blazepose")


class CliError(Exception):
    """A user error reported as one line, exit code 2."""


def _read_image(path: Path):
    if not path.is_file():
        raise CliError(f"no such image file: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CliError(f"not a readable image: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def cmd_detect(args: argparse.Namespace) -> int:
    images = [(path, _read_image(path)) for path in args.images]
    options = PoseLandmarkerOptions(
        model=args.model,
        num_poses=args.num_poses,
        min_pose_detection_confidence=args.min_detection_confidence,
        min_pose_presence_confidence=args.min_presence_confidence,
        min_tracking_confidence=args.min_tracking_confidence,
        providers=[args.provider],
    )
    results = {}
    with PoseLandmarker.create_from_options(options) as landmarker:
        for path, image in images:
            result = landmarker.detect(image, rotation_degrees=args.rotate)
            results[str(path)] = {
                "width": image.shape[1],
                "height": image.shape[0],
                **result.to_dict(),
            }
            log.info("%s: %d pose(s)", path, len(result.pose_landmarks))
    text = json.dumps({"model": str(args.model), "images": results}, indent=1)
    if args.json in (None, "-"):
        print(text)
    else:
        write_bytes_atomic(args.json, (text + "\n").encode())
        print(
            f"wrote {args.json}: {sum(len(r['pose_landmarks']) for r in results.values())} pose(s) "
            f"in {len(results)} image(s)"
        )
    return 0


def cmd_providers(args: argparse.Namespace) -> int:
    available = available_providers()
    print(
        f"onnxruntime {ort.__version__}; 'auto' picks: "
        f"{next(p for p in AUTO_ORDER if p in available)}"
    )
    for name in PROVIDERS:
        reason = unavailable_reason(name)
        print(f"  {name:<9} {'available' if reason is None else 'unavailable: ' + reason}")
    return 0


def _read_video(path: Path, limit: int = 120) -> list:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    if not frames:
        raise CliError(f"no frames could be read from {path}")
    return frames


def _csv(text: str, cast=str) -> list:
    return [cast(item) for item in text.split(",") if item]


def cmd_bench(args: argparse.Namespace) -> int:
    images = [_read_image(args.image)]
    frames = _read_video(args.video)
    providers = _csv(args.providers) if args.providers else available_providers()
    results = []
    for provider in providers:
        for variant in _csv(args.variants):
            for mode in _csv(args.modes):
                if mode == "image":
                    results += [
                        bench.bench_image(
                            provider, variant, images, b, args.warmup, args.iterations
                        )
                        for b in _csv(args.batch, int)
                    ]
                elif mode == "video":
                    results += [
                        bench.bench_video(
                            provider, variant, frames, n, args.warmup, args.iterations
                        )
                        for n in _csv(args.streams, int)
                    ]
                elif mode == "video-parallel":
                    results += [
                        bench.bench_parallel_video(provider, variant, frames, n, args.iterations)
                        for n in _csv(args.streams, int)
                        if n > 1
                    ]
                else:
                    raise CliError(
                        f"unknown mode {mode!r}: expected image, video or video-parallel"
                    )
    if args.mediapipe_bundles:
        for variant in _csv(args.variants):
            for mode in {m.replace("-parallel", "") for m in _csv(args.modes)}:
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
                    log.warning(
                        "MediaPipe is not installed or cannot load the bundles in %s",
                        args.mediapipe_bundles,
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blazepose", description="MediaPipe pose landmarks on ONNX Runtime."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    detect = commands.add_parser("detect", help="landmarks of the people in images (IMAGE mode)")
    detect.add_argument("images", nargs="+", type=Path, help="image files")
    detect.add_argument(
        "--model", default="full", help="lite, full, heavy, a .task bundle or an ONNX directory"
    )
    detect.add_argument("--provider", default="cpu", help="execution provider (default: cpu)")
    detect.add_argument("--num-poses", type=int, default=1)
    detect.add_argument("--min-detection-confidence", type=float, default=0.5)
    detect.add_argument("--min-presence-confidence", type=float, default=0.5)
    detect.add_argument("--min-tracking-confidence", type=float, default=0.5)
    detect.add_argument(
        "--rotate", type=int, default=0, help="clockwise degrees that make people upright"
    )
    detect.add_argument("--json", help="write results to this file ('-' or omitted: stdout)")
    detect.set_defaults(run=cmd_detect)
    providers = commands.add_parser("providers", help="execution providers this machine has")
    providers.set_defaults(run=cmd_providers)
    sample = Path(__file__).resolve().parent.parent / "tests" / "data"
    bench_cmd = commands.add_parser("bench", help="time providers x variants x modes x batch sizes")
    bench_cmd.add_argument("--providers", help="comma-separated (default: every available one)")
    bench_cmd.add_argument("--variants", default="full", help="comma-separated lite,full,heavy")
    bench_cmd.add_argument("--modes", default="image,video", help="image, video, video-parallel")
    bench_cmd.add_argument("--batch", default="1", help="IMAGE-mode batch sizes, e.g. 1,4")
    bench_cmd.add_argument("--streams", default="1", help="VIDEO-mode stream counts, e.g. 1,2")
    bench_cmd.add_argument("--iterations", type=int, default=100)
    bench_cmd.add_argument("--warmup", type=int, default=10)
    bench_cmd.add_argument("--image", type=Path, default=sample / "messi5.jpg")
    bench_cmd.add_argument("--video", type=Path, default=sample / "squat.mp4")
    bench_cmd.add_argument(
        "--mediapipe-bundles", help="MediaPipe-loadable .task directory: time MediaPipe too"
    )
    bench_cmd.add_argument("--json", help="write the results as JSON")
    bench_cmd.add_argument("--markdown", help="write the table as Markdown")
    bench_cmd.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(
        build_parser(), argv, (CliError, ConverterError, ValueError, TypeError, OSError)
    )


if __name__ == "__main__":
    sys.exit(main())
