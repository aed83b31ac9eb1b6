"""fp16 compute models: float16 weights and activations, float32 inputs and outputs, and the
drift against fp32 measured on real crops (ONNX Runtime computes these in fp16 on CPU too)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto

from blazepose_onnx.converter.bundle import write_bundle
from blazepose_onnx.converter.convert import convert_bundle
from blazepose_onnx.converter.interface import read_metadata
from blazepose_onnx.converter.verify import FP16_DRIFT, fp16_drift


@pytest.fixture(scope="module")
def fp16_models(bundles, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fp16")
    path = write_bundle(folder / "full.task", bundles["full"])
    return convert_bundle(path, folder, precision="fp16"), convert_bundle(path, folder)


def test_fp16_model_structure(fp16_models):
    fp16, _ = fp16_models
    for role, path in fp16.items():
        assert path.name == f"{role}.fp16.onnx"
        model = onnx.load(str(path))
        floats = [
            i
            for i in model.graph.initializer
            if i.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16)
        ]
        weights = [i for i in floats if len(i.dims) >= 1 and np.prod(i.dims) > 4]
        assert all(i.data_type == TensorProto.FLOAT16 for i in weights)
        io = [*model.graph.input, *model.graph.output]
        assert all(v.type.tensor_type.elem_type == TensorProto.FLOAT for v in io)
        assert read_metadata(model)["blazepose.precision"] == "fp16"


@pytest.mark.parametrize("role", ["detector", "landmarker"])
def test_fp16_drift_against_fp32(fp16_models, data_dir, role):
    fp16, fp32 = fp16_models
    drift = fp16_drift(role, fp16[role], fp32[role], data_dir)
    for name, value in drift.items():
        if name in FP16_DRIFT:
            assert value <= FP16_DRIFT[name], (name, value)
        assert value > 0 or name == "pose_flag"  # really computed in fp16, not a copy of fp32
