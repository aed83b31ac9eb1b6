"""`blazepose video`: poses in video files, stream URLs or a camera, to annotated videos, JSON
Lines and CSV, with a progress bar and a summary per input.

Ctrl-C and SIGTERM keep complete outputs for the frames done (exit 130 and 143); a file that
ends before its stated frame count exits 3; with several inputs, one that cannot be read is
named on stderr and the others go on (exit 4; `--strict` stops at the first).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import cv2
from tqdm import tqdm

from blazepose_onnx.cli.boxes_file import misfit
from blazepose_onnx.cli.detect import check_outputs, report
from blazepose_onnx.cli.preview import Preview
from blazepose_onnx.cli.skipped import SkippedInputs
from blazepose_onnx.converter.command import EXIT_INTERRUPTED, EXIT_TERMINATED
from blazepose_onnx.converter.fileio import atomic_path
from blazepose_onnx.drawing import draw_landmarks
from blazepose_onnx.export import CsvResultWriter, jsonl_record
from blazepose_onnx.inputs import (
    InputError,
    is_stream_url,
    native_stderr_silenced,
    open_video,
    video_sources,
)
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.quiet import silence_opencv_logging
from blazepose_onnx.results import PoseLandmarkerResult
from blazepose_onnx.video_writer import VideoFile

EXIT_TRUNCATED = 3
OUTPUTS = {"out": "_pose.mp4", "jsonl": ".jsonl", "csv": ".csv"}  # option: per-input suffix


def _open_text(outputs: contextlib.ExitStack, path: str) -> TextIO:
    """Standard output for '-', else a text file written under a temporary name and renamed
    when `outputs` closes cleanly."""
    if path == "-":
        return sys.stdout
    temp = outputs.enter_context(atomic_path(path))
    text = temp.open("w", newline="")

    def close(error_type: type | None, *_: object) -> None:
        if error_type is None:
            text.close()  # a failed flush (a full disk) fails the run
        else:
            with contextlib.suppress(OSError):  # thrown away: the run's own error is reported
                text.close()

    outputs.push(close)
    return text


class FrameSink:
    """Writes each processed frame to the requested outputs and the preview window
    (thread-safe for LIVE_STREAM); `quit` is set when the window was closed with q or Esc."""

    def __init__(
        self,
        outputs: contextlib.ExitStack,
        targets: dict[str, str | None],
        source: str,
        keypoints: str,
        fps: float,
        size: tuple[int, int],
        preview: Preview | None,
        live: bool = False,
    ) -> None:
        self.lock = threading.Lock()
        self.live, self.texts = live, []  # live: each record flushed as it is written
        self.frames = self.poses = self.empty_frames = 0
        self.video = self.jsonl = self.csv = None
        self.preview, self.quit = preview, False
        if targets["out"]:
            temp = outputs.enter_context(
                atomic_path(targets["out"], suffix=".part" + Path(targets["out"]).suffix)
            )
            self.video = VideoFile(temp, fps, size)
        if targets["jsonl"]:
            self.jsonl = _open_text(outputs, targets["jsonl"])
            self.texts.append(self.jsonl)
        if targets["csv"]:
            self.texts.append(_open_text(outputs, targets["csv"]))
            self.csv = CsvResultWriter(self.texts[-1], keypoints)
        if self.video is not None:  # last in: checked before any output is renamed into place
            outputs.push(self._close_video)
        self.source, self.keypoints = source, keypoints

    def _close_video(self, error_type: type | None, *_: object) -> None:
        """Finish and check the annotated video; when the run failed, only release it (it is
        not kept, and its check would hide the run's own error)."""
        if error_type is None:
            self.video.close()
        else:
            self.video.release()

    def write(self, result: PoseLandmarkerResult, frame, index: int, timestamp_ms: int) -> None:
        with self.lock:
            self.frames += 1
            self.poses += len(result.pose_landmarks)
            self.empty_frames += not len(result.pose_landmarks)
            if self.video is not None or self.preview is not None:
                drawn = draw_landmarks(frame.copy(), result, label_ids=True)
                if self.video is not None:
                    self.video.write(drawn)
                if self.preview is not None and not self.preview.show(drawn):
                    self.quit = True
            if self.jsonl is not None:
                record = jsonl_record(index, timestamp_ms, result, self.keypoints, self.source)
                self.jsonl.write(record + "\n")
            if self.csv is not None:
                self.csv.write(self.source, index, timestamp_ms, result)
            if self.live:  # a reader follows the stream; a full disk shows at once
                for text in self.texts:
                    text.flush()


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


@dataclass
class FrameSampler:
    """Which frames are processed: every `stride`-th, or at most `fps` per second of video
    time (the first frame of each 1/fps interval). Timestamps stay those of the video."""

    stride: int = 1
    fps: float | None = None
    _last_slot: int = -1

    def keep(self, index: int, timestamp_ms: int) -> bool:
        if self.fps is None:
            return index % self.stride == 0
        slot = int(timestamp_ms * self.fps / 1000 + 1e-9)
        if slot == self._last_slot:
            return False
        self._last_slot = slot
        return True

    def output_fps(self, source_fps: float) -> float:
        """The frame rate of an annotated video of the kept frames."""
        return min(self.fps, source_fps) if self.fps else source_fps / self.stride


def _read(capture: cv2.VideoCapture, quiet: bool = True):
    """The next BGR frame, or None at the end. With `quiet`, the decoder's own messages stay
    off stderr: that silences the whole process's stderr for the call, so LIVE_STREAM (whose
    worker thread may be logging meanwhile) reads without it."""
    if not quiet:
        ok, frame = capture.read()
    else:
        with native_stderr_silenced():
            ok, frame = capture.read()
    return frame if ok else None


def _stem(source: str) -> str:
    """A file-name stem for a source's outputs."""
    if source.isdigit():
        return f"camera{source}"
    if is_stream_url(source):
        name = source.partition("://")[2].rstrip("/").rsplit("/", 1)[-1]
        return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem) or "stream"
    return Path(source).stem


def output_targets(
    args: argparse.Namespace, sources: list[str]
) -> dict[str, dict[str, str | None]]:
    """Each source's output paths, by option: the path given, or with several inputs (or an
    existing folder given) `<folder>/<stem><suffix>` per input."""
    stems: dict[str, str] = {}
    for source in sources:
        stem = _stem(source)
        if stem in stems:
            raise InputError(
                f"{stems[stem]} and {source} would write outputs of the same name ({stem}); "
                "run them separately"
            )
        stems[stem] = source
    targets: dict[str, dict[str, str | None]] = {source: {} for source in sources}
    for option, suffix in OUTPUTS.items():
        value = getattr(args, option)
        per_input = value not in (None, "-") and (len(sources) > 1 or Path(value).is_dir())
        if option == "out" and value == "-":
            raise InputError("--out - : an annotated video cannot go to stdout; give a file")
        if option == "csv" and value == "-" and len(sources) > 1:
            raise InputError(
                "--csv - takes one input (each would repeat the header); give a folder"
            )
        for stem, source in stems.items():
            targets[source][option] = str(Path(value) / f"{stem}{suffix}") if per_input else value
    return targets


QUIT = -1  # the user closed the preview window: no more inputs, exit 0
STOPPED = (EXIT_INTERRUPTED, EXIT_TERMINATED, QUIT)


def run_video(args: argparse.Namespace, options: PoseLandmarkerOptions) -> int:
    silence_opencv_logging()
    sources = video_sources(args.inputs)
    targets = output_targets(args, sources)
    local_files = [Path(s) for s in sources if not (s.isdigit() or is_stream_url(s))]
    for source in sources:
        check_outputs(local_files, {f"--{k}": v for k, v in targets[source].items()})
    notices = []
    if args.live and local_files:
        notices.append(
            "warning: --live on a file: frames that arrive while one is being processed are "
            "dropped (the file is read as fast as it decodes); leave out --live to process "
            "every frame"
        )
    if not (args.out or args.jsonl or args.csv or args.show):
        notices.append(
            "warning: no output option (--out, --jsonl, --csv, --show): nothing will be "
            "written; only the summary is printed"
        )
    run = VideoRun(args, options, Preview() if args.show else None, notices, len(sources) > 1)
    skipped = SkippedInputs(len(sources), args.strict, "input")
    codes: list[int] = []
    for source in sources:
        try:
            codes.append(run.process(source, targets[source]))
        except InputError as exc:
            skipped.skip(source, exc)
        if codes[-1:] and codes[-1] in STOPPED:
            return max(codes[-1], 0)
    return skipped.report() or (EXIT_TRUNCATED if EXIT_TRUNCATED in codes else 0)


@dataclass
class VideoRun:
    """What every input of one `blazepose video` command shares: its options, the preview
    window, the warnings to give once processing starts, and how summaries are labelled."""

    args: argparse.Namespace
    options: PoseLandmarkerOptions
    preview: Preview | None
    notices: list[str]
    label_summaries: bool

    def process(self, source: str, targets: dict[str, str | None]) -> int:
        """One input through a fresh landmarker; its exit code: 0, 3 (truncated), 130 or 143
        (a signal stopped it), or QUIT."""
        capture, fps = open_video(source)
        try:
            first = _read(capture)
            if first is None:
                raise InputError(f"no frames in video {source}")
            problem = misfit(self.args.boxes, first.shape[1], first.shape[0])
            if problem:
                self.args.parser.error(f"--person-boxes: {problem} ({source})")
            is_file = not (source.isdigit() or is_stream_url(source))
            stated = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if is_file else 0
            return self._frames(source, targets, capture, fps, first, stated)
        finally:
            capture.release()

    def _stream_options(
        self, sink_box: list[FrameSink], indices: LiveFrameIndex, failures: list[Exception]
    ):
        options = dataclasses.replace(self.options)
        if self.args.live:
            options.running_mode = RunningMode.LIVE_STREAM

            def deliver(result, frame, timestamp_ms: int) -> None:
                """Write a live result (on the worker thread); the first failed write (a full
                disk, a closed pipe) is reported at once, in one line, and stops the run."""
                if failures:
                    return
                try:
                    sink_box[0].write(result, frame, indices.take(timestamp_ms), timestamp_ms)
                except OSError as exc:
                    failures.append(exc)
                    if self.args.verbose:
                        traceback.print_exception(exc)
                    print(
                        f"blazepose: error: {sink_box[0].source}: could not write the result of "
                        f"the frame at {timestamp_ms} ms: {exc}",
                        file=sys.stderr,
                        flush=True,
                    )

            options.result_callback = deliver
        else:
            options.running_mode = RunningMode.VIDEO
        return options

    def _frames(
        self,
        source: str,
        targets: dict[str, str | None],
        capture: cv2.VideoCapture,
        fps: float,
        first,
        stated: int,
    ) -> int:
        args = self.args
        sampler = FrameSampler(args.stride, args.fps)
        total = -(-stated // args.stride) if stated and not args.fps else None
        if args.max_frames:
            total = min(total or args.max_frames, args.max_frames)
        start = time.perf_counter()
        sink_box: list[FrameSink] = []
        indices = LiveFrameIndex()
        failures: list[Exception] = []  # live writes that failed, on the worker thread
        # The model is built before any output is opened: a bad --model or --provider is
        # reported as itself, and leaves nothing behind.
        with (
            PoseLandmarker.create_from_options(
                self._stream_options(sink_box, indices, failures)
            ) as landmarker,
            contextlib.ExitStack() as outputs,
        ):
            size = (first.shape[1], first.shape[0])
            sink = FrameSink(
                outputs,
                targets,
                source,
                args.keypoints,
                sampler.output_fps(fps),
                size,
                self.preview,
                live=args.live,
            )
            sink_box.append(sink)
            outputs.callback(landmarker.close)  # live frames are delivered before outputs close
            progress = outputs.enter_context(
                tqdm(total=total, unit="frame", disable=args.quiet or not sys.stderr.isatty())
            )
            while self.notices:
                print(self.notices.pop(0), file=sys.stderr)
            index, frame, processed = 0, first, 0
            with StopSignal() as stop:
                while (
                    frame is not None
                    and stop.signum is None
                    and not sink.quit
                    and not failures
                    and (args.max_frames is None or processed < args.max_frames)
                ):
                    timestamp_ms = round(index * 1000 / fps)
                    if sampler.keep(index, timestamp_ms):
                        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                        boxes = args.boxes.get(index)
                        if args.live:
                            indices.add(timestamp_ms, index)
                            landmarker.detect_async(
                                rgb, timestamp_ms, rotation_degrees=args.rotate, person_boxes=boxes
                            )
                        else:
                            result = landmarker.detect_for_video(
                                rgb, timestamp_ms, rotation_degrees=args.rotate, person_boxes=boxes
                            )
                            sink.write(result, rgb, index, timestamp_ms)
                        processed += 1
                        progress.update(1)
                    index += 1
                    frame = _read(capture, quiet=not args.live)
            landmarker.close()  # LIVE_STREAM: deliver what is queued before the outputs close
            if failures:  # reported above; no output is left under its final name
                raise SystemExit(1)
            stats = landmarker.stats
        seconds = time.perf_counter() - start
        summary = (
            f"frames: {sink.frames}, poses found: {sink.poses}, "
            f"frames without a pose: {sink.empty_frames}, "
            f"average fps: {sink.frames / seconds:.1f}, provider: {self.options.providers[0]}"
        )
        if args.live:
            summary += f", dropped frames: {stats['dropped_frames']}"
        if sink.video is not None:
            summary += f", video codec: {sink.video.codec}"
        if stop.signum is not None:
            summary += " (interrupted: outputs hold the frames done)"
        report(
            f"{source}: {summary}" if self.label_summaries else summary,
            "-" in (args.jsonl, args.csv),
        )
        if stop.signum is not None:
            return stop.exit_code
        if sink.quit:
            return QUIT
        truncated = frame is None and stated and index < stated and args.max_frames is None
        if truncated:
            print(
                f"warning: {source} ended after {index} of its {stated} frames (truncated or "
                "damaged); outputs hold the frames read"
                + ("" if args.allow_truncated else " (exit code 3; --allow-truncated accepts it)"),
                file=sys.stderr,
            )
            return 0 if args.allow_truncated else EXIT_TRUNCATED
        return 0
