"""`blazepose video`: poses in a video file or camera stream, to an annotated video, JSON Lines
and CSV, with a progress bar and a summary. Ctrl-C keeps complete outputs for the frames done."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

import cv2
from tqdm import tqdm

from blazepose_onnx.cli.detect import check_outputs
from blazepose_onnx.converter.fileio import atomic_path
from blazepose_onnx.drawing import draw_landmarks
from blazepose_onnx.export import CsvResultWriter, jsonl_record
from blazepose_onnx.inputs import InputError, open_video
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.results import PoseLandmarkerResult


def _open_atomic(outputs: ExitStack, path: str) -> TextIO:
    """A text file written under a temporary name, renamed when `outputs` closes cleanly."""
    temp = outputs.enter_context(atomic_path(path))
    return outputs.enter_context(temp.open("w", newline=""))


class FrameSink:
    """Writes each processed frame to the requested outputs (thread-safe for LIVE_STREAM)."""

    def __init__(
        self, outputs: ExitStack, args: argparse.Namespace, fps: float, size: tuple[int, int]
    ) -> None:
        self.lock = threading.Lock()
        self.frames = self.poses = 0
        self.video = self.jsonl = self.csv = None
        if args.out:
            temp = outputs.enter_context(
                atomic_path(args.out, suffix=".part" + Path(args.out).suffix)
            )
            self.video = cv2.VideoWriter(str(temp), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
            if not self.video.isOpened():
                raise InputError(f"cannot write video {args.out}")
            outputs.callback(self.video.release)
        if args.jsonl:
            self.jsonl = _open_atomic(outputs, args.jsonl)
        if args.csv:
            self.csv = CsvResultWriter(_open_atomic(outputs, args.csv))
        self.source = args.input

    def write(self, result: PoseLandmarkerResult, frame, index: int, timestamp_ms: int) -> None:
        with self.lock:
            self.frames += 1
            self.poses += len(result.pose_landmarks)
            if self.video is not None:
                canvas = draw_landmarks(frame.copy(), result)
                self.video.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
            if self.jsonl is not None:
                self.jsonl.write(jsonl_record(index, timestamp_ms, result) + "\n")
            if self.csv is not None:
                self.csv.write(self.source, index, timestamp_ms, result)


class LiveFrameIndex:
    """Frame numbers of live frames in flight, by timestamp; dropped ones are forgotten."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indices: dict[int, int] = {}

    def add(self, timestamp_ms: int, index: int) -> None:
        with self._lock:
            self._indices[timestamp_ms] = index

    def take(self, timestamp_ms: int) -> int:
        """The frame number of a delivered frame; older (dropped) entries go too."""
        with self._lock:
            index = self._indices.pop(timestamp_ms)
            for older in [t for t in self._indices if t < timestamp_ms]:
                del self._indices[older]
            return index


def run_video(args: argparse.Namespace, options: PoseLandmarkerOptions) -> int:
    if args.max_frames is not None and args.max_frames < 1:
        raise InputError("--max-frames must be at least 1")
    source_path = [] if args.input.isdigit() else [Path(args.input)]
    check_outputs(source_path, {"--out": args.out, "--jsonl": args.jsonl, "--csv": args.csv})
    capture, fps = open_video(args.input)
    ok, first = capture.read()
    if not ok:
        capture.release()
        raise InputError(f"no frames in video {args.input}")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    if args.max_frames:
        total = min(total or args.max_frames, args.max_frames)
    live = args.live
    sink_box: list[FrameSink] = []
    if live:
        options.running_mode = RunningMode.LIVE_STREAM
        indices = LiveFrameIndex()
        options.result_callback = lambda result, frame, ts: sink_box[0].write(
            result, frame, indices.take(ts), ts
        )
    else:
        options.running_mode = RunningMode.VIDEO
    stop = threading.Event()  # Ctrl-C ends the loop between frames: every output stays in step
    start = time.perf_counter()
    with ExitStack() as outputs:
        sink = FrameSink(outputs, args, fps, (first.shape[1], first.shape[0]))
        sink_box.append(sink)
        landmarker = outputs.enter_context(PoseLandmarker.create_from_options(options))
        progress = outputs.enter_context(
            tqdm(total=total, unit="frame", disable=args.quiet or not sys.stderr.isatty())
        )
        index, frame = 0, first
        previous_handler = signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            while (
                frame is not None
                and not stop.is_set()
                and (args.max_frames is None or index < args.max_frames)
            ):
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                timestamp_ms = round(index * 1000 / fps)
                if live:
                    indices.add(timestamp_ms, index)
                    landmarker.detect_async(rgb, timestamp_ms, rotation_degrees=args.rotate)
                else:
                    result = landmarker.detect_for_video(
                        rgb, timestamp_ms, rotation_degrees=args.rotate
                    )
                    sink.write(result, rgb, index, timestamp_ms)
                index += 1
                progress.update(1)
                ok, frame = capture.read()
                frame = frame if ok else None
        finally:
            capture.release()
            signal.signal(signal.SIGINT, previous_handler)
        landmarker.close()  # LIVE_STREAM: deliver what is queued before the outputs close
        stats = landmarker.stats
    seconds = time.perf_counter() - start
    summary = (
        f"frames: {sink.frames}, poses found: {sink.poses}, "
        f"average fps: {sink.frames / seconds:.1f}, provider: {options.providers[0]}"
    )
    if live:
        summary += f", dropped frames: {stats['dropped_frames']}"
    if stop.is_set():
        summary += " (interrupted: outputs hold the frames done)"
    print(summary)
    return 130 if stop.is_set() else 0
