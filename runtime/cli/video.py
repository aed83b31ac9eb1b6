"""`blazepose video`: poses in video files, stream URLs or a camera, to annotated videos, JSON
Lines and CSV, with a progress bar and a summary per input.

Ctrl-C and SIGTERM keep complete outputs for the frames done (exit 130 and 143); a file that
ends before its video stream does exits 3 (`blazepose_onnx.io.truncation`); with several inputs,
one that cannot be read is named on stderr and the others go on (exit 4; `--strict` stops at
the first).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import logging
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from blazepose_onnx.cli.boxes_file import misfit
from blazepose_onnx.cli.detect import check_outputs, report
from blazepose_onnx.cli.preview import Preview
from blazepose_onnx.cli.skipped import SkippedInputs
from blazepose_onnx.common.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_TRUNCATED
from blazepose_onnx.common.fileio import atomic_path
from blazepose_onnx.common.quiet import quiet_ffmpeg, silence_opencv_logging
from blazepose_onnx.drawing import draw_landmarks
from blazepose_onnx.errors import InputError
from blazepose_onnx.io.export import CsvResultWriter, jsonl_record
from blazepose_onnx.io.inputs import is_stream_url, video_sources
from blazepose_onnx.io.video_reader import FrameSampler, VideoReader, is_camera, is_file
from blazepose_onnx.io.video_writer import VideoFile
from blazepose_onnx.options import PoseLandmarkerOptions, RunningMode
from blazepose_onnx.pose_landmarker import PoseLandmarker
from blazepose_onnx.results import PoseLandmarkerResult
from blazepose_onnx.typing import KeypointSet

log = logging.getLogger("blazepose")
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
        keypoints: KeypointSet,
        fps: float,
        size: tuple[int, int],
        preview: Preview | None,
        live: bool = False,
        audio_from: str | None = None,
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
            self.video = VideoFile(temp, fps, size, audio_from=audio_from)
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
        if self.video is None:
            return
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
        self._previous: dict[int, Any] = {}  # signal.signal's handlers

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


def _stem(source: str) -> str:
    """A file-name stem for a source's outputs."""
    if is_camera(source):
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
    quiet_ffmpeg()  # frame-threaded decoders report a damaged frame after a silenced read
    sources = video_sources(args.inputs)
    targets = output_targets(args, sources)
    local_files = [Path(s) for s in sources if is_file(s)]
    for source in sources:
        check_outputs(local_files, {f"--{k}": v for k, v in targets[source].items()})
    notices = []
    if args.live and local_files:
        notices.append(
            "--live on a file: frames that arrive while one is being processed are "
            "dropped (the file is read as fast as it decodes); leave out --live to process "
            "every frame"
        )
    if not (args.out or args.jsonl or args.csv or args.show):
        notices.append(
            "no output option (--out, --jsonl, --csv, --show): nothing will be "
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
        sampler = FrameSampler(self.args.stride, self.args.fps)
        with VideoReader(source, sampler, silence_stderr=not self.args.live) as reader:
            code = self._frames(source, targets, reader)
        return code or self._check_length(source, reader)

    def _check_length(self, source: str, reader: VideoReader) -> int:
        """0, or EXIT_TRUNCATED (with a warning) when the file ended before its video did."""
        cut = reader.truncation()
        if cut is None:
            return 0
        accepted = self.args.allow_truncated
        log.warning(
            f"{source} {cut} (truncated or damaged); outputs hold the frames read"
            + ("" if accepted else f" (exit code {EXIT_TRUNCATED}; --allow-truncated accepts it)")
        )
        return 0 if accepted else EXIT_TRUNCATED

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

    def _frames(self, source: str, targets: dict[str, str | None], reader: VideoReader) -> int:
        """Process the frames, until the input ends, --max-frames, a signal or the window's
        q or Esc; 0, or the exit code of what stopped it (130, 143, QUIT)."""
        args = self.args
        frames = iter(reader)
        first = next(frames)  # InputError when there is none
        problem = misfit(args.boxes, first.rgb.shape[1], first.rgb.shape[0])
        if problem:
            args.parser.error(f"--person-boxes: {problem} ({source})")
        estimate = reader.frame_count_estimate
        total = -(-estimate // args.stride) if estimate and not args.fps else None
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
            size = (first.rgb.shape[1], first.rgb.shape[0])
            sink = FrameSink(
                outputs,
                targets,
                source,
                args.keypoints,
                reader.sampler.output_fps(reader.fps),
                size,
                self.preview,
                live=args.live,
                # a file's sound, in step with the frames kept (--live drops frames: none)
                audio_from=source if is_file(source) and not args.live else None,
            )
            sink_box.append(sink)
            outputs.callback(landmarker.close)  # live frames are delivered before outputs close
            progress = outputs.enter_context(
                tqdm(total=total, unit="frame", disable=args.quiet or not sys.stderr.isatty())
            )
            while self.notices:
                log.warning(self.notices.pop(0))
            processed = 0
            with StopSignal() as stop:
                for frame in itertools.chain([first], frames):
                    if (
                        stop.signum is not None
                        or sink.quit
                        or failures
                        or (args.max_frames is not None and processed >= args.max_frames)
                    ):
                        break
                    where = {
                        "rotation_degrees": args.rotate,
                        "person_boxes": args.boxes.get(frame.index),
                    }
                    if args.live:
                        indices.add(frame.timestamp_ms, frame.index)
                        landmarker.detect_async(frame.rgb, frame.timestamp_ms, **where)
                    else:
                        result = landmarker.detect_for_video(frame.rgb, frame.timestamp_ms, **where)
                        sink.write(result, frame.rgb, frame.index, frame.timestamp_ms)
                    processed += 1
                    progress.update(1)
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
            if sink.video.audio is not None:
                summary += f", audio: {sink.video.audio.codec}"
        if stop.signum is not None:
            summary += " (interrupted: outputs hold the frames done)"
        report(
            f"{source}: {summary}" if self.label_summaries else summary,
            "-" in (args.jsonl, args.csv),
        )
        if stop.signum is not None:
            return stop.exit_code
        return QUIT if sink.quit else 0
