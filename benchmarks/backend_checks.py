"""The GPU check's backend steps, measured on the provider under test (gpu_check.py):

- placement: per variant and model, the nodes each provider runs (ONNX Runtime's record) and
  each provider's share of the node time (a profiled run);
- TensorRT: the engine builds with the optimisation profile (batches 1 to max_batch): session
  creation (the build), the first and second run at each batch size the APIs use (a rebuild
  would make a first run far slower than the second), then creation again from the engine
  cache; with fp16 too;
- IO binding against plain runs, interleaved, at the landmarker batch sizes of batched and
  multi-stream serving;
- cuDNN's convolution algorithm search (CUDA): EXHAUSTIVE against HEURISTIC, the first run at
  each new batch size and the steady time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, samples
from blazepose_onnx.backend.provider_models import provider_models
from blazepose_onnx.backend.providers import ProviderRequest, create_session, unavailable_reason
from blazepose_onnx.io.inputs import read_image
from blazepose_onnx.pipeline.landmarker import crop_inputs

TENSORRT_BATCHES = (1, 2, 8, 32, 64)
CUDNN_BATCHES = (1, 7, 33, 64)


def placement(provider: str, variants: Sequence[str]) -> dict:
    """{variant: {model: Placement.to_dict()}} with time shares, partial placement accepted
    (and visible) so that every model is measured."""
    found = {}
    for variant in variants:
        found[variant] = {}
        for role, data in provider_models(variant, provider).items():
            session = create_session(
                data, [provider], provider_fallback=True, name=role, profile=True
            )
            found[variant][role] = session.placement.to_dict()
    return found


def all_nodes_on(result: dict, provider: str) -> bool:
    """Whether `provider` runs every node of every model in a `placement` result."""
    return all(
        placed["nodes"].get(provider) == placed["total"]
        for models in result.values()
        for placed in models.values()
    )


def crops(batch: int) -> np.ndarray:
    """`batch` landmarker crops (uint8 NHWC) of the sample photo's person, repeated."""
    image = read_image(samples.IMAGE)
    with PoseLandmarker.create_from_options(PoseLandmarkerOptions(model="lite")) as landmarker:
        rois = landmarker.pipeline.detect_rois(image)
    crop = crop_inputs(image, rois[:1])
    return np.repeat(crop, batch, axis=0)


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _run_timed(session, batch: np.ndarray) -> float:
    """Seconds of one run of `session` on the crops `batch`."""
    return _timed(lambda: session.run(None, {"image": batch}))


def tensorrt_builds(variant: str = "full", fp16: bool = False) -> dict:
    """Engine build and first runs with the optimisation profile, then a cached rebuild."""
    problem = unavailable_reason("tensorrt")
    if problem is not None:
        return {"skipped": f"tensorrt: {problem}"}
    data = provider_models(variant, "tensorrt")["landmarker"]
    inputs = crops(max(TENSORRT_BATCHES))
    with tempfile.TemporaryDirectory(prefix="blazepose-trt-") as cache:
        request = ("tensorrt", {"engine_cache_dir": cache, "fp16": fp16})
        report: dict = {"variant": variant, "fp16": fp16, "runs": {}}
        start = time.perf_counter()
        session = create_session(data, [request], name="landmarker")
        report["build_s"] = round(time.perf_counter() - start, 3)  # includes the warm-up run
        report["placement"] = session.placement.to_dict()
        for batch in TENSORRT_BATCHES:
            first, second = (_run_timed(session, inputs[:batch]) for _ in range(2))
            report["runs"][batch] = {
                "first_ms": round(first * 1e3, 2),
                "second_ms": round(second * 1e3, 2),
            }
        start = time.perf_counter()
        create_session(data, [request], name="landmarker")
        report["cached_build_s"] = round(time.perf_counter() - start, 3)
        report["cache_files"] = sorted(p.name for p in Path(cache).iterdir())
    return report


def io_binding(provider: str, batches: Sequence[int], rounds: int = 7) -> dict:
    """Median ms of the full landmarker per batch, plain runs against IO binding, interleaved."""
    data = provider_models("full", provider)["landmarker"]
    sessions = {
        mode: create_session(data, [(provider, {"io_binding": mode})], name="landmarker")
        for mode in (False, True)
    }
    report = {}
    for batch in batches:
        feeds = {"image": crops(batch)}
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for mode, session in sessions.items():
                times[mode].append(_run_timed(session, feeds["image"]))
        plain, bound = (statistics.median(times[mode]) * 1e3 for mode in (False, True))
        report[batch] = {"plain_ms": round(plain, 2), "io_binding_ms": round(bound, 2)}
    return report


def cudnn_search(provider: str = "cuda") -> dict:
    """EXHAUSTIVE against HEURISTIC: the first run at each new batch size (the search runs
    then) and the median of 5 later runs at the largest."""
    if provider != "cuda":
        return {"skipped": "cuDNN's algorithm search is a CUDA option"}
    data = provider_models("full", "cuda")["landmarker"]
    inputs = crops(max(CUDNN_BATCHES))
    report = {}
    for mode in ("EXHAUSTIVE", "HEURISTIC"):
        request: ProviderRequest = ("cuda", {"cudnn_conv_algo_search": mode})
        session = create_session(data, [request], name="landmarker")
        firsts = {b: round(_run_timed(session, inputs[:b]) * 1e3, 2) for b in CUDNN_BATCHES}
        steady = [_run_timed(session, inputs) for _ in range(5)]
        report[mode] = {
            "first_run_ms": firsts,
            "steady_ms": round(statistics.median(steady) * 1e3, 2),
        }
    return report
