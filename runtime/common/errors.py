"""The base of every error blazepose-onnx raises on purpose, the general ones, and the exit
codes of its command lines.

A `BlazePoseError` is a problem with what the code was given (an option, an image, a file, a
missing extra, the machine), said in one line; the command lines print it as `prog: error: ...`
and exit 1. Errors that MediaPipe raises as ValueError, TypeError or FileNotFoundError keep
that type too (multiple inheritance), so `except ValueError` code keeps working. Anything else
escaping is a bug, and the command lines show its traceback.
"""

from __future__ import annotations


class BlazePoseError(Exception):
    """Base class of the errors blazepose-onnx raises on purpose (runtime and converter)."""


class InvalidValueError(BlazePoseError, ValueError):
    """An option or argument out of its range or not one of its choices, or data (an image,
    boxes, a timestamp) that cannot be used; the message names it."""


class InvalidTypeError(BlazePoseError, TypeError):
    """An option or argument of the wrong type; the message names it and the type expected."""


class MissingFileError(BlazePoseError, FileNotFoundError):
    """A file given by path (an image, a model) does not exist."""


class WriteError(BlazePoseError):
    """An output cannot be written: its folder cannot be made or written, or a folder stands
    where the file should go."""


# Exit codes of `blazepose` and `blazepose-convert` (besides 0, 1 for an error, 2 for usage).
# `detect`, `video` and `extract`: some inputs could not be read (or failed); the others'
# results were written. It wins over EXIT_TRUNCATED when both happened.
EXIT_SOME_FAILED = 4
# `video` and `extract`: a video file ended before its video stream did (truncated or damaged);
# the frames read were written.
EXIT_TRUNCATED = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM: kill, docker stop, systemd
