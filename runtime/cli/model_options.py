"""The landmarker's options on the command line, in one place: the arguments `detect`,
`video`, `extract` and `serve write-repo` take (`add_model_options`), and the one mapping from
them to PoseLandmarkerOptions (`landmarker_options`), whose rules (known providers, the
precision's provider, a person detector that exists) decide; a bad value is a usage error of
the command (exit code 2) naming its option."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from blazepose_onnx.cli.arguments import int_in, model, quarter_turns, unit_interval
from blazepose_onnx.common.install import require_onnxruntime
from blazepose_onnx.options import (
    DEFAULT_PERSON_DETECTION_INTERVAL,
    MAX_NUM_POSES,
    PRECISIONS,
    PoseLandmarkerOptions,
    known_person_detector,
    required_provider,
)
from blazepose_onnx.pipeline.builtin_detectors import BUILTIN_PERSON_DETECTORS


def add_model_options(
    command: argparse.ArgumentParser,
    rotate: bool = True,
    model_aliases: Sequence[str] = (),
    served: bool = False,
) -> None:
    """The landmarker's options on `command`; `rotate`: with --rotate (a per-call argument,
    not an option of the landmarker); `model_aliases`: other names of --model; `served`: for a
    served repository (fixed-size outputs)."""
    command.add_argument(
        "--model",
        *model_aliases,
        dest="model",
        type=model,
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
        type=int_in(1),
        help="ONNX Runtime intra-op threads per model (default: $BLAZEPOSE_NUM_THREADS where set, "
        "else one per core)",
    )
    command.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp32; fp16 (compute models for GPUs); bf16 (opt-in, with --provider openvino on "
        "a CPU with native bfloat16: faster, landmarks drift; docs/backends.md#bf16) "
        "(default: %(default)s)",
    )
    command.add_argument(
        "--num-poses",
        type=int_in(1, MAX_NUM_POSES),
        help=f"most poses per image, 1 to {MAX_NUM_POSES} (default: 1, MediaPipe's; with "
        + (
            "--person-detector it must be given: the outputs' fixed slots)"
            if served
            else f"--person-detector, everyone up to {MAX_NUM_POSES})"
        ),
    )
    for name, what in (
        ("detection", "the pose detector's score"),
        ("presence", "the landmarker's pose presence score"),
        ("tracking", "ROI overlap (IoU) that keeps a tracked pose in video modes"),
    ):
        command.add_argument(
            f"--min-{name}-confidence",
            type=unit_interval,
            default=0.5,
            help=f"minimum {what}, in [0, 1] (default: %(default)s)",
        )
    command.add_argument(
        "--person-detector",
        metavar="{ssd,MODEL.onnx}",
        help="a person detector in place of MediaPipe's pose detector, which finds few people: "
        "ssd (MediaPipe's SSD person detector, fetched on first use) or a YOLO-layout ONNX file "
        "(docs/people.md)",
    )
    command.add_argument(
        "--person-detection-interval",
        type=int_in(1),
        default=DEFAULT_PERSON_DETECTION_INTERVAL,
        metavar="FRAMES",
        help="with --person-detector in video and extract: the most frames between person "
        "detector runs while everyone is tracked (default: %(default)s)",
    )
    if rotate:
        command.add_argument(
            "--rotate",
            type=quarter_turns,
            default=0,
            help="clockwise degrees (a multiple of 90) that make people upright (default: 0)",
        )


def landmarker_options(args: argparse.Namespace, validated: bool = True) -> PoseLandmarkerOptions:
    """The landmarker options the model arguments ask for (checked: exit code 2 naming the
    option where the options' rules refuse it), `validated()` unless `validated` is False (for
    a caller whose own rules read them as given, e.g. an unset num_poses). Needs an ONNX Runtime
    build (MissingRuntimeError naming the install otherwise)."""
    require_onnxruntime()
    from blazepose_onnx.backend.providers import known_provider
    from blazepose_onnx.errors import ProviderError

    try:
        known_provider(args.provider)
    except ProviderError as exc:
        args.parser.error(f"--provider: {exc}")
    needed = required_provider(args.precision)
    if needed is not None and args.provider != needed:
        args.parser.error(
            f"--precision {args.precision} runs on OpenVINO's CPU plugin: add --provider "
            f"{needed} (the [{needed}] install)"
        )
    detector = args.person_detector
    if detector is not None and not known_person_detector(detector):
        args.parser.error(
            f"--person-detector: no such file: {detector} (built-in detectors: "
            f"{', '.join(BUILTIN_PERSON_DETECTORS)})"
        )
    options = PoseLandmarkerOptions(
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
        person_detector=args.person_detector,
        person_detection_interval=args.person_detection_interval,
    )
    return options.validated() if validated else options
