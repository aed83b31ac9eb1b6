"""Served (Triton) against in-process throughput and latency, measured in one run.

    python benchmarks/serve_bench.py --json serve_bench.json [--variant full] [--provider cpu]

IMAGE at 1, 4 and 16 concurrent clients (each sending the four test photos in turn; with and
without system shared memory) against in-process `detect_batch` of as many images; VIDEO at 4 and
16 concurrent streams against one in-process `MultiStreamPoseLandmarker` stepping them all.
Frames/s, p50 and p99 per request (in-process: per step). The GPU check runs the same cases on a
GPU (`--provider cuda --kind gpu`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from blazepose_onnx import MultiStreamPoseLandmarker, PoseLandmarker
from blazepose_onnx.bench.timing import concurrently, elapsed
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.serving import RepositoryOptions, write_repository
from blazepose_onnx.serving.client import TritonPoseClient
from blazepose_onnx.serving.server import TritonServer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def _stats(latencies: list[float], frames: int, seconds: float) -> dict:
    ms = np.array(latencies) * 1e3
    return {
        "frames_per_second": frames / seconds,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def _concurrently(workers: int, work) -> tuple[list[float], int, float]:
    """Run work(k) -> latencies in `workers` threads; all latencies, frames and wall time."""
    results, seconds = concurrently([partial(work, k) for k in range(workers)])
    latencies = [t for r in results for t in r]
    return latencies, len(latencies), seconds


def image_cases(server, options, images, clients_list, requests_per_client) -> list[dict]:
    rows = []
    with PoseLandmarker.create_from_options(options.landmarker_options()) as local:
        for clients in clients_list:
            batch = [images[k % len(images)] for k in range(clients)]
            for _ in range(3):
                local.detect_batch(batch)
            steps = max(3, requests_per_client)
            latencies = [elapsed(lambda b=batch: local.detect_batch(b)) for _ in range(steps)]
            local_stats = _stats(latencies, steps * clients, sum(latencies))
            rows.append({"mode": "image", "clients": clients, "kind": "in-process", **local_stats})
            for shared in (False, True):

                def work(k: int, shared=shared) -> list[float]:
                    with TritonPoseClient(server.endpoints.grpc, shared_memory=shared) as client:
                        client.detect(images[k % len(images)])  # warm the connection
                        return [
                            elapsed(lambda i=i: client.detect(images[(k + i) % len(images)]))
                            for i in range(requests_per_client)
                        ]

                served = _stats(*_concurrently(clients, work))
                kind = "served, shared memory" if shared else "served, gRPC"
                ratio = served["frames_per_second"] / local_stats["frames_per_second"]
                rows.append(
                    {"mode": "image", "clients": clients, "kind": kind, **served, "ratio": ratio}
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


def video_cases(server, options, clips, streams_list, frames_per_stream) -> list[dict]:
    rows = []
    video_options = options.landmarker_options()
    for streams in streams_list:
        sources = [clips[k % len(clips)] for k in range(streams)]
        with MultiStreamPoseLandmarker(video_options) as local:
            for k in range(streams):
                local.open_stream(k)
            latencies = [
                elapsed(
                    lambda i=i, sources=sources: local.process(
                        {k: (frames[i % len(frames)], i * 33) for k, frames in enumerate(sources)}
                    )
                )
                for i in range(frames_per_stream)
            ]
        local_stats = _stats(latencies[3:], (frames_per_stream - 3) * streams, sum(latencies[3:]))
        rows.append({"mode": "video", "clients": streams, "kind": "in-process", **local_stats})

        def work(k: int, sources=sources) -> list[float]:
            frames = sources[k]
            with TritonPoseClient(server.endpoints.grpc) as client, client.open_stream() as stream:
                return [
                    elapsed(lambda i=i: stream.detect(frames[i % len(frames)], i * 33))
                    for i in range(frames_per_stream)
                ]

        served = _stats(*_concurrently(streams, work))
        ratio = served["frames_per_second"] / local_stats["frames_per_second"]
        rows.append(
            {"mode": "video", "clients": streams, "kind": "served, gRPC", **served, "ratio": ratio}
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def to_markdown(rows: list[dict]) -> str:
    lines = [
        "| mode | clients/streams | how | frames/s | p50 ms | p99 ms | served / in-process |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else ""
        lines.append(
            f"| {r['mode']} | {r['clients']} | {r['kind']} | {r['frames_per_second']:.1f} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="full")
    parser.add_argument("--provider", default="cpu")
    parser.add_argument("--kind", default="cpu", help="Triton instance kind: cpu or gpu")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--streams", default="4,16")
    parser.add_argument("--requests", type=int, default=30, help="per client (default: 30)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON")
    args = parser.parse_args(argv)
    options = RepositoryOptions(
        variant=args.variant,
        provider=args.provider,
        kind=args.kind,
        instances=args.instances,
        image_max_batch=16,
        video_max_batch=16,
    )
    images = [read_image(DATA / f"{name}.jpg") for name in ("messi5", "bus", "astronaut", "zidane")]
    clips = [read_frames(str(DATA / name), limit=60) for name in ("squat.mp4", "dance.mp4")]
    with tempfile.TemporaryDirectory(prefix="blazepose-serve-bench-") as tmp:
        repository = write_repository(Path(tmp) / "repo", options)
        started = time.perf_counter()
        with TritonServer(repository) as server:
            ready_s = time.perf_counter() - started
            rows = image_cases(
                server, options, images, [int(c) for c in args.clients.split(",")], args.requests
            )
            rows += video_cases(
                server, options, clips, [int(s) for s in args.streams.split(",")], args.requests
            )
            stopping = time.perf_counter()
        stop_s = time.perf_counter() - stopping
    table = to_markdown(rows)
    print(table)
    print(f"start to ready {ready_s:.1f} s, stop {stop_s:.1f} s")
    if args.json:
        meta = {
            "variant": args.variant,
            "provider": args.provider,
            "ready_s": ready_s,
            "stop_s": stop_s,
        }
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
