"""The errors blazepose-onnx raises: every one is a `BlazePoseError`, and those MediaPipe
raises as ValueError, TypeError or FileNotFoundError are that too. The converter's own are in
`blazepose_onnx.converter.errors`; a missing extra is `MissingExtraError` (an ImportError)."""

from __future__ import annotations

from blazepose_onnx.common.errors import (
    BlazePoseError,
    InvalidTypeError,
    InvalidValueError,
    MissingFileError,
    WriteError,
)
from blazepose_onnx.common.install import MissingExtraError, MissingRuntimeError


class ProviderError(BlazePoseError, ValueError):
    """An execution provider is unknown, not installed, or cannot run the model."""


class LandmarkerClosedError(BlazePoseError, ValueError):
    """A call on a PoseLandmarker after `close()`."""


class InputError(BlazePoseError):
    """A user's input that cannot be used (reported as one line)."""


__all__ = [
    "BlazePoseError",
    "InputError",
    "InvalidTypeError",
    "InvalidValueError",
    "LandmarkerClosedError",
    "MissingExtraError",
    "MissingFileError",
    "MissingRuntimeError",
    "ProviderError",
    "WriteError",
]
