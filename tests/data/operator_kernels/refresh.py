"""Refresh operator_kernels.json from ONNX Runtime's published operator-kernel table.

ONNX Runtime generates docs/OperatorKernels.md from its registered kernels (one table per
execution provider: op, opset versions, type constraints). To refresh for a release:

    curl -LO https://raw.githubusercontent.com/microsoft/onnxruntime/vX.Y.Z/docs/OperatorKernels.md
    python tests/data/operator_kernels/refresh.py OperatorKernels.md --ref vX.Y.Z

It rewrites operator_kernels.json beside this file with every ai.onnx kernel of the CUDA and
DirectML providers (tests/runtime/backend/test_kernel_coverage.py reads it).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

PROVIDERS = ("CUDAExecutionProvider", "DmlExecutionProvider")
OUT = Path(__file__).with_name("operator_kernels.json")


def parse_versions(cell: str) -> tuple[int, int | None, bool]:
    """(first opset, last opset or None, open-ended) of '13+', '[6, 12]' or '13'."""
    cell = cell.strip()
    if cell.endswith("+"):
        return int(cell[:-1]), None, True
    if cell.startswith("["):
        low, high = (int(v) for v in cell.strip("[]").split(","))
        return low, high, False
    return int(cell), int(cell), False


def parse_types(cell: str) -> dict[str, list[str]]:
    """{'T': ['float', ...]} from '**T** = tensor(float), tensor(float16)<br/> **T1** = ...'."""
    found = {}
    for part in cell.split("<br/>"):
        match = re.match(r"\s*\*\*(\w+)\*\* = (.*)", part)
        if match:  # plain tensors only: not seq(tensor(...)) nor optional(tensor(...))
            found[match.group(1)] = re.findall(r"(?<![(\w])tensor\((\w+)\)", match.group(2))
    return found


def parse_table(text: str, provider: str) -> dict[str, list[dict]]:
    """The ai.onnx kernels of one provider: op -> [{since, until, types}], newest first. An
    open-ended 'N+' row lasts until the op's next newer registration."""
    section = text.split(f"## Operators implemented by {provider}", 1)[1].split("\n## ", 1)[0]
    ops: dict[str, list[dict]] = {}
    domain, op = None, None
    for line in section.splitlines():
        cells = line.split("|")[1:-1]
        if len(cells) < 4:
            continue
        if cells[0].startswith("**Operator Domain:**"):
            domain = re.search(r"\*(\S+)\*$", cells[0]).group(1)
            continue
        if cells[0].strip():
            op = cells[0].strip()
        if domain != "ai.onnx" or op is None or not cells[2].strip() or cells[0] == "Op Name":
            continue
        since, until, open_ended = parse_versions(cells[2])
        rows = ops.setdefault(op, [])
        if open_ended and rows:
            until = rows[-1]["since"] - 1
        rows.append({"since": since, "until": until, "types": parse_types(cells[3])})
    return ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("markdown", type=Path, help="a downloaded docs/OperatorKernels.md")
    parser.add_argument("--ref", required=True, help="the tag or commit it was downloaded at")
    args = parser.parse_args()
    text = args.markdown.read_text()
    data = {
        "source": f"https://github.com/microsoft/onnxruntime/blob/{args.ref}/docs/OperatorKernels.md",
        "ref": args.ref,
        "note": "every ai.onnx kernel of these providers, written by refresh.py",
        "providers": {provider: parse_table(text, provider) for provider in PROVIDERS},
    }
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
