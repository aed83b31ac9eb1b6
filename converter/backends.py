"""Conversion backends: TFLite bytes -> ONNX model with TFLite I/O names (before `finish_model`).

`native` (default) translates the flatbuffer directly (`tflite_graph` + `to_onnx`).
`tf2onnx` (extra `tf2onnx`, needs TensorFlow) densifies sparse weights into a new flatbuffer,
then runs tf2onnx; both produce the same interface, so each can check the other.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.common.install import require
from blazepose_onnx.common.quiet import native_stderr_silenced
from blazepose_onnx.converter.choices import BACKENDS
from blazepose_onnx.converter.tflite_graph import read_tflite
from blazepose_onnx.converter.to_onnx import OPSET, translate_tflite


def native_backend(
    data: bytes, model_name: str, weights: str = "fp32", precision: str = "fp32"
) -> onnx.ModelProto:
    """Direct flatbuffer translation: NCHW, symbolic batch, folded DENSIFY/DEQUANTIZE."""
    return translate_tflite(read_tflite(data, model_name), model_name, weights, precision)


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    """Keep TensorFlow's, TFLite's and tf2onnx's log lines (absl, oneDNN, cpu_feature_guard,
    XNNPACK, deprecations) off the user's terminal unless logging is verbose (`-v`)."""
    if logging.getLogger().isEnabledFor(logging.INFO):
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "tf2onnx", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings(), native_stderr_silenced():
        warnings.simplefilter("ignore")
        yield


def densified_flatbuffer(data: bytes, model_name: str = "model") -> bytes:
    """The same TFLite model with every sparse (DENSIFY) constant stored dense.

    Each DENSIFY operator is removed and its consumers read the (now dense) constant directly.
    Uses TensorFlow's flatbuffer object API, so it needs the `tf2onnx` extra.
    """
    require("tensorflow", "tf2onnx", "the tf2onnx backend")
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    from blazepose_onnx.converter.tflite_graph import densify

    parsed = read_tflite(data, model_name)
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    subgraph = model.subgraphs[0]
    densify_code = schema.BuiltinOperator.DENSIFY
    replaced: dict[int, int] = {}
    kept = []
    for op in subgraph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) != densify_code:
            kept.append(op)
            continue
        source = int(op.inputs[0])
        tensor = subgraph.tensors[source]
        dense = densify(parsed.tensors[source])
        model.buffers[tensor.buffer].data = np.frombuffer(dense.tobytes(), np.uint8)
        tensor.sparsity = None
        replaced[int(op.outputs[0])] = source
    subgraph.operators = kept
    for op in kept:
        op.inputs = np.array([replaced.get(int(i), int(i)) for i in op.inputs], dtype=np.int32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _copy_batch_in_reshapes(model: onnx.ModelProto) -> None:
    """tf2onnx hard-codes batch 1 in Reshape shapes; 0 (copy the input's dim) makes it symbolic."""
    initializers = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "Reshape" or node.input[1] not in initializers:
            continue
        shape = numpy_helper.to_array(initializers[node.input[1]]).copy()
        if shape.size and shape[0] == 1:
            shape[0] = 0
            initializers[node.input[1]].CopyFrom(numpy_helper.from_array(shape, node.input[1]))


def tf2onnx_backend(
    data: bytes, model_name: str, weights: str = "fp32", precision: str = "fp32"
) -> onnx.ModelProto:
    """Densify, convert with tf2onnx (NCHW input and 4-D outputs), make the batch symbolic."""
    if weights != "fp32" or precision != "fp32":
        raise InvalidValueError(
            "the tf2onnx backend writes fp32 models only (use the native backend)"
        )
    with quiet_tensorflow():
        return _tf2onnx_convert(data, model_name)


def _tf2onnx_convert(data: bytes, model_name: str) -> onnx.ModelProto:
    tf2onnx = require("tf2onnx", "tf2onnx", "the tf2onnx backend")
    graph = read_tflite(data, model_name)
    input_name = graph.tensors[graph.inputs[0]].name
    nchw_outputs = [
        graph.tensors[i].name for i in graph.outputs if len(graph.tensors[i].shape) == 4
    ]
    with tempfile.TemporaryDirectory(prefix="blazepose-tf2onnx-") as tmp:
        path = Path(tmp) / "dense.tflite"
        path.write_bytes(densified_flatbuffer(data, model_name))
        model, _ = tf2onnx.convert.from_tflite(
            str(path), opset=OPSET, inputs_as_nchw=[input_name], outputs_as_nchw=nchw_outputs
        )
    _copy_batch_in_reshapes(model)
    return model


def run_backend(
    name: str, data: bytes, model_name: str, weights: str = "fp32", precision: str = "fp32"
) -> onnx.ModelProto:
    """Run the named backend."""
    if name not in BACKENDS:
        raise InvalidValueError(f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")
    backend = native_backend if name == "native" else tf2onnx_backend
    return backend(data, model_name, weights, precision)
