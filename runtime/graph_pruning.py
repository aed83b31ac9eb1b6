"""Restrict an ONNX model to the outputs the caller will read.

ONNX Runtime executes every node of a graph whatever outputs a run asks for, so an unused head
still costs its full time: the landmarker's segmentation decoder is about 45% of the full
model on CPU. Pruning it when masks are off is the cheapest speed-up there is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import onnx


def prune_to_outputs(model: onnx.ModelProto, outputs: Sequence[str]) -> onnx.ModelProto:
    """A copy of `model` computing only `outputs`: nodes, initializers and value_info that no
    kept output depends on are removed. Inputs and metadata stay as they are."""
    graph_outputs = [value.name for value in model.graph.output]
    unknown = sorted(set(outputs) - set(graph_outputs))
    if unknown:
        raise ValueError(f"model has no output(s) {', '.join(unknown)} (has {graph_outputs})")
    pruned = onnx.ModelProto()
    pruned.CopyFrom(model)
    graph = pruned.graph
    needed = set(outputs)
    kept_nodes = []
    for node in reversed(graph.node):  # nodes are topologically sorted
        if needed.intersection(node.output):
            kept_nodes.append(node)
            needed.update(name for name in node.input if name)
    kept_nodes.reverse()
    _replace(graph.node, kept_nodes)
    _replace(graph.output, [value for value in graph.output if value.name in outputs])
    _replace(graph.initializer, [tensor for tensor in graph.initializer if tensor.name in needed])
    _replace(graph.value_info, [value for value in graph.value_info if value.name in needed])
    return pruned


def model_for_outputs(path: str | os.PathLike, outputs: Sequence[str] | None) -> str | bytes:
    """What to hand an InferenceSession: the path itself when every output is wanted (or
    `outputs` is None), else the serialised pruned model."""
    if outputs is None:
        return str(path)
    model = onnx.load(str(path))
    if set(outputs) >= {value.name for value in model.graph.output}:
        return str(path)
    return prune_to_outputs(model, outputs).SerializeToString()


def _replace(field, items: list) -> None:
    """Replace a repeated protobuf field's contents, keeping the order given."""
    kept = list(items)
    del field[:]
    field.extend(kept)
