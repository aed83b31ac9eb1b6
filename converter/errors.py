"""The converter's exception types: every failure a user can cause is one of these or another
`blazepose_onnx.errors.BlazePoseError` (a missing extra, an output that cannot be written, a
bad argument)."""

from __future__ import annotations

from blazepose_onnx.common.errors import BlazePoseError
from blazepose_onnx.common.install import MissingExtraError


class ConverterError(BlazePoseError):
    """Base class of the converter's own errors: a clear, one-line problem."""


class BundleError(ConverterError, ValueError):
    """A `.task` bundle is missing, not a zip, truncated or lacks a member."""


class IntegrityError(ConverterError, ValueError):
    """A file's sha256 or weights fingerprint does not match the manifest."""


class SourceError(ConverterError):
    """No source could provide a model (each source tried is listed with its reason).

    A command line adds how its own options supply a bundle (`supply_hint` of `run_command`).
    """


class ModelFormatError(ConverterError, ValueError):
    """A TFLite or ONNX file is corrupt or not what it claims to be."""


class StaleModelError(ModelFormatError):
    """A converted model without the graph digest: written by an older blazepose-onnx."""


class UnsupportedOperatorError(ConverterError):
    """The TFLite graph uses an operator (or option) the native backend cannot translate."""


class VerificationError(ConverterError):
    """A converted model differs from the TFLite original beyond tolerance."""


# The old name of the one missing-extra error (an ImportError naming the install command).
MissingDependencyError = MissingExtraError


class UnknownVariantError(ConverterError, ValueError):
    """A model variant name that is not lite, full or heavy."""


class ModelNotFoundError(ConverterError, FileNotFoundError):
    """A bundle or model file given by path does not exist."""
