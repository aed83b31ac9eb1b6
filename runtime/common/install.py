"""What to type to add a missing part: the pip command for how this package was installed.

The package is not on PyPI yet, so `pip install 'blazepose-onnx[cpu]'` only works after a
release; an editable checkout, a local folder or a wheel file needs its own path. pip records
which one in the distribution's `direct_url.json` (PEP 610).
"""

from __future__ import annotations

import importlib
import json
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlparse

from blazepose_onnx.common.errors import BlazePoseError

DISTRIBUTION = "blazepose-onnx"
# The repository root when running from a checkout (runtime/ is the package there).
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def install_command(extras: str) -> str:
    """`pip install ...` that adds `extras` (e.g. 'cpu') to this installation."""
    try:
        direct = json.loads(
            metadata.distribution(DISTRIBUTION).read_text("direct_url.json") or "{}"
        )
    except (metadata.PackageNotFoundError, json.JSONDecodeError):
        direct = {}
    url = direct.get("url", "")
    if url.startswith("file:"):
        path = unquote(urlparse(url).path)
        editable = direct.get("dir_info", {}).get("editable", False)
        return f"pip install {'-e ' if editable else ''}'{path}[{extras}]'"
    if not direct and (SOURCE_ROOT / "pyproject.toml").is_file():  # a checkout, not installed
        return f"pip install -e '{SOURCE_ROOT}[{extras}]'"
    return f"pip install '{DISTRIBUTION}[{extras}]'"


# Every ONNX Runtime flavour installs the same `onnxruntime` module, so only one may be installed.
RUNTIME_DISTRIBUTIONS = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-openvino",
    "onnxruntime-directml",
)


def flavour_command(extra: str, distribution: str) -> str:
    """What to type to switch to the ONNX Runtime flavour `extra` installs (`distribution`):
    the other flavours installed here are uninstalled first, as they share its module."""
    others = []
    for name in RUNTIME_DISTRIBUTIONS:
        if name != distribution:
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                continue
            others.append(name)
    uninstall = f"pip uninstall -y {' '.join(others)} && " if others else ""
    return f"{uninstall}{install_command(extra)}"


class MissingExtraError(BlazePoseError, ImportError):
    """A module that an extra installs is missing; the message gives the install command."""


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """`module`, imported; MissingExtraError naming `purpose` and the command that adds `extra`
    when it is not installed (or cannot be imported)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = isinstance(exc, ModuleNotFoundError) and f"{module}.".startswith(f"{exc.name}.")
        state = "which is not installed" if missing else f"which cannot be imported ({exc})"
        raise MissingExtraError(
            f"{purpose} needs {module}, {state}: {install_command(extra)}"
        ) from exc


class MissingRuntimeError(MissingExtraError):
    """No ONNX Runtime build is installed (every flavour ships the `onnxruntime` module)."""


def require_onnxruntime() -> None:
    """Raise MissingRuntimeError, with the command that installs one, when none is installed
    (without importing it: `import blazepose_onnx` and the CLI's parser stay cheap)."""
    if find_spec("onnxruntime") is None:
        raise MissingRuntimeError(
            "blazepose-onnx needs one ONNX Runtime build and none is installed: "
            f"{install_command('cpu')} (or [gpu], [openvino], [directml] in place of [cpu])"
        )
