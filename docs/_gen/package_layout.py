"""MkDocs hook: lay out the `blazepose_onnx` import package as the wheel does, so that the API
reference (mkdocstrings, which reads source files) finds every subpackage.

The repository keeps the design card's folders (runtime/ is `blazepose_onnx`, converter/ is
`blazepose_onnx.converter`, pyproject.toml's package-dir), which a static reader cannot follow.
The hook links each package's modules under build/docs-src/ from wherever Python imports them,
so the reference is written against public import paths and survives modules moving.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the docs extra brings tomli on 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / "build" / "docs-src"


def package_folders() -> dict[str, Path]:
    """Each import package of pyproject.toml and the folder Python imports it from."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {}
    for name in packages["packages"]:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"{name} is not importable: pip install -e '.[cpu,docs]' first")
        folders[name] = Path(next(iter(spec.submodule_search_locations)))
    return folders


def lay_out(target: Path = LAYOUT) -> Path:
    """Link every package's .py files under `target`/<dotted path as folders>."""
    shutil.rmtree(target, ignore_errors=True)
    for name, folder in package_folders().items():
        here = target.joinpath(*name.split("."))
        here.mkdir(parents=True, exist_ok=True)
        for module in folder.glob("*.py"):
            (here / module.name).symlink_to(module)
    return target


def on_startup(command: str, dirty: bool) -> None:
    lay_out()
