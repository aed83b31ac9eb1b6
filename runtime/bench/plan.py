"""Which cases a benchmark run times: providers x precisions x variants x modes x sizes, and
MediaPipe's matching cases, each a label and a call that times it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from blazepose_onnx.bench.cases import (
    case_options,
    time_image,
    time_mediapipe,
    time_parallel_video,
    time_people,
    time_video,
)
from blazepose_onnx.bench.results import CaseResult, mediapipe_mode
from blazepose_onnx.common.plural import counted
from blazepose_onnx.options import PoseLandmarkerOptions, required_provider


@dataclass(frozen=True)
class Case:
    """A case to time: its label (progress lines) and the call that times it."""

    label: str
    run: Callable[[], CaseResult]


@dataclass(frozen=True)
class BenchPlan:
    """Every case of one run: the sizes are IMAGE batches, VIDEO stream counts and people per
    frame; `mediapipe_bundles`, a folder of MediaPipe-loadable bundles, times MediaPipe too."""

    providers: list[str]
    precisions: list[str]
    variants: list[str]
    modes: list[str]
    batches: list[int]
    streams: list[int]
    people: list[int]
    warmup: int
    iterations: int
    mediapipe_bundles: Path | None = None

    def provider_precisions(self) -> list[tuple[str, str]]:
        """(provider, precision) pairs to time: a precision that runs on one provider only
        (`options.required_provider`) with that provider alone."""
        return [
            (provider, precision)
            for provider in self.providers
            for precision in self.precisions
            if required_provider(precision) in (None, provider)
        ]

    def _timed(
        self, options: PoseLandmarkerOptions, time_case: Callable[..., CaseResult], **inputs
    ) -> Callable[[], CaseResult]:
        """A call of `time_case` on these options and inputs, with the plan's steps."""
        return partial(time_case, options, **inputs, warmup=self.warmup, iterations=self.iterations)

    def cases(self, images: Sequence[np.ndarray], frames: Sequence[np.ndarray]) -> list[Case]:
        """The cases in the order they are timed, on `images` (IMAGE mode) and `frames`."""
        cases = []
        for provider, precision in self.provider_precisions():
            for variant in self.variants:
                label = f"{provider} {variant}" + ("" if precision == "fp32" else f" {precision}")
                timed = partial(self._timed, case_options(provider, variant, precision))
                if "image" in self.modes:
                    cases += [
                        Case(f"{label} image batch {b}", timed(time_image, images=images, batch=b))
                        for b in self.batches
                    ]
                if "video" in self.modes:
                    cases += [
                        Case(
                            f"{label} video {counted(n, 'stream')}",
                            timed(time_video, frames=frames, streams=n),
                        )
                        for n in self.streams
                    ]
                if "people" in self.modes:
                    cases += [
                        Case(f"{label} people {n}", timed(time_people, frames=frames, people=n))
                        for n in self.people
                    ]
                if "video-parallel" in self.modes:
                    cases += [
                        Case(
                            f"{label} video-parallel {n} streams",
                            timed(time_parallel_video, frames=frames, streams=n),
                        )
                        for n in self.streams
                        if n > 1
                    ]
        if self.mediapipe_bundles is not None:
            modes = sorted({mediapipe_mode(m) for m in self.modes} - {"people"})
            steps = (images, frames, self.warmup, self.iterations)
            cases += [
                Case(
                    f"MediaPipe {variant} {mode}",
                    partial(time_mediapipe, self.mediapipe_bundles, variant, mode, *steps),
                )
                for variant in self.variants
                for mode in modes
            ]
        return cases
