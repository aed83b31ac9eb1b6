"""Where a call's time goes: ONNX Runtime's per-node profile of the session models (after the
runtime's graph edits), a Python profile of the host side, the host code alone (model outputs
replayed), and each model's time inside the pipeline against the same session run alone.

    python benchmarks/profile_pipeline.py [--variant full] [--calls 200] [--json profile.json]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import pstats
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode, samples
from blazepose_onnx.backend.graph_edits import session_model
from blazepose_onnx.backend.models import resolve_model
from blazepose_onnx.bench.timing import frame_feeder, time_steps
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.io.video_reader import read_frames
from blazepose_onnx.pipeline.detector import detector_input
from blazepose_onnx.pipeline.landmarker import crop_inputs
from blazepose_onnx.pipeline.pose_pipeline import LANDMARKER_OUTPUTS


def node_profile(path: Path, role: str, outputs, size: int, runs: int) -> dict:
    """Share of kernel time per operator type, and the nodes left after optimisation."""
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.force_spinning_stop", "1")
        options.enable_profiling = True
        options.profile_file_prefix = f"{tmp}/{role}"
        session = ort.InferenceSession(
            session_model(path, role, outputs), options, providers=["CPUExecutionProvider"]
        )
        feed = {session.get_inputs()[0].name: np.zeros((1, size, size, 3), np.uint8)}
        for _ in range(runs):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    kernel: collections.Counter = collections.Counter()
    count: collections.Counter = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            kernel[event["args"]["op_name"]] += event["dur"]
            count[event["args"]["op_name"]] += 1
    total = sum(kernel.values())
    return {
        op: {"share": kernel[op] / total, "nodes": count[op] // runs}
        for op, _ in kernel.most_common(10)
    }


def inside_vs_alone(landmarker, step, feeds: dict, calls: int, rounds: int = 6) -> dict:
    """Each model's ms per run inside the pipeline against the same session run alone on the
    same input, in interleaved blocks (medians of the rounds' medians): what running among
    the rest of the pipeline costs a model, free of the machine's drift between phases."""
    pipeline = landmarker.pipeline  # its sessions, run alone below
    sessions = {"detector": pipeline.detector, "landmarker": pipeline.landmarker}
    inside: dict = {role: [] for role in feeds}
    alone: dict = {role: [] for role in feeds}
    for _ in range(rounds):
        samples = time_steps(step, calls, model_stats=lambda: landmarker.model_stats)
        for role, feed in feeds.items():
            inside[role].append(float(np.mean(samples[role])) * 1e3)
            session = sessions[role]
            inputs = {session.get_inputs()[0].name: feed}
            times = time_steps(partial(session.run, None, inputs), calls)["total"]
            alone[role].append(float(np.median(times)) * 1e3)
    return {
        role: {
            "inside_ms": float(np.median(inside[role])),
            "alone_ms": float(np.median(alone[role])),
        }
        for role in feeds
    }


def host_profile(step, calls: int, top: int = 12) -> list[dict]:
    """Functions by own time over `calls` steps, without the two model runs."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, name), (_, _, tottime, _, _) in stats.stats.items():
        if "InferenceSession" in name or name == "run":
            continue
        rows.append(
            {"function": f"{Path(file).name}:{line}:{name}", "ms_per_step": tottime / calls * 1e3}
        )
    return sorted(rows, key=lambda r: -r["ms_per_step"])[:top]


class ReplayedSession:
    """A session stand-in that replays its session's first outputs: host code timed alone."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self.session, self.outputs = session, None

    def run(self, names, feeds):
        if self.outputs is None:
            self.outputs = self.session.run(names, feeds)
        return self.outputs


def host_alone_ms(landmarker, step, calls: int) -> float:
    """Median ms per step of the host code with both model runs replayed (warm caches, no
    models): compared with the host time inside the pipeline, what the model runs' cache
    eviction costs the host code."""
    pipeline = landmarker.pipeline
    sessions = pipeline.detector, pipeline.landmarker
    pipeline.detector, pipeline.landmarker = (
        None if s is None else ReplayedSession(s) for s in sessions
    )
    try:
        times = time_steps(step, calls)["total"]
    finally:
        pipeline.detector, pipeline.landmarker = sessions
    return float(np.median(times[10:]) * 1e3)


def pipeline_split(landmarker, step, calls: int) -> dict:
    samples = time_steps(step, calls, model_stats=lambda: landmarker.model_stats)
    mean_ms = {stage: float(np.mean(values)) * 1e3 for stage, values in samples.items()}
    return {
        "total_ms": mean_ms["total"],
        "detector_ms": mean_ms["detector"],
        "landmarker_ms": mean_ms["landmarker"],
        "host_ms": mean_ms["other"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="full")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    paths = resolve_model(args.variant)
    # Every phase scales with --calls (the default's counts: 50 profiled runs, 300 replayed
    # steps, 40 calls per round of the inside/alone comparison).
    node_runs, replayed, per_round = max(args.calls // 4, 1), args.calls * 3 // 2, args.calls // 5
    if per_round < 2:
        parser.error("--calls must be at least 10")
    report: dict = {"variant": args.variant, "onnxruntime": ort.__version__}
    report["nodes"] = {
        "detector": node_profile(paths["detector"], "detector", None, 224, node_runs),
        "landmarker": node_profile(
            paths["landmarker"], "landmarker", LANDMARKER_OUTPUTS, 256, node_runs
        ),
    }
    image, frames = read_image(samples.IMAGE), read_frames(str(samples.VIDEO))
    with PoseLandmarker.create_from_options(PoseLandmarkerOptions(model=args.variant)) as still:
        for _ in range(10):
            still.detect(image)
        detect = partial(still.detect, image)
        report["image"] = pipeline_split(still, detect, args.calls)
        report["image_host"] = host_profile(detect, args.calls)
        report["image"]["host_alone_ms"] = host_alone_ms(still, detect, replayed)
        rois = still.pipeline.detect_rois(image)
        feeds = {"detector": detector_input(image)[0], "landmarker": crop_inputs(image, rois)}
        report["image"]["models"] = inside_vs_alone(still, detect, feeds, per_round)
    video_options = PoseLandmarkerOptions(model=args.variant, running_mode=RunningMode.VIDEO)
    with PoseLandmarker.create_from_options(video_options) as video:
        frame = frame_feeder(frames, video.detect_for_video)
        for _ in range(10):
            frame()
        report["video"] = pipeline_split(video, frame, args.calls)
        report["video_host"] = host_profile(frame, args.calls)
        report["video"]["host_alone_ms"] = host_alone_ms(video, frame, replayed)
        crop = crop_inputs(frames[0], video.pipeline.detect_rois(frames[0]))
        report["video"]["models"] = inside_vs_alone(video, frame, {"landmarker": crop}, per_round)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
