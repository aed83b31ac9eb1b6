"""`blazepose serve`: write a Triton model repository, or run Triton on one.

blazepose serve write-repo repo/ --model full --num-poses 2 --kind gpu --instances 2
blazepose serve triton repo/                 # loopback; Ctrl-C or SIGTERM stops it
"""

from __future__ import annotations

import argparse
import signal
from typing import NoReturn

from blazepose_onnx.cli.arguments import int_list
from blazepose_onnx.cli.command import Terminated
from blazepose_onnx.cli.model_options import add_model_options, landmarker_options
from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.serving.repository import MODELS, RepositoryOptions, write_repository
from blazepose_onnx.serving.server import ServingError, TritonServer


def add_arguments(serve: argparse.ArgumentParser) -> None:
    actions = serve.add_subparsers(dest="serve_command", required=True)
    write = actions.add_parser("write-repo", help="write a Triton model repository")
    write.add_argument("out", help="repository folder (its pose_* models are replaced)")
    # --variant: the old name of --model
    add_model_options(write, rotate=False, model_aliases=["--variant"], served=True)
    defaults = RepositoryOptions()
    for flag, field, kind, what in (
        ("kind", "kind", str, "cpu (KIND_CPU) or gpu (KIND_GPU: the instance's GPU runs it)"),
        ("instances", "instances", int, "model instances (per GPU with --kind gpu)"),
        ("image-max-batch", "image_max_batch", int, "pose_image: largest dynamic batch"),
        ("image-queue-delay-us", "image_queue_delay_us", int, "pose_image: queue delay"),
        ("video-max-batch", "video_max_batch", int, "pose_video: most streams per step"),
        ("video-queue-delay-us", "video_queue_delay_us", int, "pose_video: queue delay"),
        ("idle-timeout-s", "idle_timeout_s", float, "pose_video: free a stream idle this long"),
    ):
        default = getattr(defaults, field)
        write.add_argument(
            f"--{flag}",
            type=kind,
            default=default,
            dest=field,
            help=what if default is None else f"{what} (default: {default})",
        )
    write.add_argument("--masks", action="store_true", help="serve segmentation masks too")
    write.add_argument(
        "--gpus",
        type=int_list(0),
        default=(),
        help="comma-separated GPU indices for --kind gpu (default: all)",
    )
    write.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated models to write (default: {','.join(MODELS)})",
    )
    write.set_defaults(run=run_write_repo, parser=write)

    triton = actions.add_parser("triton", help="run tritonserver on a repository")
    triton.add_argument("repository", help="a repository from `blazepose serve write-repo`")
    triton.add_argument("--host", default="127.0.0.1", help="listen address (default: %(default)s)")
    triton.add_argument("--http-port", type=int, default=8000, help="(default: %(default)s)")
    triton.add_argument("--grpc-port", type=int, default=8001, help="(default: %(default)s)")
    triton.add_argument("--metrics-port", type=int, default=8002, help="(default: %(default)s)")
    triton.add_argument("--log", help="server log file (default: in a temporary workspace)")
    triton.set_defaults(run=run_triton)


def run_write_repo(args: argparse.Namespace) -> int:
    scheduling = {spec.name: getattr(args, spec.name) for spec in RepositoryOptions.scheduling()}
    scheduling["models"] = tuple(m for m in args.models.split(",") if m)
    try:  # the repository's rules (e.g. --num-poses with --person-detector) are usage errors
        options = RepositoryOptions(landmarker_options(args, validated=False), **scheduling)
        options = options.checked()
    except InvalidValueError as exc:
        args.parser.error(str(exc))
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
        try:  # a signal from the moment it is ready (even between these lines) stops it alike
            ends = server.endpoints
            print(f"ready: HTTP {ends.http}, gRPC {ends.grpc}, metrics {ends.metrics}", flush=True)
            print(f"server log: {server.log_path}", flush=True)
            returncode = server.wait()
        except (KeyboardInterrupt, Terminated):
            server.stop()
            print("stopped", flush=True)
            raise  # run_command: 130 or 143
        raise ServingError(f"tritonserver exited ({returncode}):\n{server.log_tail()}")
