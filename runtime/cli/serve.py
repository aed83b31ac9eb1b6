"""`blazepose serve`: write a Triton model repository, or run Triton on one.

blazepose serve write-repo repo/ --variant full --num-poses 2 --kind gpu --instances 2
blazepose serve triton repo/                 # loopback; Ctrl-C or SIGTERM stops it
"""

from __future__ import annotations

import argparse
import signal
from typing import NoReturn

from blazepose_onnx.converter.command import Terminated
from blazepose_onnx.serving.repository import MODELS, RepositoryOptions, write_repository
from blazepose_onnx.serving.server import ServingError, TritonServer


def add_arguments(serve: argparse.ArgumentParser) -> None:
    actions = serve.add_subparsers(dest="serve_command", required=True)
    write = actions.add_parser("write-repo", help="write a Triton model repository")
    write.add_argument("out", help="repository folder (its pose_* models are replaced)")
    defaults = RepositoryOptions()
    for flag, field, kind, what in (
        ("model", "variant", str, "lite, full or heavy, as for detect and video"),
        ("num-poses", "num_poses", int, "most poses per image: the outputs' fixed slots "
         "(default: 1; required with --person-detector)"),
        ("min-detection-confidence", "min_pose_detection_confidence", float, "detector score"),
        ("min-presence-confidence", "min_pose_presence_confidence", float, "presence score"),
        ("min-tracking-confidence", "min_tracking_confidence", float, "ROI IoU of a track"),
        ("provider", "provider", str, "cpu, cuda, tensorrt, openvino, ..."),
        ("precision", "precision", str, "fp32 or fp16"),
        ("num-threads", "num_threads", int, "intra-op threads per model instance"),
        ("kind", "kind", str, "cpu (KIND_CPU) or gpu (KIND_GPU: the instance's GPU runs it)"),
        ("instances", "instances", int, "model instances (per GPU with --kind gpu)"),
        ("image-max-batch", "image_max_batch", int, "pose_image: largest dynamic batch"),
        ("image-queue-delay-us", "image_queue_delay_us", int, "pose_image: queue delay"),
        ("video-max-batch", "video_max_batch", int, "pose_video: most streams per step"),
        ("video-queue-delay-us", "video_queue_delay_us", int, "pose_video: queue delay"),
        ("idle-timeout-s", "idle_timeout_s", float, "pose_video: free a stream idle this long"),
        ("person-detector", "person_detector", str, "a built-in person detector (ssd) in place "
         "of the pose detector, its model copied in too"),
        ("person-detection-interval", "person_detection_interval", int, "pose_video with a "
         "person detector: most frames between detector runs"),
    ):  # fmt: skip
        default = getattr(defaults, field)
        aliases = ["--variant"] if flag == "model" else []  # the old name
        write.add_argument(
            f"--{flag}",
            *aliases,
            type=kind,
            default=default,
            dest=field,
            help=what if default is None else f"{what} (default: {default})",
        )
    write.add_argument("--masks", action="store_true", help="serve segmentation masks too")
    write.add_argument(
        "--gpus", default="", help="comma-separated GPU indices for --kind gpu (default: all)"
    )
    write.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated models to write (default: {','.join(MODELS)})",
    )
    write.set_defaults(run=run_write_repo)

    triton = actions.add_parser("triton", help="run tritonserver on a repository")
    triton.add_argument("repository", help="a repository from `blazepose serve write-repo`")
    triton.add_argument("--host", default="127.0.0.1", help="listen address (default: %(default)s)")
    triton.add_argument("--http-port", type=int, default=8000, help="(default: %(default)s)")
    triton.add_argument("--grpc-port", type=int, default=8001, help="(default: %(default)s)")
    triton.add_argument("--metrics-port", type=int, default=8002, help="(default: %(default)s)")
    triton.add_argument("--log", help="server log file (default: in a temporary workspace)")
    triton.set_defaults(run=run_triton)


def run_write_repo(args: argparse.Namespace) -> int:
    options = RepositoryOptions(
        **{
            name: getattr(args, name)
            for name in RepositoryOptions.__dataclass_fields__
            if name not in ("gpus", "models")
        },
        gpus=tuple(int(g) for g in args.gpus.split(",") if g),
        models=tuple(m for m in args.models.split(",") if m),
    )
    out = write_repository(args.out, options)
    print(f"wrote {', '.join(options.models)} to {out}")
    return 0


def run_triton(args: argparse.Namespace) -> NoReturn:
    """Serve until Ctrl-C (exit 130) or SIGTERM (143); a server that exits by itself is an
    error, reported with its log's tail on stderr. SIGINT stops it even where the shell started
    it ignoring SIGINT (`blazepose serve triton repo/ &` in a script)."""
    server = TritonServer(
        args.repository, args.host, args.http_port, args.grpc_port, args.metrics_port, args.log
    )
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _serve(server)
    finally:
        signal.signal(signal.SIGINT, previous)


def _serve(server: TritonServer) -> NoReturn:
    """Start `server`, say where it listens, and wait for a signal or its exit."""
    with server:
        ends = server.endpoints
        print(f"ready: HTTP {ends.http}, gRPC {ends.grpc}, metrics {ends.metrics}", flush=True)
        print(f"server log: {server.log_path}", flush=True)
        try:
            returncode = server.process.wait()
        except (KeyboardInterrupt, Terminated):
            server.stop()
            print("stopped", flush=True)
            raise  # run_command: 130 or 143
        raise ServingError(f"tritonserver exited ({returncode}):\n{server.log_tail()}")
