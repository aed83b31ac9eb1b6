"""Every object the API reference documents (`::: path` in docs/reference/) is importable
from that public path, so the reference cannot name a path users cannot write, and a module
moved into a subpackage without keeping its public name fails here before the site build."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"
PATHS = sorted(
    {
        path
        for page in REFERENCE.glob("*.md")
        for path in re.findall(r"^::: ([\w.]+)", page.read_text(), re.M)
    }
)


def resolve(path: str) -> object:
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError as error:
            if not path.startswith(error.name or "\0"):
                raise  # a dependency missing, not a shorter module path
            continue
        for name in parts[split:]:
            value = getattr(value, name)
        return value
    raise ModuleNotFoundError(path)


def test_the_reference_documents_the_public_api():
    assert {"blazepose_onnx.PoseLandmarker", "blazepose_onnx.converter.verify_models"} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS)
def test_documented_path_is_importable(path):
    value = resolve(path)
    assert getattr(value, "__doc__", None), f"{path} has no docstring to show"
