"""Inputs a run skips because they cannot be read: each named on stderr as it is skipped, a
count at the end, and exit code 4; with `--strict`, or a single input, the error stops the run."""

from __future__ import annotations

import sys

from blazepose_onnx.common.errors import EXIT_SOME_FAILED
from blazepose_onnx.common.plural import counted
from blazepose_onnx.errors import InputError


class SkippedInputs:
    """The inputs of one run that could not be read, by name, with their errors."""

    def __init__(self, total: int, strict: bool, noun: str) -> None:
        self.total, self.strict, self.noun = total, strict, noun
        self.errors: dict[str, str] = {}

    def skip(self, name: str, error: InputError) -> None:
        """Record and name a skipped input; raise `error` when the run must stop at it."""
        if self.strict or self.total == 1:
            raise error
        self.errors[name] = str(error)
        print(f"blazepose: skipped {name}: {error}", file=sys.stderr)

    def report(self) -> int:
        """Say how many were skipped (if any); the run's exit code for them (0 or 4)."""
        if not self.errors:
            return 0
        print(
            f"blazepose: {len(self.errors)} of {counted(self.total, self.noun)} could not be read: "
            f"{', '.join(self.errors)} (exit code {EXIT_SOME_FAILED})",
            file=sys.stderr,
        )
        return EXIT_SOME_FAILED
