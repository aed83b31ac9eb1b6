"""`blazepose providers --model VARIANT`: per available provider, how many of each model's
nodes it runs, as ONNX Runtime's record of each session says."""

from __future__ import annotations

from typing import cast

from blazepose_onnx.backend.providers import available_providers
from blazepose_onnx.errors import ProviderError
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.pose_pipeline import PosePipeline
from blazepose_onnx.typing import Precision, ProviderName


def placement_line(provider: str, model: str, precision: str = "fp32") -> str:
    """'detector 154/154 nodes, landmarker 185/185 nodes' for `provider` (a model it runs
    only part of names where the rest runs, and ends in PARTIAL), or why it cannot load it."""
    options = PoseLandmarkerOptions(  # validated(): the strings are checked there
        model=model,
        providers=[cast(ProviderName, provider)],
        provider_fallback=True,
        precision=cast(Precision, precision),
    ).validated()
    try:
        placement = PosePipeline(options).placement
    except ProviderError as exc:
        return f"cannot run {model}: {exc}"
    line = ", ".join(placed.describe(provider) for placed in placement.values())
    partial = not all(placed.runs_all(provider) for placed in placement.values())
    return line + (" PARTIAL" if partial else "")


def print_placement(model: str, precision: str) -> None:
    print(f"{model} ({precision}), nodes each provider runs:")
    for provider in available_providers():
        print(f"  {provider:<9} {placement_line(provider, model, precision)}", flush=True)
