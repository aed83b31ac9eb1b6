"""What measuring placement adds to session creation, measured side by side (interleaved).

    python benchmarks/placement_cost.py --variant full --rounds 9

Per model, the median seconds of:
- bare: the session and its warm-up run as before placement was measured (same options);
- record: `create_session`, reading ONNX Runtime's assignment record (onnxruntime >= 1.24);
- profile: `create_session` as on older onnxruntime, the warm-up run profiled instead.
Models come from the session cache, as every landmarker gets them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import onnxruntime as ort

from blazepose_onnx.backend import placement, providers
from blazepose_onnx.backend.provider_models import provider_models


def bare(model: bytes) -> None:
    """The session and warm-up run create_session made before it read placement."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.force_spinning_stop", "1")
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    providers.warm_up(session, "cpu", "model")


def with_record(model: bytes) -> None:
    providers.create_session(model, ["cpu"])


def with_profile(model: bytes) -> None:
    """create_session as on onnxruntime < 1.24: the warm-up run profiled for the placement."""
    kept = placement.RECORDS_ASSIGNMENT
    placement.RECORDS_ASSIGNMENT = False
    try:
        providers.create_session(model, ["cpu"])
    finally:
        placement.RECORDS_ASSIGNMENT = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="full")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    ways: dict[str, Callable[[bytes], None]] = {
        "bare": bare,
        "record": with_record,
        "profile": with_profile,
    }
    for role, model in provider_models(args.variant, "cpu").items():
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, way in ways.items():
                start = time.perf_counter()
                way(model)
                times[name].append(time.perf_counter() - start)
        medians = {name: statistics.median(values) * 1e3 for name, values in times.items()}
        spread = {name: (min(v) * 1e3, max(v) * 1e3) for name, v in times.items()}
        print(
            f"{args.variant} {role}: "
            + ", ".join(
                f"{name} {medians[name]:.1f} ms ({spread[name][0]:.1f}-{spread[name][1]:.1f})"
                for name in ways
            )
            + f"; record/bare {medians['record'] / medians['bare']:.3f}, "
            f"profile/bare {medians['profile'] / medians['bare']:.3f}"
        )


if __name__ == "__main__":
    main()
