"""Datasets of poses: `extract(sources, out, options)` runs every photo and video through the
pipeline into a resumable Parquet dataset (docs/datasets.md), on worker
processes or a Ray cluster. Needs pyarrow (the [extract] extra), and Ray for the Ray engine.

The module itself is callable: `blazepose_onnx.extract(...)` is `extract.run.extract(...)`.
"""

from __future__ import annotations

import sys
import types

from blazepose_onnx.common.install import require

require("pyarrow", "extract", "blazepose extract (Parquet output)")

from blazepose_onnx.extract.run import EXIT_SOME_FAILED, Summary, extract  # noqa: E402


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs) -> Summary:
        return extract(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["EXIT_SOME_FAILED", "Summary", "extract"]
