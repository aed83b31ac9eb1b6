"""`blazepose video`: poses in a video file or camera stream, to an annotated video, JSON Lines
and CSV, with a progress bar and a summary. Ctrl-C and SIGTERM keep complete outputs for the
frames done (exit 130 and 143); a file that ends before its stated frame count exits 3."""

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
from blazepose_onnx.converter.command import EXIT_INTERRUPTED, EXIT_TERMINATED
from blazepose_onnx.converter.fileio import atomic_path
from blazepose_onnx.drawing import draw_landmarks
from blazepose_onnx.export import CsvResultWriter, jsonl_record
from blazepose_onnx.inputs import InputError, native_stderr_silenced, open_video
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.results import PoseLandmarkerResult
from blazepose_onnx.video_writer import VideoFile

EXIT_TRUNCATED = 3


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
        self.frames = self.poses = self.empty_frames = 0
        self.video = self.jsonl = self.csv = None
        if args.out:
            temp = outputs.enter_context(
                atomic_path(args.out, suffix=".part" + Path(args.out).suffix)
            )
            self.video = VideoFile(temp, fps, size)
            outputs.callback(self.video.close)  # checked before it is renamed into place
        if args.jsonl:
            self.jsonl = _open_atomic(outputs, args.jsonl)
        if args.csv:
            self.csv = CsvResultWriter(_open_atomic(outputs, args.csv))
        self.source = args.input

    def write(self, result: PoseLandmarkerResult, frame, index: int, timestamp_ms: int) -> None:
        with self.lock:
            self.frames += 1
            self.poses += len(result.pose_landmarks)
            self.empty_frames += not len(result.pose_landmarks)
            if self.video is not None:
                self.video.write(draw_landmarks(frame.copy(), result))
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


class StopSignal:
    """SIGINT and SIGTERM end the frame loop between frames, so every output stays in step."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignal:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._stop)
        return self

    def _stop(self, signum: int, frame: object) -> None:
        self.signum = signum

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @property
    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.signum == signal.SIGTERM else EXIT_INTERRUPTED


def _read(capture: cv2.VideoCapture):
    """The next BGR frame, or None at the end; the decoder's own messages stay off stderr."""
    with native_stderr_silenced():
        ok, frame = capture.read()
    return frame if ok else None


def run_video(args: argparse.Namespace, options: PoseLandmarkerOptions) -> int:
    if args.max_frames is not None and args.max_frames < 1:
        raise InputError("--max-frames must be at least 1")
    source_path = [] if args.input.isdigit() else [Path(args.input)]
    check_outputs(source_path, {"--out": args.out, "--jsonl": args.jsonl, "--csv": args.csv})
    capture, fps = open_video(args.input)
    first = _read(capture)
    if first is None:
        capture.release()
        raise InputError(f"no frames in video {args.input}")
    stated = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if source_path else 0
    total = stated or None
    if args.max_frames:
        total = min(total or args.max_frames, args.max_frames)
    live = args.live
    if live and source_path:
        print(
            "warning: --live on a file: frames that arrive while one is being processed are "
            "dropped (the file is read as fast as it decodes); leave out --live to process "
            "every frame",
            file=sys.stderr,
        )
    sink_box: list[FrameSink] = []
    if live:
        options.running_mode = RunningMode.LIVE_STREAM
        indices = LiveFrameIndex()
        options.result_callback = lambda result, frame, ts: sink_box[0].write(
            result, frame, indices.take(ts), ts
        )
    else:
        options.running_mode = RunningMode.VIDEO
    start = time.perf_counter()
    with ExitStack() as outputs:
        sink = FrameSink(outputs, args, fps, (first.shape[1], first.shape[0]))
        sink_box.append(sink)
        landmarker = outputs.enter_context(PoseLandmarker.create_from_options(options))
        progress = outputs.enter_context(
            tqdm(total=total, unit="frame", disable=args.quiet or not sys.stderr.isatty())
        )
        index, frame = 0, first
        with StopSignal() as stop:
            try:
                while (
                    frame is not None
                    and stop.signum is None
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
                    frame = _read(capture)
            finally:
                capture.release()
        landmarker.close()  # LIVE_STREAM: deliver what is queued before the outputs close
        stats = landmarker.stats
    seconds = time.perf_counter() - start
    summary = (
        f"frames: {sink.frames}, poses found: {sink.poses}, "
        f"frames without a pose: {sink.empty_frames}, "
        f"average fps: {sink.frames / seconds:.1f}, provider: {options.providers[0]}"
    )
    if live:
        summary += f", dropped frames: {stats['dropped_frames']}"
    if sink.video is not None:
        summary += f", video codec: {sink.video.codec}"
    if stop.signum is not None:
        summary += " (interrupted: outputs hold the frames done)"
    print(summary)
    if stop.signum is not None:
        return stop.exit_code
    truncated = frame is None and stated and index < stated and args.max_frames is None
    if truncated:
        print(
            f"warning: {args.input} ended after {index} of its {stated} frames (truncated or "
            "damaged); outputs hold the frames read"
            + ("" if args.allow_truncated else " (exit code 3; --allow-truncated accepts it)"),
            file=sys.stderr,
        )
        return 0 if args.allow_truncated else EXIT_TRUNCATED
    return 0
