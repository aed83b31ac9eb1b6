"""How the runtime adapts a converted model before building its session.

- Only the outputs the pipeline reads are computed. ONNX Runtime executes every node of a graph
  whatever outputs a run asks for, so an unused head costs its full time: the landmarker's
  segmentation decoder is about 45% of the full model on CPU.
- The image input becomes (N, H, W, 3) uint8, the layout crops come in from OpenCV: the cast,
  the scaling to the model's input range and the NHWC->NCHW transpose run inside the graph,
  on the execution provider, instead of as a float32 copy on the host (and 4x fewer bytes
  reach a GPU).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from blazepose_onnx.converter.errors import ModelFormatError, StaleModelError
from blazepose_onnx.converter.interface import read_metadata
from blazepose_onnx.converter.seal import GRAPH_DIGEST_KEY, graph_digest


def prune_to_outputs(model: onnx.ModelProto, outputs: Sequence[str]) -> onnx.ModelProto:
    """A copy of `model` computing only `outputs`: nodes, initializers and value_info that no
    kept output depends on are removed. Inputs and metadata stay as they are."""
    graph_outputs = [value.name for value in model.graph.output]
    unknown = sorted(set(outputs) - set(graph_outputs))
    if unknown:
        raise ValueError(f"model has no output(s) {', '.join(unknown)} (has {graph_outputs})")
    pruned = _copy(model)
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


def with_uint8_image_input(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of a blazepose-onnx model whose image input is (N, H, W, 3) uint8 RGB.

    In the graph: Transpose to NCHW, Cast to float32, then x * (high - low) / 255 + low, the
    same float32 operations, in the same order, as scaling on the host. The metadata says so.
    """
    meta = read_metadata(model)
    if meta.get("blazepose.input_layout") != "NCHW":
        raise ModelFormatError(
            f"expected a blazepose-onnx model with an NCHW float input, found layout "
            f"{meta.get('blazepose.input_layout')!r}"
        )
    name = meta["blazepose.input"]
    low, high = json.loads(meta["blazepose.input_range"])
    size = int(meta["blazepose.input_size"])
    edited = _copy(model)
    graph = edited.graph
    (image,) = [value for value in graph.input if value.name == name]
    batch = image.type.tensor_type.shape.dim[0]
    scaled = f"{name}_nchw"
    for node in graph.node:
        node.input[:] = [scaled if input_name == name else input_name for input_name in node.input]
    prefix = [
        helper.make_node("Transpose", [name], [f"{name}_u8_nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Cast", [f"{name}_u8_nchw"], [f"{name}_f32"], to=TensorProto.FLOAT),
        helper.make_node(
            "Mul", [f"{name}_f32", f"{name}_scale"], [f"{name}_unit" if low else scaled]
        ),
    ]
    constants = {f"{name}_scale": np.float32((high - low) / 255.0)}
    if low:
        prefix.append(helper.make_node("Add", [f"{name}_unit", f"{name}_low"], [scaled]))
        constants[f"{name}_low"] = np.float32(low)
    _replace(graph.node, [*prefix, *graph.node])
    graph.initializer.extend(
        numpy_helper.from_array(np.asarray(value), key) for key, value in constants.items()
    )
    new_input = helper.make_tensor_value_info(name, TensorProto.UINT8, [None, size, size, 3])
    new_input.type.tensor_type.shape.dim[0].CopyFrom(batch)
    _replace(graph.input, [new_input if value.name == name else value for value in graph.input])
    helper.set_model_props(
        edited,
        {**meta, "blazepose.input_layout": "NHWC", "blazepose.input_range": json.dumps([0, 255])},
    )
    return edited


def session_model(
    path: str | os.PathLike, role: str, outputs: Sequence[str] | None = None
) -> bytes:
    """The serialised model the runtime builds a session from: the converted `role` model at
    `path`, restricted to `outputs` (all when None), with a uint8 NHWC image input.

    A file that is not ONNX, not a blazepose-onnx model of that role, or whose graph no longer
    matches the digest recorded when it was converted (corrupted or edited weights) raises
    `ModelFormatError` (a ValueError) naming it; one converted before digests were recorded
    raises its subclass `StaleModelError`.
    """
    model = load_checked(path, role)
    if outputs is not None and set(outputs) != {value.name for value in model.graph.output}:
        model = prune_to_outputs(model, outputs)
    return with_uint8_image_input(model).SerializeToString()


def load_checked(path: str | os.PathLike, role: str) -> onnx.ModelProto:
    """A converted model of `role`, checked against its recorded graph digest."""
    try:
        data = Path(path).read_bytes()
        model = onnx.load_from_string(data)
    except OSError as exc:
        raise ModelFormatError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:  # protobuf's DecodeError, onnx's own errors
        raise ModelFormatError(f"{path} is not a readable ONNX model: {exc}") from exc
    meta = read_metadata(model)
    found = meta.get("blazepose.role")
    if found != role:
        raise ModelFormatError(
            f"{path} is not a blazepose-onnx {role} model (its blazepose.role metadata is "
            f"{found!r}; convert models with blazepose-convert)"
        )
    recorded = meta.get(GRAPH_DIGEST_KEY)
    if recorded is None:
        raise StaleModelError(
            f"{path} was converted by an older blazepose-onnx (no graph digest); convert it "
            "again with blazepose-convert convert"
        )
    if graph_digest(data) != recorded:
        raise ModelFormatError(
            f"{path} is corrupted: its graph or weights do not match the digest recorded when it "
            "was converted; convert it again with blazepose-convert convert"
        )
    return model


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    copied = onnx.ModelProto()
    copied.CopyFrom(model)
    return copied


def _replace(field, items: list) -> None:
    """Replace a repeated protobuf field's contents, keeping the order given."""
    kept = list(items)
    del field[:]
    field.extend(kept)
