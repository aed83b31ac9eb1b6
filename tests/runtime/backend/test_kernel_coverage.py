"""CUDA and DirectML: every node of the models the runtime hands them has a kernel, at the model's
opset and for its tensor types, in ONNX Runtime's published operator-kernel tables
(tests/data/operator_kernels/: the source, the commit, and how to refresh them).

A static check: no GPU and no Windows machine runs here. A node without a kernel would run on
the CPU (ONNX Runtime's fallback), which the runtime's placement check then refuses.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, defs

from blazepose_onnx.backend.provider_models import provider_models
from blazepose_onnx.converter.manifest import VARIANTS

KERNELS_DIR = Path(__file__).parents[2] / "data" / "operator_kernels"
TABLES = json.loads((KERNELS_DIR / "operator_kernels.json").read_text())
PROVIDERS = {"cuda": "CUDAExecutionProvider", "directml": "DmlExecutionProvider"}


def _value_types(model: onnx.ModelProto) -> dict[str, str]:
    """Tensor element type names ('float', 'uint8', ...) of every value in the model."""
    inferred = onnx.shape_inference.infer_shapes(model)
    graph = inferred.graph
    types = {
        value.name: TensorProto.DataType.Name(value.type.tensor_type.elem_type).lower()
        for value in [*graph.input, *graph.output, *graph.value_info]
    }
    types.update(
        {t.name: TensorProto.DataType.Name(t.data_type).lower() for t in graph.initializer}
    )
    return types


def missing_kernels(model: onnx.ModelProto, table: dict) -> list[str]:
    """Each node without a kernel in `table` at the model's opset for its types, described."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    types = _value_types(model)
    missing = []
    for node in model.graph.node:
        rows = [
            row
            for row in table.get(node.op_type, [])
            if row["since"] <= opset and (row["until"] is None or opset <= row["until"])
        ]
        where = f"{node.op_type} (opset {opset}) {node.name or node.output[0]}"
        if node.domain not in ("", "ai.onnx") or not rows:
            missing.append(f"{where}: no kernel")
            continue
        schema = defs.get_schema(node.op_type, opset)
        formals = [*_formals(schema.inputs, node.input), *_formals(schema.outputs, node.output)]
        for formal, name in formals:
            allowed = rows[0]["types"].get(formal.type_str)
            if name and allowed is not None and types.get(name) not in allowed:
                missing.append(f"{where}: {formal.type_str}={types.get(name)} not in {allowed}")
    return missing


def _formals(params, names):
    """(formal parameter, value name) pairs; a last variadic parameter takes the rest."""
    variadic = bool(params) and params[-1].option == defs.OpSchema.FormalParameterOption.Variadic
    for k, name in enumerate(names):
        if k < len(params) or variadic:
            yield params[min(k, len(params) - 1)], name


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_node_has_a_kernel(model_dir, provider, precision, variant):
    table = TABLES["providers"][PROVIDERS[provider]]
    for masks in (False, True):
        for role, data in provider_models(variant, provider, precision, masks).items():
            model = onnx.load_from_string(data)
            assert len(model.graph.node) > 100
            assert missing_kernels(model, table) == [], (role, masks)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_every_node_of_the_person_detector_has_a_kernel(ssd_model, provider):
    """The built-in person detector (`person_detector="ssd"`) as the runtime hands it each
    provider: the SSD's own ops (Conv, Clip, Reshape, Transpose, Add, Concat) and the uint8
    input's Transpose, Cast, Mul and Add."""
    table = TABLES["providers"][PROVIDERS[provider]]
    data = provider_models("lite", provider, person_detector="ssd")["person_detector"]
    model = onnx.load_from_string(data)
    assert len(model.graph.node) > 150
    assert missing_kernels(model, table) == []


def test_the_check_finds_a_missing_kernel_and_a_missing_type(model_dir):
    """The check is not vacuous: a node of an op the table lacks, and the uint8 input Cast on a
    provider without a uint8 Cast kernel, are both reported."""
    model = onnx.load_from_string(provider_models("lite", "cuda")["landmarker"])
    table = TABLES["providers"]["CUDAExecutionProvider"]
    assert missing_kernels(model, {k: v for k, v in table.items() if k != "Resize"})
    cast = [{**row, "types": {**row["types"], "T1": ["float"]}} for row in table["Cast"]]
    narrowed = {**table, "Cast": cast}
    (problem,) = missing_kernels(model, narrowed)
    assert "Cast (opset 17)" in problem and "T1=uint8" in problem


def test_the_refresh_script_reads_the_published_format(tmp_path):
    """refresh.py parses OperatorKernels.md's rows: ranges, open-ended rows (until the next
    registration), several constraints, and skips other domains."""
    spec = importlib.util.spec_from_file_location("refresh", KERNELS_DIR / "refresh.py")
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    text = "\n".join(
        [
            "## Operators implemented by DmlExecutionProvider",
            "| Op Name | Parameters | OpSet Version | Types Supported |",
            "|---------|------------|---------------|-----------------|",
            "|**Operator Domain:** *ai.onnx*||||",
            "|Add|*in* A:**T**<br> *out* C:**T**|14+|**T** = tensor(float), tensor(float16)|",
            "|||7+|**T** = tensor(float)|",
            "|Resize|*in* X:**T1**|[11, 12]|**T1** = tensor(float), tensor(uint8)<br/> **T2** = "
            "tensor(float)|",
            "|**Operator Domain:** *com.microsoft*||||",
            "|Gelu|*in* X:**T**<br> *out* Y:**T**|1+|**T** = tensor(float)|",
        ]
    )
    table = refresh.parse_table(text, "DmlExecutionProvider")
    assert table == {
        "Add": [
            {"since": 14, "until": None, "types": {"T": ["float", "float16"]}},
            {"since": 7, "until": 13, "types": {"T": ["float"]}},
        ],
        "Resize": [
            {"since": 11, "until": 12, "types": {"T1": ["float", "uint8"], "T2": ["float"]}}
        ],
    }
