"""Translate a `TFLiteGraph` (NHWC) into an ONNX graph (NCHW, symbolic batch).

Supports the operator set of MediaPipe's pose models and of its SSD person detector. Constants
produced by DENSIFY and DEQUANTIZE are folded at conversion time. Each 4-D tensor has one
layout in the ONNX graph: NCHW for what convolutions, pooling and resizing produce (`nchw`),
TFLite's own NHWC for what a RESHAPE produces (its meaning is defined on NHWC data, as in the
SSD heads' (1, 19, 19, 12) -> (1, 1083, 1, 4)). A tensor is transposed only where an operator
needs the other layout: a RESHAPE or CONCATENATION of NCHW data, a convolution (or pooling,
resizing, ADD) of NHWC data. Any operator, option or fused activation not handled here raises
`UnsupportedOperatorError`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.Padding import Padding

from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.converter.choices import PRECISIONS, WEIGHT_STORAGE
from blazepose_onnx.converter.errors import UnsupportedOperatorError
from blazepose_onnx.converter.interface import BATCH_DIM
from blazepose_onnx.converter.tflite_graph import Operator, TFLiteGraph, densify

OPSET = 17
NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)


class OnnxTranslator:
    """Builds ONNX nodes from TFLite operators, one `_op_<KIND>` method per operator kind."""

    def __init__(
        self, graph: TFLiteGraph, model_name: str, weights: str = "fp32", precision: str = "fp32"
    ) -> None:
        if weights not in WEIGHT_STORAGE:
            raise InvalidValueError(f"weights must be one of {WEIGHT_STORAGE}, got {weights!r}")
        if precision not in PRECISIONS:
            raise InvalidValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.graph = graph
        self.model_name = model_name
        self.weights = weights
        self.precision = precision
        self.io_names: dict[int, str] = {}  # graph input/output tensor -> float32 boundary name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.constants: dict[int, np.ndarray] = {
            t.index: t.data for t in graph.tensors if t.data is not None and t.sparsity is None
        }
        self.sparse = {t.index for t in graph.tensors if t.sparsity is not None}
        self.nchw: set[int] = set()  # tensor indices held in NCHW layout in the ONNX graph
        self.names: dict[int, str] = {}
        self._emitted_constants: dict[int, str] = {}
        self._nchw_copies: dict[int, str] = {}  # NHWC tensor -> its NCHW transpose
        self._counter = 0

    # ----- naming and constants -------------------------------------------------------------
    def _unique(self, base: str) -> str:
        self._counter += 1
        return f"{base}__{self._counter}"

    def name(self, index: int) -> str:
        return self.names.setdefault(index, f"t{index}")

    def _fail(self, op: Operator, why: str) -> UnsupportedOperatorError:
        return UnsupportedOperatorError(f"{self.model_name}: operator #{op.index} {op.kind}: {why}")

    def weight(self, array: np.ndarray, base: str) -> str:
        """Add a float weight initializer (fp16 storage + Cast when asked); return its name.

        In fp16 precision every weight is float16 (exact: the TFLite weights are float16).
        """
        name = self._unique(base)
        if self.precision == "fp16":
            self.initializers.append(numpy_helper.from_array(array.astype(np.float16), name))
        elif self.weights == "fp16" and array.dtype == np.float16:
            stored = self._unique(base + "_fp16")
            self.initializers.append(numpy_helper.from_array(array, stored))
            self.nodes.append(helper.make_node("Cast", [stored], [name], to=TensorProto.FLOAT))
        else:
            self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def literal(self, array: np.ndarray, base: str) -> str:
        """Add a non-weight initializer (shapes, scales, pads) exactly as given."""
        name = self._unique(base)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def constant(self, op: Operator, position: int) -> np.ndarray:
        index = op.inputs[position]
        if index not in self.constants:
            raise self._fail(op, f"input {position} must be a constant")
        return self.constants[index]

    def activation_input(self, index: int) -> str:
        """Name of an activation input; a constant used as activation is emitted once."""
        if index in self.constants and index not in self._emitted_constants:
            array = self.constants[index]
            if array.ndim == 4:
                array = array.transpose(NHWC_TO_NCHW)
                self.nchw.add(index)
            self._emitted_constants[index] = self.weight(array, "const")
            self.names[index] = self._emitted_constants[index]
        return self.name(index)

    def as_nhwc(self, index: int) -> str:
        """Name of a version of tensor `index` in TFLite's own (NHWC) layout."""
        name = self.activation_input(index)
        if index not in self.nchw:
            return name
        out = self._unique(name + "_nhwc")
        self.nodes.append(helper.make_node("Transpose", [name], [out], perm=NCHW_TO_NHWC))
        return out

    def as_nchw(self, op: Operator, index: int) -> str:
        """Name of a version of 4-D tensor `index` in NCHW layout (one Transpose, shared by its
        consumers, for a tensor held in TFLite's layout)."""
        name = self.activation_input(index)
        if index in self.nchw:
            return name
        if len(self.graph.tensors[index].shape) != 4:
            raise self._fail(op, f"input {self.graph.tensors[index].name!r} is not 4-D")
        if index not in self._nchw_copies:
            out = self._unique(name + "_nchw")
            self.nodes.append(helper.make_node("Transpose", [name], [out], perm=NHWC_TO_NCHW))
            self._nchw_copies[index] = out
        return self._nchw_copies[index]

    # ----- fused activations and padding ------------------------------------------------------
    def emit(self, op: Operator, op_type: str, inputs: list[str], fused: int, **attrs) -> None:
        """Emit `op_type` writing op.outputs[0], followed by its fused activation."""
        out = op.outputs[0]
        target = self.name(out)
        if fused == ActivationFunctionType.NONE:
            self.nodes.append(helper.make_node(op_type, inputs, [target], **attrs))
            return
        raw = self._unique(target + "_preact")
        self.nodes.append(helper.make_node(op_type, inputs, [raw], **attrs))
        if fused == ActivationFunctionType.RELU:
            self.nodes.append(helper.make_node("Relu", [raw], [target]))
        elif fused == ActivationFunctionType.RELU6:
            dtype = np.float16 if self.precision == "fp16" else np.float32
            low = self.literal(np.array(0.0, dtype), "zero")
            high = self.literal(np.array(6.0, dtype), "six")
            self.nodes.append(helper.make_node("Clip", [raw, low, high], [target]))
        else:
            raise self._fail(op, f"fused activation {fused} is not supported")

    def _same_pads(
        self,
        op: Operator,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilations: tuple[int, int] = (1, 1),
    ) -> list[int]:
        """Explicit ONNX pads [top, left, bottom, right] reproducing TFLite SAME padding."""
        in_h, in_w = self.graph.tensors[op.inputs[0]].shape[1:3]
        pads_begin, pads_end = [], []
        for size, k, s, d in zip((in_h, in_w), kernel, strides, dilations, strict=True):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            pads_begin.append(total // 2)
            pads_end.append(total - total // 2)
        return pads_begin + pads_end

    def _padding(self, op: Operator, padding: int, kernel, strides, dilations=(1, 1)) -> list[int]:
        if padding == Padding.VALID:
            return [0, 0, 0, 0]
        if padding == Padding.SAME:
            return self._same_pads(op, kernel, strides, dilations)
        raise self._fail(op, f"padding mode {padding} is not supported")

    # ----- operators ---------------------------------------------------------------------------
    def _op_DENSIFY(self, op: Operator) -> None:
        if op.inputs[0] not in self.sparse:
            raise self._fail(op, "input is not a sparse constant")
        self.constants[op.outputs[0]] = densify(self.graph.tensors[op.inputs[0]])

    def _op_DEQUANTIZE(self, op: Operator) -> None:
        source = self.constant(op, 0)
        if source.dtype != np.float16:
            raise self._fail(op, f"only float16 weights are supported, got {source.dtype}")
        self.constants[op.outputs[0]] = source  # kept float16; `weight` decides the storage

    def _conv_bias(self, op: Operator) -> list[str]:
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            return [self.weight(self.constant(op, 2), "bias")]
        return []

    def _conv(self, op: Operator, onnx_kernel: np.ndarray, base: str, group: int = 1) -> None:
        """Emit an ONNX Conv (with bias and fused activation) for a TFLite (depthwise) conv."""
        o = op.options
        kernel_shape = list(onnx_kernel.shape[2:])
        strides = (o.StrideH(), o.StrideW())
        dilations = (o.DilationHFactor(), o.DilationWFactor())
        inputs = [
            self.as_nchw(op, op.inputs[0]),
            self.weight(np.ascontiguousarray(onnx_kernel), base),
            *self._conv_bias(op),
        ]
        self.emit(
            op,
            "Conv",
            inputs,
            o.FusedActivationFunction(),
            kernel_shape=kernel_shape,
            strides=list(strides),
            dilations=list(dilations),
            group=group,
            pads=self._padding(op, o.Padding(), kernel_shape, strides, dilations),
        )
        self.nchw.add(op.outputs[0])

    def _op_CONV_2D(self, op: Operator) -> None:
        kernel = self.constant(op, 1)  # [out, kh, kw, in]
        self._conv(op, kernel.transpose(NHWC_TO_NCHW), "conv_w")

    def _op_DEPTHWISE_CONV_2D(self, op: Operator) -> None:
        kernel = self.constant(op, 1)  # [1, kh, kw, channels * multiplier]
        channels = self.graph.tensors[op.inputs[0]].shape[3]
        onnx_kernel = kernel[0].transpose(2, 0, 1)[:, None]  # [channels * multiplier, 1, kh, kw]
        self._conv(op, onnx_kernel, "dw_w", group=channels)

    def _op_ADD(self, op: Operator) -> None:
        four_d = len(self.graph.tensors[op.outputs[0]].shape) == 4
        if four_d and not all(len(self.graph.tensors[i].shape) == 4 for i in op.inputs):
            raise self._fail(op, "broadcast of a non-4-D operand is not supported")
        if four_d:  # 4-D constants become NCHW, NHWC activations are transposed
            inputs = [self.as_nchw(op, i) for i in op.inputs]
        else:
            inputs = [self.activation_input(i) for i in op.inputs]
        self.emit(op, "Add", inputs, op.options.FusedActivationFunction())
        if four_d:
            self.nchw.add(op.outputs[0])

    def _op_PAD(self, op: Operator) -> None:
        paddings = self.constant(op, 1).astype(np.int64)  # [rank, 2] in NHWC order
        data = op.inputs[0]
        if data in self.nchw:
            paddings = paddings[list(NHWC_TO_NCHW)]
            self.nchw.add(op.outputs[0])
        pads = np.concatenate([paddings[:, 0], paddings[:, 1]])
        self.nodes.append(
            helper.make_node(
                "Pad",
                [self.activation_input(data), self.literal(pads, "pads")],
                [self.name(op.outputs[0])],
                mode="constant",
            )
        )

    def _op_MAX_POOL_2D(self, op: Operator) -> None:
        o = op.options
        kernel = (o.FilterHeight(), o.FilterWidth())
        strides = (o.StrideH(), o.StrideW())
        self.emit(
            op,
            "MaxPool",
            [self.as_nchw(op, op.inputs[0])],
            o.FusedActivationFunction(),
            kernel_shape=list(kernel),
            strides=list(strides),
            pads=self._padding(op, o.Padding(), kernel, strides),
        )
        self.nchw.add(op.outputs[0])

    def _op_RESIZE_BILINEAR(self, op: Operator) -> None:
        o = op.options
        if o.AlignCorners():
            mode = "align_corners"
        elif o.HalfPixelCenters():
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        in_h, in_w = self.graph.tensors[op.inputs[0]].shape[1:3]
        out_h, out_w = (int(v) for v in self.constant(op, 1))
        scales = np.array([1.0, 1.0, out_h / in_h, out_w / in_w], np.float32)
        self.nodes.append(
            helper.make_node(
                "Resize",
                [self.as_nchw(op, op.inputs[0]), "", self.literal(scales, "scales")],
                [self.name(op.outputs[0])],
                mode="linear",
                coordinate_transformation_mode=mode,
            )
        )
        self.nchw.add(op.outputs[0])

    def _op_DEPTH_TO_SPACE(self, op: Operator) -> None:
        # TensorFlow's NHWC depth_to_space orders channels as ONNX's DCR mode does.
        self.nodes.append(
            helper.make_node(
                "DepthToSpace",
                [self.as_nchw(op, op.inputs[0])],
                [self.name(op.outputs[0])],
                blocksize=op.options.BlockSize(),
                mode="DCR",
            )
        )
        self.nchw.add(op.outputs[0])

    def _op_RESHAPE(self, op: Operator) -> None:
        """Reshape of the NHWC data; a 4-D result stays in TFLite's layout (not NCHW)."""
        out_shape = self.graph.tensors[op.outputs[0]].shape
        in_shape = self.graph.tensors[op.inputs[0]].shape
        if not in_shape or in_shape[0] != 1 or not out_shape or out_shape[0] != 1:
            raise self._fail(
                op, "only reshapes that keep the leading batch dimension are supported"
            )
        shape = np.array((0, *out_shape[1:]), np.int64)  # 0 copies the (symbolic) batch size
        self.nodes.append(
            helper.make_node(
                "Reshape",
                [self.as_nhwc(op.inputs[0]), self.literal(shape, "shape")],
                [self.name(op.outputs[0])],
            )
        )

    def _op_CONCATENATION(self, op: Operator) -> None:
        o = op.options
        rank = len(self.graph.tensors[op.outputs[0]].shape)
        axis = o.Axis() % rank
        if rank == 4 and all(i in self.nchw for i in op.inputs):
            inputs = [self.name(i) for i in op.inputs]
            axis = NCHW_TO_NHWC.index(axis)
            self.nchw.add(op.outputs[0])
        else:
            inputs = [self.as_nhwc(i) for i in op.inputs]
        self.emit(op, "Concat", inputs, o.FusedActivationFunction(), axis=axis)

    def _op_LOGISTIC(self, op: Operator) -> None:
        self.nodes.append(
            helper.make_node(
                "Sigmoid", [self.activation_input(op.inputs[0])], [self.name(op.outputs[0])]
            )
        )
        if op.inputs[0] in self.nchw:
            self.nchw.add(op.outputs[0])

    # ----- driver ------------------------------------------------------------------------------
    def handler(self, op: Operator) -> Callable[[Operator], None]:
        method = getattr(self, f"_op_{op.kind}", None)
        if method is None:
            raise self._fail(op, "operator is not supported by the native backend")
        return method

    def translate(self) -> onnx.GraphProto:
        """Translate every operator and return the ONNX graph (TFLite tensor names on I/O)."""
        for index in self.graph.inputs:
            if len(self.graph.tensors[index].shape) == 4:
                self.nchw.add(index)
        for op in self.graph.operators:
            self.handler(op)(op)
        self._float32_boundaries()
        inputs = [self._value_info(i) for i in self.graph.inputs]
        outputs = [self._value_info(i) for i in self.graph.outputs]
        return helper.make_graph(self.nodes, self.model_name, inputs, outputs, self.initializers)

    def _float32_boundaries(self) -> None:
        """In fp16 precision, cast the float32 graph inputs in and the outputs back out."""
        for index in (*self.graph.inputs, *self.graph.outputs):
            self.io_names[index] = self.name(index)
        if self.precision != "fp16":
            return
        casts_in = []
        for index in self.graph.inputs:
            self.io_names[index] = f"{self.name(index)}__float32"
            casts_in.append(
                helper.make_node(
                    "Cast", [self.io_names[index]], [self.name(index)], to=TensorProto.FLOAT16
                )
            )
        self.nodes[:0] = casts_in
        for index in self.graph.outputs:
            self.io_names[index] = f"{self.name(index)}__float32"
            self.nodes.append(
                helper.make_node(
                    "Cast", [self.name(index)], [self.io_names[index]], to=TensorProto.FLOAT
                )
            )

    def _value_info(self, index: int) -> onnx.ValueInfoProto:
        tensor = self.graph.tensors[index]
        shape = list(tensor.shape)
        if index in self.nchw:
            shape = [shape[p] for p in NHWC_TO_NCHW]
        dims: list[int | str] = [BATCH_DIM, *shape[1:]]
        return helper.make_tensor_value_info(self.io_names[index], TensorProto.FLOAT, dims)


def translate_tflite(
    graph: TFLiteGraph, model_name: str, weights: str = "fp32", precision: str = "fp32"
) -> onnx.ModelProto:
    """Translate a parsed TFLite graph to an ONNX model (opset 17, NCHW, symbolic batch)."""
    translator = OnnxTranslator(graph, model_name, weights, precision)
    onnx_graph = translator.translate()
    # The ONNX names of graph I/O are the TFLite names, so the interface step can map them.
    renames = {
        translator.io_names[i]: graph.tensors[i].name for i in (*graph.inputs, *graph.outputs)
    }
    for node in onnx_graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for value in (*onnx_graph.input, *onnx_graph.output):
        value.name = renames[value.name]
    return helper.make_model(
        onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="blazepose-onnx"
    )
