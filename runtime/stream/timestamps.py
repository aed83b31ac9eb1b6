"""Stream timestamps: non-negative ints in milliseconds that increase strictly."""

from __future__ import annotations

from typing import Any

import numpy as np

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError


class TimestampCheck:
    """Remembers the last timestamp of one stream and refuses bad next ones."""

    def __init__(self) -> None:
        self.last: int | None = None

    def check(self, timestamp_ms: Any, record: bool = True) -> int:
        """Validate (and unless `record=False`, record) `timestamp_ms`; TypeError/ValueError
        name the problem."""
        if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, (int, np.integer)):
            raise InvalidTypeError(
                f"timestamp_ms must be an int, got {type(timestamp_ms).__name__}"
            )
        if timestamp_ms < 0:
            raise InvalidValueError(f"timestamp_ms must not be negative, got {timestamp_ms}")
        if self.last is not None and timestamp_ms <= self.last:
            raise InvalidValueError(
                f"Input timestamp must be monotonically increasing: {timestamp_ms} ms after "
                f"{self.last} ms"
            )
        if record:
            self.last = int(timestamp_ms)
        return int(timestamp_ms)
