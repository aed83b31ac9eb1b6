"""The one place that builds ONNX Runtime sessions: provider names, options, checks.

Providers are given by short name ('cpu', 'cuda', 'tensorrt', 'openvino', 'coreml',
'directml', or 'auto' for the fastest available), optionally with options:
`["cuda", "cpu"]` or `[("tensorrt", {"fp16": True, "engine_cache_dir": "trt"}), "cuda"]`.
A provider is available only when it really runs a model here (`provider_check`). The first
provider must really run the model: ONNX Runtime's silent fallback to CPU is an error unless
`provider_fallback=True`, which only warns.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort

from blazepose_onnx.errors import ProviderError
from blazepose_onnx.install import flavour_command
from blazepose_onnx.provider_check import bf16_problem, preload_gpu_libraries, provider_problem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderInfo:
    """What a short provider name means and what it needs."""

    ort_name: str
    install: str  # how to get it
    options: Mapping[str, str]  # our option name -> ONNX Runtime option name


PROVIDERS: dict[str, ProviderInfo] = {
    "cpu": ProviderInfo("CPUExecutionProvider", "always available", {}),
    "cuda": ProviderInfo(
        "CUDAExecutionProvider",
        f"{flavour_command('gpu', 'onnxruntime-gpu')} (onnxruntime-gpu with its CUDA 13 and "
        "cuDNN 9 wheels; an NVIDIA driver for CUDA 13)",
        {
            "device_id": "device_id",
            "gpu_mem_limit": "gpu_mem_limit",
            "cudnn_conv_algo_search": "cudnn_conv_algo_search",
        },
    ),
    "tensorrt": ProviderInfo(
        "TensorrtExecutionProvider",
        f"{flavour_command('gpu', 'onnxruntime-gpu')} plus the TensorRT 10 libraries (libnvinfer)",
        {
            "device_id": "device_id",
            "fp16": "trt_fp16_enable",
            "engine_cache_dir": "trt_engine_cache_path",
        },
    ),
    "openvino": ProviderInfo(
        "OpenVINOExecutionProvider",
        f"{flavour_command('openvino', 'onnxruntime-openvino')} (onnxruntime-openvino)",
        {"device": "device_type", "precision": "precision", "threads": "num_of_threads"},
    ),
    "coreml": ProviderInfo(
        "CoreMLExecutionProvider",
        "the standard onnxruntime wheel on macOS",
        {"compute_units": "MLComputeUnits"},
    ),
    "directml": ProviderInfo(
        "DmlExecutionProvider",
        f"{flavour_command('directml', 'onnxruntime-directml')} (onnxruntime-directml, Windows)",
        {"device_id": "device_id"},
    ),
}
# Accelerators first, then the CPU provider. OpenVINO on a CPU is not faster than the CPU
# provider once unused model heads are pruned (README, Speed), so `auto` never picks it.
AUTO_ORDER = ("tensorrt", "cuda", "coreml", "directml", "cpu")

GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")

ProviderRequest = str | tuple[str, Mapping[str, Any]]


def available_providers() -> list[str]:
    """Short names of the providers that really run a model here (probed once per process)."""
    return [name for name, info in PROVIDERS.items() if provider_problem(info.ort_name) is None]


def unavailable_reason(name: str) -> str | None:
    """Why a known provider cannot be used here (None when it can), with the install it needs
    when this onnxruntime build lacks it."""
    info = PROVIDERS[name]
    problem = provider_problem(info.ort_name)
    if problem is None or info.ort_name in ort.get_available_providers():
        return problem
    return f"{problem}; needs {info.install}"


def _ort_options(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    known = PROVIDERS[name].options
    unknown = sorted(set(options) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise ProviderError(
            f"invalid option(s) {', '.join(unknown)} for provider {name!r} (allowed: {allowed})"
        )
    translated = {known[key]: value for key, value in options.items()}
    if name == "tensorrt" and "trt_engine_cache_path" in translated:
        translated["trt_engine_cache_enable"] = True
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in translated.items()
    }


def resolve_providers(
    requests: Sequence[ProviderRequest], num_threads: int | None = None, precision: str = "fp32"
) -> list[tuple[str, str, dict[str, str]]]:
    """(short name, ONNX Runtime name, ONNX Runtime options) per request; 'auto' expands.

    Unknown names, unavailable providers and invalid options raise `ProviderError`.
    `num_threads` also reaches OpenVINO, which keeps its own thread pool, and so does
    precision 'bf16' (OpenVINO's CPU inference precision).
    """
    available = available_providers()
    resolved = []
    for request in requests:
        name, options = (request, {}) if isinstance(request, str) else request
        key = str(name).lower()
        if key == "auto":
            key = next(p for p in AUTO_ORDER if p in available)
        if key not in PROVIDERS:
            raise ProviderError(
                f"unknown execution provider {name!r}: expected one of "
                f"{', '.join(PROVIDERS)} or auto"
            )
        if key not in available:
            raise ProviderError(
                f"execution provider {key!r} is not available: "
                f"{unavailable_reason(key)} (available: {', '.join(available)})"
            )
        if not isinstance(options, Mapping):
            raise ProviderError(f"options of provider {key!r} must be a mapping, got {options!r}")
        ort_options = _ort_options(key, options)
        if key == "openvino" and num_threads is not None:
            ort_options.setdefault("num_of_threads", str(num_threads))
        if key == "openvino" and precision == "bf16":
            ort_options["load_config"] = _bf16_config(ort_options.get("device_type", "CPU"))
        resolved.append((key, PROVIDERS[key].ort_name, ort_options))
    return resolved


def _bf16_config(device: str) -> str:
    """OpenVINO's load_config asking its CPU plugin to compute in bfloat16."""
    if device.upper() != "CPU":
        raise ProviderError(f"precision 'bf16' runs on OpenVINO's CPU device, not {device!r}")
    problem = bf16_problem()
    if problem is not None:
        raise ProviderError(f"precision 'bf16' needs native bfloat16: {problem}")
    return json.dumps({"CPU": {"INFERENCE_PRECISION_HINT": "bf16"}})


def create_session(
    model: str | os.PathLike | bytes,
    providers: Sequence[ProviderRequest],
    num_threads: int | None = None,
    provider_fallback: bool = False,
    label: str | None = None,
    precision: str = "fp32",
) -> ort.InferenceSession:
    """An InferenceSession with full graph optimisation on the requested providers.

    `model` is a path or a serialised model (`label` then names it in errors); `precision`
    'bf16' makes OpenVINO compute in bfloat16. The first
    requested provider must be the one in use (or `provider_fallback=True`, which warns), and
    must run the model: one warm-up run with zeros checks it.
    """
    label = label or (str(model) if not isinstance(model, bytes) else "the model")
    resolved = resolve_providers(providers, num_threads, precision)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Each session has its own thread pool; threads left spinning after one model's run steal
    # the cores the other model needs next (measured: 37.8 -> 22.0 ms per full-model frame).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    if any(ort_name in GPU_PROVIDERS for _, ort_name, _ in resolved):
        preload_gpu_libraries()
    if num_threads is not None:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    first = resolved[0][0]
    try:
        session = ort.InferenceSession(
            model if isinstance(model, bytes) else str(model),
            options,
            providers=[ort_name for _, ort_name, _ in resolved],
            provider_options=[ort_options for _, _, ort_options in resolved],
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ProviderError(f"provider {first!r} could not load {label}: {exc}") from exc
    in_use = session.get_providers()[0]
    if in_use != resolved[0][1]:
        message = f"provider {first!r} was requested but ONNX Runtime fell back to {in_use}"
        if not provider_fallback:
            raise ProviderError(
                message + " (set provider_fallback=True, CLI --provider-fallback, to accept that)"
            )
        log.warning(message)
    _warm_up(session, first, label)
    return session


INPUT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(uint8)": np.uint8,
}


def _warm_up(session: ort.InferenceSession, provider: str, label: str) -> None:
    """Run the model once on zeros; a provider that cannot run it fails here, by name."""
    feeds = {}
    for value in session.get_inputs():
        shape = [1 if not isinstance(d, int) else d for d in value.shape]
        feeds[value.name] = np.zeros(shape, INPUT_DTYPES.get(value.type, np.float32))
    try:
        session.run(None, feeds)
    except Exception as exc:
        raise ProviderError(
            f"provider {provider!r} loaded {label} but cannot run it: {exc}"
        ) from exc
