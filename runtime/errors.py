"""The runtime's exception types (beyond ValueError, TypeError and FileNotFoundError), and the
exit status of a run where some inputs failed."""

from __future__ import annotations

# `video` and `extract`: a video file ended before its video stream did (truncated or damaged);
# the frames read were written.
EXIT_TRUNCATED = 3
# `detect`, `video` and `extract`: some inputs could not be read (or failed); the others' results
# were written. It wins over EXIT_TRUNCATED when both happened.
EXIT_SOME_FAILED = 4


class ProviderError(ValueError):
    """An execution provider is unknown, not installed, or cannot run the model."""


class LandmarkerClosedError(ValueError):
    """A call on a PoseLandmarker after `close()`."""


class InputError(Exception):
    """A user's input that cannot be used (reported as one line)."""
