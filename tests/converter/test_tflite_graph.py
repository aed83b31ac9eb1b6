"""TFLite flatbuffer reading: sparse weights, fingerprints, corrupt input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from blazepose_onnx.converter.errors import ModelFormatError
from blazepose_onnx.converter.tflite_graph import densify, read_tflite, weights_fingerprint


def test_sparse_weights_match_interpreter_densify(bundles):
    """Every DENSIFY output equals the interpreter's own densified tensor, bit for bit."""
    data = bundles["full"].detector
    graph = read_tflite(data, "detector")
    interpreter = Interpreter(
        model_content=data,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], np.float32))
    interpreter.invoke()
    densify_ops = [op for op in graph.operators if op.kind == "DENSIFY"]
    assert len(densify_ops) == 38
    for op in densify_ops:
        sparse = graph.tensors[op.inputs[0]]
        dense = densify(sparse)
        np.testing.assert_array_equal(dense, interpreter.get_tensor(op.outputs[0]))
        assert np.count_nonzero(dense) <= sparse.data.size  # only stored values are non-zero


def test_graph_structure_of_landmarker(bundles):
    graph = read_tflite(bundles["lite"].landmarker, "lite")
    assert [graph.tensors[i].name for i in graph.inputs] == ["input_1"]
    assert graph.tensors[graph.inputs[0]].shape == (1, 256, 256, 3)
    shapes = [graph.tensors[i].shape for i in graph.outputs]
    assert shapes == [(1, 195), (1, 1), (1, 256, 256, 1), (1, 64, 64, 39), (1, 117)]
    assert {op.kind for op in graph.operators} == {
        "DEQUANTIZE",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "ADD",
        "PAD",
        "RESIZE_BILINEAR",
        "RESHAPE",
        "MAX_POOL_2D",
        "LOGISTIC",
    }


def test_fingerprint_differs_per_model_and_ignores_file_hash(bundles):
    prints = {v: weights_fingerprint(b.landmarker) for v, b in bundles.items()}
    assert len(set(prints.values())) == 3
    assert weights_fingerprint(bundles["lite"].detector) == weights_fingerprint(
        bundles["heavy"].detector
    )


@pytest.mark.tf2onnx
def test_fingerprint_is_independent_of_metadata(bundles):
    """Adding a metadata buffer changes the file hash but not the weights fingerprint."""
    flatbuffer_utils = pytest.importorskip("tensorflow.lite.tools.flatbuffer_utils")
    schema = pytest.importorskip("tensorflow.lite.python.schema_py_generated")
    original = bundles["lite"].landmarker
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(original))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(b"normalization: mean 0, std 255", np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = "TFLITE_METADATA", len(model.buffers) - 1
    model.metadata.append(entry)
    changed = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    assert hashlib.sha256(changed).digest() != hashlib.sha256(original).digest()
    assert weights_fingerprint(changed) == weights_fingerprint(original)
    assert "TFLITE_METADATA" in read_tflite(changed).metadata_names


@pytest.mark.parametrize(
    "data", [b"", b"not a flatbuffer at all", b"\x00\x00\x00\x00TFL3" + b"\xff" * 64]
)
def test_corrupt_flatbuffer_raises_model_format_error(data):
    with pytest.raises(ModelFormatError):
        read_tflite(data, "broken.tflite")
