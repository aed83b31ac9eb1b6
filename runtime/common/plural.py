"""Counts in messages agree in number: `counted(1, "source")` is "1 source", `counted(2,
"source")` "2 sources"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and `noun`, in the plural (`plural`, or the noun with an s) unless it is 1."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
