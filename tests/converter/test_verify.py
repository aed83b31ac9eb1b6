"""Parity of converted models with the TFLite originals, both backends, all variants."""

from __future__ import annotations

import numpy as np
import pytest

from blazepose_onnx.converter.bundle import write_bundle
from blazepose_onnx.converter.convert import convert_bundle
from blazepose_onnx.converter.errors import ModelFormatError, ModelNotFoundError
from blazepose_onnx.converter.paths import onnx_paths
from blazepose_onnx.converter.verify import (
    TOLERANCES,
    format_table,
    load_onnx_session,
    model_inputs,
    verify_models,
)

VARIANTS = ["lite", "full", "heavy"]


def _assert_within_tolerance(diffs):
    table = format_table(diffs)
    assert {d.output for d in diffs} == set(TOLERANCES), table
    assert all(d.ok for d in diffs), table
    # The real-image crops and random inputs produce real, non-trivial outputs on both sides.
    assert all(d.mean_abs > 0 for d in diffs if d.output != "pose_flag"), table


@pytest.mark.parametrize(
    "variant", [v if v == "lite" else pytest.param(v, marks=pytest.mark.slow) for v in VARIANTS]
)
def test_native_backend_matches_tflite(bundles, converted, data_dir, variant):
    diffs = verify_models(bundles[variant], converted(variant, "native"), data_dir)
    _assert_within_tolerance(diffs)


@pytest.fixture(scope="module")
def converted(bundles, tmp_path_factory):
    """Function: a variant's models converted now with a backend (once per variant and backend;
    not the model directory's, which an older converter may have written)."""
    folder, written = tmp_path_factory.mktemp("converted"), {}

    def convert(variant: str, backend: str) -> dict:
        if (variant, backend) not in written:
            path = write_bundle(folder / f"{variant}.task", bundles[variant])
            out = folder / backend
            written[variant, backend] = convert_bundle(path, out, backend=backend)
        return written[variant, backend]

    return convert


@pytest.mark.tf2onnx
@pytest.mark.parametrize("variant", VARIANTS)
def test_tf2onnx_backend_matches_tflite(bundles, converted, data_dir, variant):
    models = converted(variant, "tf2onnx")
    _assert_within_tolerance(verify_models(bundles[variant], models, data_dir))


@pytest.mark.tf2onnx
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("role", ["detector", "landmarker"])
def test_the_two_backends_give_identical_outputs(converted, data_dir, variant, role):
    """Native and tf2onnx models of a variant, both converted by this code, in ONNX Runtime
    (CPU) on the verification inputs (real crops, random images): every output identical
    (measured: max abs 0 on all of them)."""
    native = load_onnx_session(converted(variant, "native")[role])
    other = load_onnx_session(converted(variant, "tf2onnx")[role])
    x = np.ascontiguousarray(model_inputs(role, data_dir).transpose(0, 3, 1, 2))
    names = [o.name for o in native.get_outputs()]
    for name, a, b in zip(
        names, native.run(names, {"image": x}), other.run(names, {"image": x}), strict=True
    ):
        np.testing.assert_array_equal(a, b, err_msg=f"{variant} {role} {name}")


def test_corrupt_onnx_is_reported(bundles, tmp_path, model_dir):
    paths = onnx_paths("lite", tmp_path)
    paths["detector"].parent.mkdir(parents=True)
    paths["detector"].write_bytes(b"\x08\x07garbage, not a protobuf")
    paths["landmarker"].write_bytes((model_dir / "lite" / "landmarker.onnx").read_bytes()[:5000])
    with pytest.raises(ModelFormatError, match=r"detector\.onnx: not a valid ONNX model"):
        verify_models(bundles["lite"], {"detector": paths["detector"]}, None)
    with pytest.raises(ModelFormatError, match=r"landmarker\.onnx: not a valid ONNX model"):
        verify_models(bundles["lite"], {"landmarker": paths["landmarker"]}, None)


def test_missing_onnx_says_to_convert(bundles, tmp_path):
    with pytest.raises(ModelNotFoundError, match="run `blazepose-convert convert` first"):
        verify_models(bundles["lite"], onnx_paths("lite", tmp_path), None)


def test_every_function_the_package_advertises_imports_from_it(bundles, converted):
    """The package docstring's "Public API" and `__all__` name the same functions, and each
    resolves (`verify_models` was advertised and raised AttributeError)."""
    import re

    import blazepose_onnx.converter as converter

    public_api = converter.__doc__.split("Public API:")[1].split(", and the error types")[0]
    advertised = re.findall(r"`(\w+)`", public_api)
    assert set(advertised) == set(converter.__all__) - {"CONVERTER_VERSION"}, advertised
    for name in converter.__all__:
        assert getattr(converter, name) is not None
    _assert_within_tolerance(
        converter.verify_models(bundles["lite"], converted("lite", "native"), None)
    )
