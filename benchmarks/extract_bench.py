"""Frames per second of `blazepose extract` over a set of clips, against the ways people do it
today: a loop of MediaPipe legacy `mp.solutions.pose` in 1 and 2 processes (the `pose-format`
way) and a shell loop of `blazepose video`; the Ray engine on this machine; where the time goes.

    python benchmarks/extract_bench.py --mediapipe-python VENV/bin/python [--copies 3]
        [--clips A.mp4 B.mp4] [--model full] [--rounds 3] [--json extract_bench.json]

MediaPipe legacy needs its own environment (Python 3.12): `python3.12 -m venv VENV &&
VENV/bin/pip install mediapipe==0.10.21 "numpy<2" "opencv-python-headless<4.12" "protobuf<5"`.
It runs `model_complexity=1`, the full model, which it bundles: compare with `--model full`.
Each run is done `--rounds` times, the runs interleaved (this machine's speed drifts by 15-20%
between minutes), and the medians are reported. Every figure is the wall time of a whole command
(start-up included) over the same clips:
`--copies` copies of `--clips` (tests/data/squat.mp4 and dance.mp4 by default, 120 frames each:
start-up and a fresh landmarker per clip weigh more than in longer videos); beside it, frames
per CPU second of the command and the processes it waited for (less sensitive to a machine
shared with other work; Ray's workers are not the command's children, so its figure is not
comparable).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MEDIAPIPE_LOOP = """
import sys, time, multiprocessing, cv2
def poses(path):
    import mediapipe as mp
    capture, frames = cv2.VideoCapture(path), 0
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        while True:
            ok, frame = capture.read()
            if not ok:
                return frames
            pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            frames += 1
if __name__ == "__main__":
    processes, clips = int(sys.argv[1]), sys.argv[2:]
    with multiprocessing.Pool(processes) as pool:
        print(sum(pool.map(poses, clips, chunksize=1)))
"""


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the command and the processes it waited for) and stdout."""
    start, cpu = time.perf_counter(), _child_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - start, _child_cpu() - cpu, done.stdout


def clip_set(folder: Path, copies: int, sources: list[Path]) -> list[Path]:
    clips = []
    for index in range(copies):
        for source in sources:
            clips.append(folder / f"{index}_{source.name}")
            shutil.copy(source, clips[-1])
    return clips


def frame_count(clips: list[Path]) -> int:
    return sum(int(cv2.VideoCapture(str(c)).get(cv2.CAP_PROP_FRAME_COUNT)) for c in clips)


@contextlib.contextmanager
def running_cluster(env: dict) -> Iterator[str]:
    """A one-node Ray cluster of 2 CPUs on 127.0.0.1 (its own session and temp dir), started
    and warmed before timing: its address; the whole process group is stopped after."""
    temp, port = tempfile.mkdtemp(prefix="bp-ray-", dir="/tmp"), 6400 + secrets.randbelow(1000)
    head = subprocess.Popen([str(BIN / "ray"), "start", "--head", "--block", f"--port={port}",
                             "--node-ip-address=127.0.0.1", f"--temp-dir={temp}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        warm = "import ray, sys\nray.init(sys.argv[1])\nray.get(ray.remote(lambda: 1).remote())"
        for _ in range(60):  # until the head answers a task
            if subprocess.run([sys.executable, "-c", warm, address], env=env,
                              capture_output=True).returncode == 0:  # fmt: skip
                break
            time.sleep(1)
        yield address
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


def breakdown(clips: list[Path], model: str) -> dict[str, float]:
    """Milliseconds per frame in one worker (one thread): decoding, the two models (from the
    landmarker's public `model_stats`), the rest of the pipeline (host: crops, decoding of
    outputs, tracking, smoothing)."""
    from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode

    totals = {"decode": 0.0, "detector": 0.0, "landmarker": 0.0, "pipeline": 0.0}
    frames = 0
    for clip in clips[:2]:
        options = PoseLandmarkerOptions(model=model, num_threads=1, running_mode=RunningMode.VIDEO)
        with PoseLandmarker.create_from_options(options) as landmarker:
            capture, index = cv2.VideoCapture(str(clip)), 0
            while True:
                start = time.perf_counter()
                ok, frame = capture.read()
                if not ok:
                    break
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                middle = time.perf_counter()
                landmarker.detect_for_video(rgb, round(index * 1000 / 30))
                totals["decode"] += middle - start
                totals["pipeline"] += time.perf_counter() - middle
                index += 1
            frames += index
            for role, counted in landmarker.model_stats.items():
                totals[role] += counted["seconds"]
    host = totals["pipeline"] - totals["detector"] - totals["landmarker"]
    return {
        "decode_ms": 1000 * totals["decode"] / frames,
        "detector_ms": 1000 * totals["detector"] / frames,
        "landmarker_ms": 1000 * totals["landmarker"] / frames,
        "host_ms": 1000 * host / frames,
    }


def target_ratios(rows: dict[str, tuple[float, float]]) -> list[str]:
    """The issue's two targets as measured: extract against MediaPipe with the same processes,
    and 1 to 2 workers at one thread each."""
    fps = {label: wall for label, (wall, _) in rows.items()}
    one, two = (
        fps["extract local, 1 worker (1 thread)"],
        fps["extract local, 2 workers (1 thread each)"],
    )
    lines = [f"1 -> 2 workers (1 thread each): {two / one:.2f}x"]
    for processes, label in ((1, "1 worker (1 thread)"), (2, "2 workers (1 thread each)")):
        mediapipe = fps.get(f"MediaPipe legacy loop, {processes} process(es)")
        if mediapipe:
            lines.append(
                f"extract {label} / MediaPipe {processes} process(es): "
                f"{fps['extract local, ' + label] / mediapipe:.2f}x"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mediapipe-python", help="python of a venv with mediapipe 0.10.21")
    parser.add_argument("--copies", type=int, default=3, help="copies of each clip")
    parser.add_argument(
        "--clips",
        nargs="+",
        type=Path,
        default=[ROOT / "tests" / "data" / name for name in ("squat.mp4", "dance.mp4")],
        help="the clips to copy (default: tests/data's squat.mp4 and dance.mp4, 120 frames each)",
    )
    parser.add_argument("--model", default="full")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="extract-bench-"))
    # A token of its own: a new local cluster would otherwise write ~/.ray/auth_token.
    ray_env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    try:
        clips = clip_set(work, args.copies, args.clips)
        frames = frame_count(clips)
        blazepose = str(BIN / "blazepose")
        runs: dict[str, list[tuple[float, float]]] = {}  # frames per wall s, per CPU s; by round

        def measure(label: str, command: list[str], env: dict | None = None,
                    prints_frames: bool = False) -> None:  # fmt: skip
            seconds, cpu, out = timed(command, env)
            if prints_frames:  # the command's own count of the frames it ran
                assert int(out.split()[-1]) == frames, out
            runs.setdefault(label, []).append((frames / seconds, frames / cpu))

        def extract(label: str, *flags: str, env: dict | None = None) -> None:
            out = work / f"{label.replace(' ', '_')}_{len(runs.get(label, []))}"
            measure(label, [blazepose, "extract", *map(str, clips), "--out", str(out),
                            "--model", args.model, *flags], env)  # fmt: skip

        def shell_loop() -> None:
            start, cpu = time.perf_counter(), _child_cpu()
            for clip in clips:
                timed([blazepose, "video", str(clip), "--model", args.model, "--jsonl",
                       str(work / f"{clip.stem}.jsonl"), "--quiet"])  # fmt: skip
            runs.setdefault("shell loop of blazepose video", []).append(
                (frames / (time.perf_counter() - start), frames / (_child_cpu() - cpu))
            )

        with contextlib.ExitStack() as stack:
            cluster = None
            if find_spec("ray") is not None:
                extract("extract ray (new local cluster), 2 workers", "--engine", "ray",
                        "--workers", "2", env=ray_env)  # fmt: skip
                cluster = stack.enter_context(running_cluster(ray_env))
            for _ in range(args.rounds):  # every run once per round: the machine's drift is shared
                extract("extract local, 1 worker (1 thread)", "--workers", "1",
                        "--num-threads", "1")  # fmt: skip
                extract("extract local, 1 worker (2 threads)", "--workers", "1",
                        "--num-threads", "2")  # fmt: skip
                extract("extract local, 2 workers (1 thread each)", "--workers", "2")
                if cluster:
                    extract("extract ray (running cluster), 2 workers", "--engine", "ray",
                            "--address", cluster, "--workers", "2", env=ray_env)  # fmt: skip
                if args.mediapipe_python:
                    for processes in (1, 2):
                        measure(f"MediaPipe legacy loop, {processes} process(es)",
                                [args.mediapipe_python, "-c", MEDIAPIPE_LOOP, str(processes),
                                 *map(str, clips)], prints_frames=True)  # fmt: skip
                shell_loop()
        rows = {label: _median(values) for label, values in runs.items()}
        result = {
            "frames": frames,
            "clips": len(clips),
            "model": args.model,
            "rounds": args.rounds,
            "cores": len(os.sched_getaffinity(0)),
            "load_average": os.getloadavg(),
            "frames_per_second": rows,
            "frames_per_second_by_round": runs,
            "per_frame_one_worker": breakdown(clips, args.model),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{frames} frames ({len(clips)} clips), model {args.model}, load {os.getloadavg()}")
    print(f"medians of {args.rounds} interleaved rounds (the range of wall frames/s beside)")
    print("| run | frames/s (wall) | range | frames per CPU second |\n|---|---|---|---|")
    for label, (fps, per_cpu) in rows.items():
        walls = [wall for wall, _ in runs[label]]
        print(f"| {label} | {fps:.1f} | {min(walls):.1f}-{max(walls):.1f} | {per_cpu:.1f} |")
    print(json.dumps(result["per_frame_one_worker"]))
    for line in target_ratios(rows):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


def _median(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


if __name__ == "__main__":
    main()
