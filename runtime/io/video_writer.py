"""Annotated video files: H.264 (plays in browsers) with the input's audio through PyAV when it
is installed, else OpenCV's MPEG-4 Part 2 (`mp4v`; the opencv-python wheels have no H.264
encoder) without sound; every file is checked after it is closed.

`cv2.VideoWriter.write` fails silently (a full disk leaves an unplayable file), so `close()`
reopens the file and raises `VideoWriteError` unless it holds every frame written.
"""

from __future__ import annotations

import contextlib
import importlib.util
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from blazepose_onnx.common.errors import BlazePoseError


class VideoWriteError(BlazePoseError, OSError):
    """A video file could not be written completely."""


H264 = "H.264 (libx264, via PyAV)"
MPEG4 = (
    "MPEG-4 Part 2 (mp4v, via OpenCV, no sound; install PyAV - the [video] extra - for H.264 "
    "with the input's audio)"
)
# Audio codecs an MP4 holds as they are (copied); any other is encoded to AAC.
MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"})
AAC_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}  # by channel count


def pyav_available() -> bool:
    return importlib.util.find_spec("av") is not None


class VideoFile:
    """Writes RGB uint8 frames of one size to `path` (an .mp4) and checks the result on close;
    with PyAV, the audio of the video file `audio_from` goes with them, up to the last frame."""

    def __init__(
        self,
        path: Path,
        fps: float,
        size: tuple[int, int],
        h264: bool | None = None,
        audio_from: str | None = None,
    ):
        self.path, self.size, self.frames, self.fps = path, size, 0, fps
        self.audio: AudioCopy | None = None
        width, height = size
        even = width % 2 == 0 and height % 2 == 0  # H.264 in yuv420p needs even sides
        self._pyav = (pyav_available() if h264 is None else h264) and even
        self.codec = H264 if self._pyav else MPEG4
        if self._pyav:
            import av

            self._container = av.open(str(path), mode="w", format="mp4")
            self._stream = self._container.add_stream(
                "libx264", rate=Fraction(fps).limit_denominator(1001)
            )
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"preset": "veryfast"}  # keeps up with the pipeline
            self._av = av
            if audio_from is not None:
                self.audio = AudioCopy.of(audio_from, self._container)
        else:
            self._writer, self.codec = _opencv_writer(path, fps, size)

    def write(self, rgb: np.ndarray) -> None:
        """Append one frame (HxWx3 uint8 RGB, the size given at creation)."""
        try:
            if self._pyav:
                frame = self._av.VideoFrame.from_ndarray(rgb, format="rgb24")
                self._container.mux(self._stream.encode(frame))
                if self.audio is not None:  # interleaved: the sound up to this frame's end
                    self.audio.mux_until((self.frames + 1) / self.fps)
            else:
                self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        except Exception as exc:  # PyAV's OSError (ENOSPC, EIO), cv2.error
            raise VideoWriteError(f"could not write video {self.path}: {exc}") from exc
        self.frames += 1

    def release(self) -> None:
        """Let the file go unfinished and unchecked (it is being thrown away)."""
        with contextlib.suppress(Exception):  # the run's own error is the one to report
            if self.audio is not None:
                self.audio.source.close()
            if self._pyav:
                self._container.close()
            else:
                self._writer.release()

    def close(self) -> None:
        """Finish the file, then check that it opens and holds every frame written."""
        try:
            if self._pyav:
                self._container.mux(self._stream.encode(None))
                if self.audio is not None:
                    self.audio.finish(self.frames / self.fps)
                self._container.close()
            else:
                self._writer.release()
        except Exception as exc:  # OSError, cv2.error, PyAV's FFmpegError
            raise VideoWriteError(f"could not write video {self.path}: {exc}") from exc
        problem = playback_problem(self.path, self.frames)
        if problem:
            raise VideoWriteError(f"could not write video {self.path}: {problem} (disk full?)")


class AudioCopy:
    """The first audio stream of a video file, into an MP4 being written beside its frames:
    packets copied where MP4 holds the codec, else encoded to AAC; timed from the source's
    first video frame (the annotated video's time 0), and cut at the annotated video's end."""

    def __init__(self, source, audio, target, encoder) -> None:
        self.source, self._audio, self._target, self._encoder = source, audio, target, encoder
        video = source.streams.video[0] if source.streams.video else None
        self._start = float(video.start_time * video.time_base) if video and video.start_time else 0
        self._packets = source.demux(audio)
        self._pending = None  # the packet read past the last cut
        name = audio.codec_context.name
        self.codec = f"{name} (the input's)" if encoder is None else f"the input's {name} as AAC"

    @classmethod
    def of(cls, path: str, container) -> AudioCopy | None:
        """The copy of `path`'s audio into `container` (None: the file has no audio stream)."""
        import av

        source = av.open(path)
        if not source.streams.audio:
            source.close()
            return None
        audio = source.streams.audio[0]
        if audio.codec_context.name in MP4_AUDIO:
            return cls(source, audio, container.add_stream_from_template(audio), None)
        encoder = container.add_stream("aac", rate=audio.rate or 48000)
        encoder.layout = AAC_LAYOUTS.get(audio.channels, "stereo")  # others mixed down
        return cls(source, audio, encoder, encoder)

    def _seconds(self, packet) -> float:
        return float(packet.pts * packet.time_base) - self._start

    def mux_until(self, seconds: float) -> None:
        """Write the audio packets that start before `seconds` of the annotated video."""
        for packet in self._until(seconds):
            if self._encoder is None:
                packet.pts = packet.dts = round(self._seconds(packet) / packet.time_base)
                packet.stream = self._target
                self._target.container.mux(packet)
            else:
                for frame in packet.decode():
                    frame.pts = None  # the encoder numbers its own samples
                    self._target.container.mux(self._encoder.encode(frame))

    def _until(self, seconds: float):
        while True:
            packet = self._pending or next(self._packets, None)
            self._pending = None
            if packet is None or (packet.pts is None and packet.size == 0):
                return  # the end of the source (its flush packet)
            if packet.pts is None or self._seconds(packet) < 0:
                continue  # before the first video frame, or untimed
            if self._seconds(packet) >= seconds:
                self._pending = packet
                return
            yield packet

    def finish(self, seconds: float) -> None:
        """Write the rest up to `seconds`, flush an encoder, and close the source."""
        self.mux_until(seconds)
        if self._encoder is not None:
            self._target.container.mux(self._encoder.encode(None))
        self.source.close()


def _opencv_writer(path: Path, fps: float, size: tuple[int, int]):
    """An OpenCV writer in MPEG-4 Part 2 (mp4v)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        writer.release()
        raise VideoWriteError(f"cannot write video {path}")
    return writer, MPEG4


def playback_problem(path: Path, frames: int) -> str | None:
    """Why a video file does not hold `frames` readable frames (None when it does): it must
    open, state that frame count, and decode its last frame."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return "the file does not open"
        stated = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if stated != frames:
            return f"it holds {stated} of the {frames} frames written"
        if frames and not (capture.set(cv2.CAP_PROP_POS_FRAMES, frames - 1) and capture.read()[0]):
            return "its last frame cannot be decoded"
        return None
    finally:
        capture.release()
