"""Argument types that check a value where it is typed, so a bad one is a usage error naming
the option (exit code 2), not a Python parameter name from deep inside."""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from blazepose_onnx.converter import VARIANTS


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An int in [low, high] (no upper bound when high is None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {text}")
        return value

    return parse


def int_list(low: int) -> Callable[[str], tuple[int, ...]]:
    """A comma-separated list of ints >= low, as a tuple (empty text: none)."""

    def parse(text: str) -> tuple[int, ...]:
        return tuple(int_in(low)(item.strip()) for item in text.split(",") if item.strip())

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def unit_interval(text: str) -> float:
    """A number in [0, 1]."""
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text}")
    return value


def positive_float(text: str) -> float:
    """A number > 0."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def quarter_turns(text: str) -> int:
    """Clockwise degrees, a multiple of 90."""
    value = int_in(-360, 360)(text)
    if value % 90:
        raise argparse.ArgumentTypeError(f"must be a multiple of 90 (0, 90, 180, 270), got {text}")
    return value


def did_you_mean(text: str, choices: Sequence[str]) -> str:
    """` (did you mean X?)` naming the choice closest to a misspelt `text`, or ''."""
    close = difflib.get_close_matches(text, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def listed(choices: Sequence[str], noun: str) -> Callable[[str], str]:
    """A comma-separated list of `choices` (returned as typed); an unknown item is refused
    with the closest choice."""

    def parse(text: str) -> str:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {noun}s")
        for item in items:
            if item not in choices:
                raise argparse.ArgumentTypeError(
                    f"unknown {noun} {item!r}{did_you_mean(item, choices)}; use "
                    f"{', '.join(choices)}"
                )
        return text

    return parse


def model(text: str) -> str:
    """A model variant, or something that names a file or folder (a path separator, a suffix
    such as .task, or an existing path): a bare word that is no variant is a misspelling."""
    path = Path(text)
    if text in VARIANTS or os.sep in text or "/" in text or path.suffix or path.exists():
        return text
    raise argparse.ArgumentTypeError(
        f"unknown model {text!r}{did_you_mean(text, VARIANTS)}; use {', '.join(VARIANTS)}, "
        "a .task bundle or a folder with detector.onnx and landmarker.onnx"
    )


def refuse_two_on_stdout(args: argparse.Namespace, options: Sequence[str]) -> None:
    """A usage error (exit code 2) when more than one of the output `options` is '-'
    (stdout carries one kind of data)."""
    on_stdout = [f"--{name}" for name in options if getattr(args, name, None) == "-"]
    if len(on_stdout) > 1:
        args.parser.error(
            f"{' and '.join(on_stdout)} both write to stdout ('-'): give all but one a file"
        )
