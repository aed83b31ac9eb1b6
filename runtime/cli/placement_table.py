"""`blazepose providers --model VARIANT`: per available provider, how many of each model's
nodes it runs, as ONNX Runtime's record of each session says."""

from __future__ import annotations

import dataclasses
from typing import cast

from blazepose_onnx.backend.providers import available_providers
from blazepose_onnx.errors import ProviderError
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.pose_pipeline import PosePipeline
from blazepose_onnx.typing import Precision, ProviderName


def placement_line(provider: str, options: PoseLandmarkerOptions) -> str:
    """'detector 154/154 nodes, landmarker 185/185 nodes' for the sessions of `options` on
    `provider` (a person detector's after them; a model it runs only part of names where the
    rest runs, and ends in PARTIAL), or why it cannot load them."""
    options = dataclasses.replace(
        options, providers=[cast(ProviderName, provider)], provider_fallback=True
    )
    try:
        placement = PosePipeline(options.validated()).placement
    except ProviderError as exc:
        return f"cannot run {options.model}: {exc}"
    line = ", ".join(placed.describe(provider) for placed in placement.values())
    partial = not all(placed.runs_all(provider) for placed in placement.values())
    return line + (" PARTIAL" if partial else "")


def print_placement(model: str, precision: str, person_detector: str | None = None) -> None:
    """The table for `model` (and a `person_detector`'s session) on every available provider."""
    options = PoseLandmarkerOptions(  # validated(): the strings are checked there
        model=model, precision=cast(Precision, precision), person_detector=person_detector
    ).validated()
    with_detector = "" if person_detector is None else f" with person detector {person_detector}"
    print(f"{model} ({precision}){with_detector}, nodes each provider runs:")
    for provider in available_providers():
        print(f"  {provider:<9} {placement_line(provider, options)}", flush=True)
