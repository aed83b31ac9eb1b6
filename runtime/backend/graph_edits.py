"""How the runtime adapts a converted model before building its session.

- Only the outputs the pipeline reads are computed. ONNX Runtime executes every node of a graph
  whatever outputs a run asks for, so an unused head costs its full time: the landmarker's
  segmentation decoder is about 45% of the full model on CPU.
- The image input becomes (N, H, W, 3) uint8, the layout crops come in from OpenCV: the cast,
  the scaling to the model's input range and the NHWC->NCHW transpose run inside the graph,
  on the execution provider, instead of as a float32 copy on the host (and 4x fewer bytes
  reach a GPU).
- For providers that compile only fixed shapes (CoreML), the batch dimension becomes a number
  and every value's shape is inferred from it, and zero padding that feeds convolutions
  becomes their own padding (CoreML's ML Program has no Pad; ONNX Runtime fuses such a Pad
  into a single Conv itself, not into two).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from blazepose_onnx.backend.model_form import ANY_FORM, ModelForm
from blazepose_onnx.converter import BATCH_DIM, load_converted, read_metadata
from blazepose_onnx.converter.errors import ModelFormatError


def prune_to_outputs(model: onnx.ModelProto, outputs: Sequence[str]) -> onnx.ModelProto:
    """A copy of `model` computing only `outputs`: nodes, initializers and value_info that no
    kept output depends on are removed. Inputs and metadata stay as they are."""
    graph_outputs = [value.name for value in model.graph.output]
    unknown = sorted(set(outputs) - set(graph_outputs))
    if unknown:
        raise ModelFormatError(f"model has no output(s) {', '.join(unknown)} (has {graph_outputs})")
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


def with_uint8_image_input(model: onnx.ModelProto, float_input: bool = False) -> onnx.ModelProto:
    """A copy of a blazepose-onnx model whose image input is (N, H, W, 3) uint8 RGB (or the
    same pixel values as float32, `float_input`).

    In the graph: Transpose to NCHW, Cast to float32 (uint8 only), then x * (high - low) / 255
    + low, the same float32 operations, in the same order, as scaling on the host. The
    metadata says so.
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
    transposed = f"{name}_f32" if float_input else f"{name}_u8_nchw"
    prefix = [helper.make_node("Transpose", [name], [transposed], perm=[0, 3, 1, 2])]
    if not float_input:
        prefix.append(helper.make_node("Cast", [transposed], [f"{name}_f32"], to=TensorProto.FLOAT))
    prefix.append(
        helper.make_node(
            "Mul", [f"{name}_f32", f"{name}_scale"], [f"{name}_unit" if low else scaled]
        )
    )
    constants = {f"{name}_scale": np.float32((high - low) / 255.0)}
    if low:
        prefix.append(helper.make_node("Add", [f"{name}_unit", f"{name}_low"], [scaled]))
        constants[f"{name}_low"] = np.float32(low)
    _replace(graph.node, [*prefix, *graph.node])
    graph.initializer.extend(
        numpy_helper.from_array(np.asarray(value), key) for key, value in constants.items()
    )
    pixels = TensorProto.FLOAT if float_input else TensorProto.UINT8
    new_input = helper.make_tensor_value_info(name, pixels, [None, size, size, 3])
    new_input.type.tensor_type.shape.dim[0].CopyFrom(batch)
    _replace(graph.input, [new_input if value.name == name else value for value in graph.input])
    helper.set_model_props(
        edited,
        {**meta, "blazepose.input_layout": "NHWC", "blazepose.input_range": json.dumps([0, 255])},
    )
    return edited


def with_fixed_batch(model: onnx.ModelProto, batch: int) -> onnx.ModelProto:
    """A copy of `model` whose batch dimension is `batch`, with every value's shape inferred
    from it (ONNX Runtime's checker and fixed-shape providers read them).

    A Resize without its optional `roi` input gets it as an empty constant: ONNX defines both
    as the same operation (roi is read only in tf_crop_and_resize mode), and ONNX Runtime's
    CoreML checker counts an absent input as one of unknown shape.
    """
    edited = _copy(model)
    graph = edited.graph
    for value in [*graph.input, *graph.output]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param == BATCH_DIM:
                dim.Clear()
                dim.dim_value = batch
    empty_roi = f"{BATCH_DIM}_fixed_empty_roi"
    for node in graph.node:
        if node.op_type == "Resize" and len(node.input) > 1 and not node.input[1]:
            node.input[1] = empty_roi
    if any(empty_roi in node.input for node in graph.node):
        graph.initializer.append(numpy_helper.from_array(np.zeros(0, np.float32), empty_roi))
    _fold_pads_into_convs(graph)
    del graph.value_info[:]
    edited = onnx.shape_inference.infer_shapes(edited, strict_mode=True)
    _channel_pads_as_concat(edited)
    del edited.graph.value_info[:]
    return onnx.shape_inference.infer_shapes(edited, strict_mode=True)


def _fold_pads_into_convs(graph: onnx.GraphProto) -> None:
    """Remove each spatial zero Pad whose every consumer is a Conv with explicit padding, adding
    its padding to theirs: the same convolution, since both pad with zeros."""
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    outputs = {value.name for value in graph.output}
    folded = []
    for node in graph.node:
        pads = _zero_pads(node, initializers)
        users = consumers.get(node.output[0], [])
        spatial = pads is not None and not any(pads[i] for i in (0, 1, 4, 5))
        if pads is None or not spatial or not users or node.output[0] in outputs:
            continue
        if not all(map(_explicit_conv, users)):
            continue
        for conv in users:
            _add_conv_padding(conv, [pads[2], pads[3], pads[6], pads[7]])
            conv.input[0] = node.input[0]
        folded.append(node)
    _replace(graph.node, [node for node in graph.node if node not in folded])
    _drop_unused_initializers(graph)


def _channel_pads_as_concat(model: onnx.ModelProto) -> None:
    """Replace each zero Pad of only the channel axis by a Concat with zero constants (of the
    shapes the fixed batch gives): the same tensor, from an operator CoreML's ML Program has."""
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    shapes = {value.name: _static_shape(value) for value in [*graph.input, *graph.value_info]}
    nodes = []
    for node in graph.node:
        pads = _zero_pads(node, initializers)
        shape = shapes.get(node.input[0])
        channel_only = pads is not None and not any(pads[i] for i in (0, 2, 3, 4, 6, 7))
        if pads is None or not channel_only or shape is None:
            nodes.append(node)
            continue
        parts = [node.input[0]]
        for position, count in ((0, pads[1]), (1, pads[5])):
            if count:
                name = f"{node.output[0]}_zeros_{position}"
                zeros = np.zeros([shape[0], count, *shape[2:]], np.float32)
                graph.initializer.append(numpy_helper.from_array(zeros, name))
                parts.insert(0 if position == 0 else len(parts), name)
        nodes.append(helper.make_node("Concat", parts, list(node.output), axis=1))
    _replace(graph.node, nodes)
    _drop_unused_initializers(graph)


def _static_shape(value: onnx.ValueInfoProto) -> list[int] | None:
    """A tensor's dimensions, None where one of them is not a fixed size."""
    dims = value.type.tensor_type.shape.dim
    if not all(d.HasField("dim_value") for d in dims):
        return None
    return [d.dim_value for d in dims]


def _zero_pads(node: onnx.NodeProto, initializers: dict) -> list[int] | None:
    """A 4-D constant Pad's pads (8 values, ONNX order) when it pads with zeros."""
    if node.op_type != "Pad" or _attribute(node, "mode") not in (None, b"constant"):
        return None
    if len(node.input) < 2 or node.input[1] not in initializers:
        return None
    if len(node.input) > 2 and node.input[2]:
        value = initializers.get(node.input[2])
        if value is None or numpy_helper.to_array(value).any():
            return None
    pads = numpy_helper.to_array(initializers[node.input[1]]).tolist()
    return pads if len(pads) == 8 and min(pads) >= 0 else None


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input}
    _replace(graph.initializer, [tensor for tensor in graph.initializer if tensor.name in used])


def _attribute(node: onnx.NodeProto, name: str):
    """The value of `node`'s attribute `name`, None when it has none."""
    found = [a for a in node.attribute if a.name == name]
    return helper.get_attribute_value(found[0]) if found else None


def _explicit_conv(node: onnx.NodeProto) -> bool:
    auto_pad = _attribute(node, "auto_pad")
    return node.op_type == "Conv" and auto_pad in (None, b"NOTSET")


def _add_conv_padding(conv: onnx.NodeProto, pads: list[int]) -> None:
    current = _attribute(conv, "pads") or [0, 0, 0, 0]
    total = [a + b for a, b in zip(current, pads, strict=True)]
    kept = [attribute for attribute in conv.attribute if attribute.name != "pads"]
    _replace(conv.attribute, [*kept, helper.make_attribute("pads", total)])


def session_model(
    path: str | os.PathLike,
    role: str,
    outputs: Sequence[str] | None = None,
    form: ModelForm = ANY_FORM,
) -> bytes:
    """The serialised model the runtime builds a session from: the converted `role` model at
    `path`, restricted to `outputs` (all when None), with a uint8 NHWC image input, in the
    `form` a provider needs (a fixed batch, a float32 input).

    A file that is not ONNX, not a blazepose-onnx model of that role, or whose graph no longer
    matches the digest recorded when it was converted (corrupted or edited weights) raises
    `ModelFormatError` (a ValueError) naming it; one converted before digests were recorded
    raises its subclass `StaleModelError`.
    """
    model = load_converted(path, role)
    if outputs is not None and set(outputs) != {value.name for value in model.graph.output}:
        model = prune_to_outputs(model, outputs)
    model = with_uint8_image_input(model, form.float_input)
    if form.batch is not None:
        model = with_fixed_batch(model, form.batch)
    return model.SerializeToString()


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    copied = onnx.ModelProto()
    copied.CopyFrom(model)
    return copied


def _replace(field, items: list) -> None:
    """Replace a repeated protobuf field's contents, keeping the order given."""
    kept = list(items)
    del field[:]
    field.extend(kept)
