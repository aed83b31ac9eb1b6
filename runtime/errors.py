"""The runtime's exception types (beyond ValueError, TypeError and FileNotFoundError)."""

from __future__ import annotations


class ProviderError(ValueError):
    """An execution provider is unknown, not installed, or cannot run the model."""


class LandmarkerClosedError(ValueError):
    """A call on a PoseLandmarker after `close()`."""


class InputError(Exception):
    """A user's input that cannot be used (reported as one line)."""
