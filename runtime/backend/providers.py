"""The one place that builds ONNX Runtime sessions: provider names, options, checks.

Providers are given by short name ('cpu', 'cuda', 'tensorrt', 'openvino', 'coreml',
'directml', or 'auto' for the fastest available), optionally with options:
`["cuda", "cpu"]` or `[("tensorrt", {"fp16": True, "engine_cache_dir": "trt"}), "cuda"]`.
A provider is available only when it really runs a model here (`provider_check`). The first
provider must really run the model, every node of it, as ONNX Runtime's record of the session
says (`placement`): a fallback of the whole model or of some nodes to another provider is an
error naming the count, unless `provider_fallback=True`, which only warns.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort

from blazepose_onnx.backend.model_form import ModelForm
from blazepose_onnx.backend.model_session import INPUT_DTYPES, ModelSession
from blazepose_onnx.backend.placement import PlacementRecorder
from blazepose_onnx.backend.provider_check import (
    bf16_problem,
    preload_gpu_libraries,
    provider_problem,
)
from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.common.install import flavour_command
from blazepose_onnx.errors import ProviderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderInfo:
    """What a short provider name means, what it needs, and its options.

    `options` maps our option names to ONNX Runtime's; `ours` are options the runtime itself
    applies (batch sizes, IO binding), with their defaults; `defaults` are ONNX Runtime
    options set unless the user sets them.
    """

    ort_name: str
    install: str  # how to get it
    options: Mapping[str, str]  # our option name -> ONNX Runtime option name
    ours: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


IO_BINDING = "io_binding"
# cuDNN's convolution algorithm search. EXHAUSTIVE (ONNX Runtime's default) times every
# algorithm for each new input shape, and the landmarker sees a new shape for every new number
# of people or streams (its batch); HEURISTIC takes cuDNN's pick at no cost per shape.
CUDNN_CONV_ALGO_SEARCH = "HEURISTIC"
TENSORRT_MAX_BATCH = 64  # the profile's largest batch; larger runs go in chunks of it
COREML_COMPUTE_UNITS = ("CPUOnly", "CPUAndNeuralEngine", "CPUAndGPU", "ALL")

PROVIDERS: dict[str, ProviderInfo] = {
    "cpu": ProviderInfo("CPUExecutionProvider", "always available", {}, {IO_BINDING: False}),
    "cuda": ProviderInfo(
        "CUDAExecutionProvider",
        f"{flavour_command('gpu', 'onnxruntime-gpu')} (onnxruntime-gpu with its CUDA 13 and "
        "cuDNN 9 wheels; an NVIDIA driver for CUDA 13)",
        {
            "device_id": "device_id",
            "gpu_mem_limit": "gpu_mem_limit",
            "cudnn_conv_algo_search": "cudnn_conv_algo_search",
        },
        {IO_BINDING: True},
        {"cudnn_conv_algo_search": CUDNN_CONV_ALGO_SEARCH},
        {"cudnn_conv_algo_search": ("EXHAUSTIVE", "HEURISTIC", "DEFAULT")},
    ),
    "tensorrt": ProviderInfo(
        "TensorrtExecutionProvider",
        f"{flavour_command('gpu', 'onnxruntime-gpu')} plus the TensorRT 10 libraries (libnvinfer)",
        {
            "device_id": "device_id",
            "fp16": "trt_fp16_enable",
            "engine_cache_dir": "trt_engine_cache_path",
        },
        {IO_BINDING: True, "max_batch": TENSORRT_MAX_BATCH, "opt_batch": 1},
    ),
    "openvino": ProviderInfo(
        "OpenVINOExecutionProvider",
        f"{flavour_command('openvino', 'onnxruntime-openvino')} (onnxruntime-openvino)",
        {"device": "device_type", "precision": "precision", "threads": "num_of_threads"},
    ),
    "coreml": ProviderInfo(
        "CoreMLExecutionProvider",
        "the standard onnxruntime wheel on macOS",
        {
            "compute_units": "MLComputeUnits",
            "model_format": "ModelFormat",
            "cache_dir": "ModelCacheDirectory",
        },
        {"batch_size": 1},
        {"ModelFormat": "MLProgram", "RequireStaticInputShapes": "1"},
        {"compute_units": COREML_COMPUTE_UNITS, "model_format": ("MLProgram", "NeuralNetwork")},
    ),
    "directml": ProviderInfo(
        "DmlExecutionProvider",
        f"{flavour_command('directml', 'onnxruntime-directml')} (onnxruntime-directml, Windows)",
        {"device_id": "device_id"},
    ),
}
SHORT_NAMES = {info.ort_name: name for name, info in PROVIDERS.items()}
# Accelerators first, then the CPU provider. OpenVINO on a CPU is not faster than the CPU provider
# once unused model heads are pruned (docs/performance.md#blazepose-bench), so `auto` never picks
# it.
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


@dataclass(frozen=True)
class ResolvedProvider:
    """A requested provider: short name, ONNX Runtime name, ONNX Runtime options, and the
    runtime's own options (`ProviderInfo.ours`, defaults filled in)."""

    name: str
    ort_name: str
    ort_options: dict[str, str]
    ours: dict[str, Any]


def split_options(name: str, options: Mapping[str, Any]) -> tuple[dict[str, str], dict]:
    """(ONNX Runtime options, our options) for `name`; a bad name or value is a ProviderError."""
    info = PROVIDERS[name]
    unknown = sorted(set(options) - set(info.options) - set(info.ours))
    if unknown:
        allowed = ", ".join([*info.options, *info.ours]) or "none"
        raise ProviderError(
            f"invalid option(s) {', '.join(unknown)} for provider {name!r} (allowed: {allowed})"
        )
    for key, choices in info.choices.items():
        if key in options and options[key] not in choices:
            raise ProviderError(
                f"option {key} of provider {name!r} must be one of {', '.join(choices)}, "
                f"got {options[key]!r}"
            )
    ours = {**info.ours, **{k: v for k, v in options.items() if k in info.ours}}
    for key, value in ours.items():
        expected = bool if isinstance(info.ours[key], bool) else int
        if not isinstance(value, expected) or (
            expected is int and (isinstance(value, bool) or value < 1)
        ):
            kind = "True or False" if expected is bool else "an int >= 1"
            raise ProviderError(f"option {key} of provider {name!r} must be {kind}, got {value!r}")
    if name == "tensorrt" and ours["opt_batch"] > ours["max_batch"]:
        raise ProviderError(
            f"option opt_batch of provider 'tensorrt' ({ours['opt_batch']}) exceeds max_batch "
            f"({ours['max_batch']})"
        )
    translated = {info.options[k]: v for k, v in options.items() if k in info.options}
    if name == "tensorrt" and "trt_engine_cache_path" in translated:
        cache = translated["trt_engine_cache_path"]
        translated.update(
            trt_engine_cache_enable=True, trt_timing_cache_enable=True, trt_timing_cache_path=cache
        )
    ort_options = {**info.defaults, **translated}
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in ort_options.items()
    }, ours


def ort_options(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    """The ONNX Runtime options `options` (ours, by our names) give provider `name`."""
    return split_options(name, options)[0]


def known_provider(name: str) -> str:
    """A provider's short name (or 'auto') as the runtime knows it, case aside; ProviderError
    naming the known ones otherwise."""
    key = str(name).lower()
    if key != "auto" and key not in PROVIDERS:
        raise ProviderError(
            f"unknown execution provider {name!r}: expected one of {', '.join(PROVIDERS)} or auto"
        )
    return key


def resolve_providers(
    requests: Sequence[ProviderRequest], num_threads: int | None = None, precision: str = "fp32"
) -> list[ResolvedProvider]:
    """The requested providers, checked and with their options translated; 'auto' expands.

    Unknown names, unavailable providers and invalid options raise `ProviderError`.
    `num_threads` also reaches OpenVINO, which keeps its own thread pool, and so does
    precision 'bf16' (OpenVINO's CPU inference precision).
    """
    available = available_providers()
    resolved = []
    for request in requests:
        name, options = (request, {}) if isinstance(request, str) else request
        key = known_provider(name)
        if key == "auto":
            key = next(p for p in AUTO_ORDER if p in available)
        if key not in available:
            raise ProviderError(
                f"execution provider {key!r} is not available: "
                f"{unavailable_reason(key)} (available: {', '.join(available)})"
            )
        if not isinstance(options, Mapping):
            raise ProviderError(f"options of provider {key!r} must be a mapping, got {options!r}")
        ort_options, ours = split_options(key, options)
        if key == "openvino" and num_threads is not None:
            ort_options.setdefault("num_of_threads", str(num_threads))
        if key == "openvino" and precision == "bf16":
            ort_options["load_config"] = _bf16_config(ort_options.get("device_type", "CPU"))
        resolved.append(ResolvedProvider(key, PROVIDERS[key].ort_name, ort_options, ours))
    return resolved


def on_device(request: ProviderRequest, device_id: int) -> ProviderRequest:
    """`request` on the device `device_id` (a Triton GPU instance's), where its provider takes
    a device (CUDA, TensorRT, DirectML); other requests as they are."""
    name, options = (request, {}) if isinstance(request, str) else request
    info = PROVIDERS.get(str(name).lower())
    if info is None or "device_id" not in info.options:
        return request
    return (name, {**options, "device_id": device_id})


def model_form(requests: Sequence[ProviderRequest]) -> ModelForm:
    """The form of the models handed to these providers, decided by the first, which runs
    them: on CoreML a fixed batch (`batch_size`, 1 by default) and a float32 image input;
    elsewhere any batch and a uint8 input."""
    name, options = (requests[0], {}) if isinstance(requests[0], str) else requests[0]
    key = known_provider(name)
    if key == "auto":
        (auto,) = resolve_providers(["auto"])
        key = auto.name
    if key != "coreml":
        return ModelForm()
    return ModelForm(batch=split_options("coreml", options)[1]["batch_size"], float_input=True)


def _bf16_config(device: str) -> str:
    """OpenVINO's load_config asking its CPU plugin to compute in bfloat16."""
    if device.upper() != "CPU":
        raise ProviderError(f"precision 'bf16' runs on OpenVINO's CPU device, not {device!r}")
    problem = bf16_problem()
    if problem is not None:
        raise ProviderError(f"precision 'bf16' needs native bfloat16: {problem}")
    return json.dumps({"CPU": {"INFERENCE_PRECISION_HINT": "bf16"}})


THREADS_VARIABLE = "BLAZEPOSE_NUM_THREADS"


def default_num_threads() -> int | None:
    """ONNX Runtime's intra-op threads per model where none are asked for: the environment's
    BLAZEPOSE_NUM_THREADS (say 1 where several processes share the cores: two threads per model
    then only fight each other for them), else None (ONNX Runtime's default, one per core).

    Raises:
        InvalidValueError: the variable is set to anything but an integer >= 1.
    """
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdecimal() or int(value) < 1:
        raise InvalidValueError(f"{THREADS_VARIABLE} must be an integer >= 1, got {value!r}")
    return int(value)


def create_session(
    model: str | os.PathLike | bytes,
    providers: Sequence[ProviderRequest],
    num_threads: int | None = None,
    provider_fallback: bool = False,
    label: str | None = None,
    precision: str = "fp32",
    name: str | None = None,
    profile: bool = False,
) -> ModelSession:
    """A session with full graph optimisation on the requested providers.

    `model` is a path or a serialised model (`label` then names it in errors; `name`, e.g.
    'landmarker', names it in its placement); `precision` 'bf16' makes OpenVINO compute in
    bfloat16. The first requested provider must be the one in use and run every node (or
    `provider_fallback=True`, which warns), and must run the model: one warm-up run with
    zeros checks it. `profile` also measures each provider's share of the node time (a second,
    profiled run).
    """
    label = label or (str(model) if not isinstance(model, bytes) else "the model")
    if num_threads is None:
        num_threads = default_num_threads()
    resolved = resolve_providers(providers, num_threads, precision)
    first = resolved[0]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Each session has its own thread pool; threads left spinning after one model's run steal
    # the cores the other model needs next (measured: 37.8 -> 22.0 ms per full-model frame).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    if any(p.ort_name in GPU_PROVIDERS for p in resolved):
        preload_gpu_libraries()
    if any(p.name == "directml" for p in resolved):  # DirectML needs both (its documentation)
        options.enable_mem_pattern = False
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if num_threads is not None:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
    for provider in resolved:
        if provider.name == "tensorrt":
            provider.ort_options.update(tensorrt_profile(model, provider.ours))
    recorder = PlacementRecorder(name or label, SHORT_NAMES, profile)
    recorder.prepare(options)
    try:
        session = ort.InferenceSession(
            model if isinstance(model, bytes) else str(model),
            options,
            providers=[p.ort_name for p in resolved],
            provider_options=[p.ort_options for p in resolved],
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ProviderError(f"provider {first.name!r} could not load {label}: {exc}") from exc
    in_use = session.get_providers()[0]
    if in_use != first.ort_name:
        _fallback(
            f"provider {first.name!r} was requested but ONNX Runtime fell back to {in_use}",
            provider_fallback,
        )
    placement = recorder.read(session, lambda: warm_up(session, first.name, label))
    if in_use == first.ort_name and not placement.runs_all(first.name):
        _fallback(
            f"provider {first.name!r} runs only part of {label}: {placement.describe(first.name)}",
            provider_fallback,
        )
    batch = session.get_inputs()[0].shape[0]
    return ModelSession(
        session,
        placement,
        fixed_batch=batch if isinstance(batch, int) else None,
        max_batch=first.ours.get("max_batch"),
        io_binding=first.ours.get(IO_BINDING, False),
    )


def _fallback(message: str, accepted: bool) -> None:
    """A provider that does not run (all of) the model: a warning when accepted, else an error."""
    if not accepted:
        raise ProviderError(
            message + " (set provider_fallback=True, CLI --provider-fallback, to accept that)"
        )
    log.warning(message)


def tensorrt_profile(model: str | os.PathLike | bytes, ours: Mapping[str, Any]) -> dict[str, str]:
    """TensorRT's optimisation profile for the model's inputs whose only free dimension is the
    batch: batches 1 to `max_batch`, tuned for `opt_batch`, so that one engine serves every
    batch the runtime gives it (larger runs are split). Inputs with other free dimensions get
    no profile (TensorRT then builds for the shapes it sees)."""
    import onnx  # only TensorRT sessions read the model's inputs here

    graph = (
        onnx.load_model_from_string(model)
        if isinstance(model, bytes)
        else onnx.load(str(model), load_external_data=False)
    ).graph
    initializers = {tensor.name for tensor in graph.initializer}
    shapes = {}
    for value in graph.input:
        if value.name in initializers:
            continue
        dims = [
            d.dim_value if d.HasField("dim_value") else None
            for d in value.type.tensor_type.shape.dim
        ]
        if dims and dims[0] is None and None not in dims[1:]:
            shapes[value.name] = dims[1:]
    if not shapes:
        return {}

    def at(batch: int) -> str:
        return ",".join(f"{n}:{'x'.join(map(str, [batch, *d]))}" for n, d in shapes.items())

    return {
        "trt_profile_min_shapes": at(1),
        "trt_profile_opt_shapes": at(ours["opt_batch"]),
        "trt_profile_max_shapes": at(ours["max_batch"]),
    }


def warm_up(session: ort.InferenceSession, provider: str, label: str) -> None:
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
