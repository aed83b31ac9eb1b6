"""Native translation, op by op: each ONNX op gets the interpreter's own input tensors."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from onnx import TensorProto, helper
from onnx.utils import Extractor

from blazepose_onnx.converter.errors import UnsupportedOperatorError
from blazepose_onnx.converter.paths import person_detector_paths
from blazepose_onnx.converter.tflite_graph import Operator, TFLiteGraph, read_tflite
from blazepose_onnx.converter.to_onnx import NCHW_TO_NHWC, NHWC_TO_NCHW, OPSET, OnnxTranslator
from blazepose_onnx.converter.verify import model_inputs

FOLDED = {"DEQUANTIZE", "DENSIFY"}


def _signature(op: Operator) -> tuple:
    """Op kind plus the options that change its translation (padding, strides, activation)."""
    options = op.options
    fields = ("Padding", "StrideH", "FusedActivationFunction", "HalfPixelCenters", "Axis")
    return (op.kind, *(getattr(options, f)() if hasattr(options, f) else None for f in fields))


def _interpreter_tensors(data: bytes, image: np.ndarray) -> Interpreter:
    interpreter = Interpreter(
        model_content=data,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
    interpreter.invoke()
    return interpreter


def _check_each_op_kind(data: bytes, role: str, data_dir) -> set[str]:
    graph = read_tflite(data, role)
    translator = OnnxTranslator(graph, role)
    onnx_graph = translator.translate()
    for index in range(len(graph.tensors)):  # let the extractor see every intermediate
        onnx_graph.value_info.append(
            helper.make_tensor_value_info(translator.name(index), TensorProto.FLOAT, None)
        )
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)])
    extractor = Extractor(model)
    image = model_inputs(role, data_dir)[:1]
    interpreter = _interpreter_tensors(data, image)
    checked, seen = set(), set()
    for op in graph.operators:
        reference = interpreter.get_tensor(op.outputs[0])
        if op.kind in FOLDED:
            folded = translator.constants[op.outputs[0]]
            np.testing.assert_array_equal(folded.astype(np.float32), reference)
            checked.add(op.kind)
            continue
        if _signature(op) in seen:
            continue
        seen.add(_signature(op))
        feeds = {}
        for i in op.inputs:
            if i < 0 or i in translator.constants:
                continue
            value = interpreter.get_tensor(i)
            if i in translator.nchw:
                value = value.transpose(NHWC_TO_NCHW)
            feeds[translator.name(i)] = np.ascontiguousarray(value)
        out_name = translator.name(op.outputs[0])
        single = extractor.extract_model(list(feeds), [out_name])
        session = ort.InferenceSession(
            single.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        (actual,) = session.run(None, feeds)
        if op.outputs[0] in translator.nchw:
            actual = actual.transpose(NCHW_TO_NHWC)
        scale = max(1.0, float(np.abs(reference).max()))
        assert actual.shape == reference.shape, op
        assert np.abs(actual - reference).max() <= 2e-5 * scale, f"{role} op #{op.index} {op.kind}"
        checked.add(op.kind)
    return checked


def test_every_detector_op_kind_matches_interpreter(bundles, data_dir):
    kinds = _check_each_op_kind(bundles["full"].detector, "detector", data_dir)
    assert kinds == {
        "DEQUANTIZE",
        "DENSIFY",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "ADD",
        "PAD",
        "RESHAPE",
        "DEPTH_TO_SPACE",
        "RESIZE_BILINEAR",
        "CONCATENATION",
    }


@pytest.mark.parametrize("variant", ["lite", "heavy"])
def test_every_landmarker_op_kind_matches_interpreter(bundles, data_dir, variant):
    kinds = _check_each_op_kind(bundles[variant].landmarker, "landmarker", data_dir)
    assert kinds == {
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


def test_every_ssd_op_kind_matches_the_interpreter(ssd_model, data_dir):
    """Op by op on a real crop: the heads' NHWC reshapes to 4-D and their concatenation too."""
    data = person_detector_paths("ssd", ssd_model.parent.parent)["tflite"].read_bytes()
    kinds = _check_each_op_kind(data, "person_detector", data_dir)
    assert kinds == {
        "DEQUANTIZE", "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "RESHAPE", "CONCATENATION"
    }  # fmt: skip
    graph = read_tflite(data)
    reshaped = [graph.tensors[o.outputs[0]].shape for o in graph.operators if o.kind == "RESHAPE"]
    assert (1, 1083, 1, 4) in reshaped  # the reshape to 4-D the translator used to refuse


def test_unknown_operator_names_op_index_and_model(bundles):
    graph = read_tflite(bundles["lite"].landmarker, "lite")
    op = graph.operators[5]
    graph.operators[5] = Operator(op.index, "BATCH_MATMUL", op.inputs, op.outputs, op.options)
    with pytest.raises(UnsupportedOperatorError, match=r"lite_test: operator #5 BATCH_MATMUL"):
        OnnxTranslator(graph, "lite_test").translate()


def test_densify_of_non_sparse_input_is_refused():
    graph = TFLiteGraph(tensors=[], operators=[], inputs=(), outputs=())
    translator = OnnxTranslator(graph, "tiny")
    op = Operator(0, "DENSIFY", (0,), (1,))
    with pytest.raises(UnsupportedOperatorError, match="tiny: operator #0 DENSIFY"):
        translator.handler(op)(op)


def test_model_passes_onnx_checker_with_opset_17(model_dir):
    model = onnx.load(str(model_dir / "lite" / "landmarker.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 17
