"""Whether an execution provider can really run here, decided by running a tiny model on it.

`onnxruntime.get_available_providers()` lists what a build was compiled with, not what works:
the CUDA build lists CUDAExecutionProvider on a machine without a GPU or without cuDNN, and
ONNX Runtime then silently runs on the CPU. So a provider counts as usable only when a session
on a one-node model reports it in use and runs; otherwise the reason names what is missing
(the provider library's missing dependency, the NVIDIA driver, the device). Cached per process.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from pathlib import Path

import numpy as np
import onnxruntime as ort

CUDA_PROVIDER_LIBRARIES = {
    "CUDAExecutionProvider": "libonnxruntime_providers_cuda.so",
    "TensorrtExecutionProvider": "libonnxruntime_providers_tensorrt.so",
}
CUDA_DRIVER = "libcuda.so.1"
CUDA_ERRORS = {100: "no CUDA-capable device is present", 35: "the NVIDIA driver is too old"}


@functools.lru_cache(maxsize=1)
def tiny_model() -> bytes:
    """A serialised one-node model (y = x + 1, float32 [1, 4]) for probing providers."""
    from onnx import TensorProto, helper  # only a probe needs onnx, not a CPU session

    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "one"], ["y"])],
        "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return model.SerializeToString()


def preload_gpu_libraries() -> None:
    """Load the CUDA/cuDNN libraries that pip's nvidia-* wheels put in site-packages
    (onnxruntime-gpu's `preload_dlls`), so no LD_LIBRARY_PATH is needed."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        with contextlib.suppress(Exception):  # a partial install: the probe says what is missing
            preload()


def _library_problem(ort_name: str) -> str | None:
    """Why the CUDA driver or the provider's shared library cannot be loaded, if it cannot."""
    library = CUDA_PROVIDER_LIBRARIES.get(ort_name)
    if library is None:
        return None
    try:
        driver = ctypes.CDLL(CUDA_DRIVER)
    except OSError:
        return f"no NVIDIA driver ({CUDA_DRIVER} not found)"
    code = driver.cuInit(0)
    if code != 0:
        return f"CUDA cannot start: {CUDA_ERRORS.get(code, f'cuInit error {code}')}"
    try:
        ctypes.CDLL(str(Path(ort.__file__).parent / "capi" / library))
    except OSError as exc:
        return f"{library} cannot be loaded: {exc}"
    return None


BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def bf16_problem(cpuinfo: str = "/proc/cpuinfo") -> str | None:
    """Why this CPU cannot run bfloat16 natively (None when it can, or cannot be told)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None  # not Linux: OpenVINO decides
    lines = [line for line in text.splitlines() if line.startswith("flags")]
    if not lines or any(flag in lines[0].split() for flag in BF16_CPU_FLAGS):
        return None
    return "this CPU has no native bfloat16 (neither AVX512-BF16 nor AMX)"


@functools.cache
def provider_problem(ort_name: str) -> str | None:
    """None when `ort_name` runs a model here, else one line saying why not."""
    if ort_name not in ort.get_available_providers():
        return f"not in this onnxruntime build ({ort.__version__})"
    if ort_name == "CPUExecutionProvider":
        return None
    preload_gpu_libraries()
    problem = _library_problem(ort_name)
    if problem is not None:
        return problem
    options = ort.SessionOptions()
    options.log_severity_level = 4  # the reason is ours to give, in one line
    try:
        session = ort.InferenceSession(tiny_model(), options, providers=[ort_name])
        in_use = session.get_providers()[0]
        if in_use != ort_name:
            return f"ONNX Runtime could not start it and fell back to {in_use}"
        session.run(None, {"x": np.zeros((1, 4), np.float32)})
    except Exception as exc:  # onnxruntime raises its own types
        return f"a test model failed: {str(exc).strip().splitlines()[0]}"
    return None
