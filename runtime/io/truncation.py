"""Whether a video file ended before its video stream did (cut short or damaged): the one rule
of `blazepose video` (exit code 3) and `blazepose extract` (status `truncated`).

The video stream's own length decides: the frame count, or else the duration, its container
states for that stream (read with PyAV, the [video] extra). Where it states neither, or without
PyAV, the file's structure does: a file cut short ends inside what its container declares (an
MP4 box, the Matroska segment, an AVI RIFF chunk); a complete one does not. OpenCV's frame count
is not used: where the stream states none it is the container's duration times the frame rate,
and a container lasts as long as its longest stream, often the audio (phone clips).
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO

from blazepose_onnx.common.quiet import native_stderr_silenced


@dataclass(frozen=True)
class Truncation:
    """A video that ended early: the frames read, and the frames its video stream states (None
    where only the file's structure shows that it was cut short)."""

    frames: int
    stated: int | None

    def __str__(self) -> str:
        if self.stated is not None:
            return f"ended after {self.frames} of its {self.stated} frames"
        return f"ended after {self.frames} frames, inside the data its container declares"


def truncation(path: str | os.PathLike, frames: int) -> Truncation | None:
    """How a video file read to its end after `frames` frames fell short (None: it did not)."""
    stated = stated_frames(path)
    if stated is not None:
        count, rounding = stated
        return Truncation(frames, count) if frames + rounding < count else None
    return Truncation(frames, None) if cut_short(path) else None


def stated_frames(path: str | os.PathLike) -> tuple[int, int] | None:
    """The frames the file's first video stream states it has, and by how many frames a
    complete file may fall short of that count: (its frame count, 0), or (its duration times its
    frame rate, 1: rounding); None without PyAV or where the container states neither."""
    try:
        import av
    except ImportError:
        return None
    try:
        with native_stderr_silenced(), av.open(os.fspath(path)) as container:
            stream = container.streams.video[0]
            if stream.frames > 0:
                return stream.frames, 0
            seconds = _stream_seconds(stream)
            rate = stream.average_rate or stream.base_rate
    except (av.FFmpegError, IndexError, OSError):
        return None
    if seconds is None or not rate:
        return None
    return round(seconds * rate), 1


def _stream_seconds(stream) -> Fraction | None:
    """The stream's duration: its own field, or the DURATION tag Matroska writers store."""
    if stream.duration:
        return stream.duration * stream.time_base
    tag = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d+)?)", stream.metadata.get("DURATION", ""))
    if tag is None:
        return None
    hours, minutes, seconds = tag.groups()
    return Fraction(int(hours) * 3600 + int(minutes) * 60) + Fraction(seconds)


MATROSKA = b"\x1a\x45\xdf\xa3"
SEGMENT = b"\x18\x53\x80\x67"
MP4_TOP_LEVEL = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"styp", b"sidx", b"moof"}


def cut_short(path: str | os.PathLike) -> bool:
    """Whether the file ends before the end of what its container declares: an MP4/MOV top-level
    box, the Matroska/WebM segment, or an AVI RIFF chunk. Other containers (MPEG-TS, FLV) and
    sizes left open (live recordings) declare nothing: False."""
    size = os.path.getsize(path)
    with open(path, "rb") as file:
        head = file.read(12)
        if head[4:8] in MP4_TOP_LEVEL:
            return _boxes_end(file, size) > size
        if head[:4] == MATROSKA:
            return _segment_end(file) > size
        if head[:4] == b"RIFF":
            return _riff_end(file, size) > size + 1  # a last pad byte may be left out
    return False


def _boxes_end(file: BinaryIO, size: int) -> int:
    """Where the chain of top-level MP4 boxes ends (a box of size 0 runs to the file's end)."""
    at = 0
    while at + 8 <= size:
        file.seek(at)
        length, _ = struct.unpack(">I4s", file.read(8))
        if length == 1:
            (length,) = struct.unpack(">Q", file.read(8))
        elif length == 0:
            return size
        if length < 8:  # not a box: nothing declared beyond here
            return size
        at += length
    return at


def _vint(file: BinaryIO) -> tuple[int, bool]:
    """An EBML variable-length integer, and whether all its value bits are set (an element
    size left open)."""
    first = file.read(1)
    if not first:
        return 0, True
    width = 9 - first[0].bit_length()  # leading zeros + 1
    if not 1 <= width <= 8:
        return 0, True
    raw = first + file.read(width - 1)
    value = int.from_bytes(raw, "big") & ((1 << (7 * width)) - 1)  # the width marker off
    return value, value == (1 << (7 * width)) - 1


def _segment_end(file: BinaryIO) -> int:
    """Where the Matroska segment ends (0 when its size is left open or cannot be read)."""
    file.seek(len(MATROSKA))
    header_size, _ = _vint(file)
    file.seek(header_size, os.SEEK_CUR)
    if file.read(4) != SEGMENT:
        return 0
    segment_size, open_ended = _vint(file)
    return 0 if open_ended else file.tell() + segment_size


def _riff_end(file: BinaryIO, size: int) -> int:
    """Where the chain of RIFF chunks ends (AVI, OpenDML's AVIX chunks after the first)."""
    at = 0
    while at + 8 <= size:
        file.seek(at)
        tag, length = struct.unpack("<4sI", file.read(8))
        if tag != b"RIFF":
            return size
        at += 8 + length + (length & 1)
    return at
