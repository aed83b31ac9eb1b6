"""What benchmark numbers were measured on: CPU and its flags, cores, GPUs and driver, Python,
ONNX Runtime and its providers, and the versions of the packages that decide the numbers."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import onnxruntime as ort

PACKAGES = (
    "blazepose-onnx",
    "numpy",
    "opencv-python-headless",
    "opencv-contrib-python",
    "onnx",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-openvino",
    "onnxruntime-directml",
    "mediapipe",
)


def _cpuinfo(field_name: str) -> str:
    """The first `field_name` line's value in /proc/cpuinfo ("" where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == field_name:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _gpus() -> str:
    """NVIDIA GPUs and driver as nvidia-smi reports them ("" without one)."""
    if shutil.which("nvidia-smi") is None:
        return ""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    gpus = [", driver ".join(map(str.strip, line.split(","))) for line in done.stdout.splitlines()]
    return "; ".join(gpu for gpu in gpus if gpu) if done.returncode == 0 else ""


def _packages() -> dict[str, str]:
    """Versions of the installed packages that decide the numbers."""
    found = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu": _cpuinfo("model name") or platform.processor() or platform.machine(),
        "cpu_flags": _cpuinfo("flags") or _cpuinfo("Features"),
        "logical_cores": str(os.cpu_count()),
        "gpu": _gpus(),
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "providers": ", ".join(ort.get_available_providers()),
        "platform": platform.platform(),
        "packages": _packages(),
    }
