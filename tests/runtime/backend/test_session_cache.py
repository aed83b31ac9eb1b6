"""The cache of edited session models in `<model dir>/.sessions/`: shared by copies of one
model, rebuilt when corrupted, bounded per role."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from blazepose_onnx.backend import session_cache
from blazepose_onnx.backend.graph_edits import session_model
from blazepose_onnx.pipeline.pose_pipeline import LANDMARKER_OUTPUTS


@pytest.fixture()
def cache_home(tmp_path, monkeypatch) -> Path:
    """An empty model directory for the cache (the models themselves stay where they are)."""
    home = tmp_path / "home"
    monkeypatch.setenv("BLAZEPOSE_MODEL_DIR", str(home))
    return home / session_cache.CACHE_DIR


def _landmarker(model_dir: Path, variant: str, folder: Path) -> Path:
    """A copy of a variant's converted landmarker (and its seal) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in (model_dir / variant).glob("landmarker.onnx*"):
        shutil.copy(source, folder / source.name)
    return folder / "landmarker.onnx"


def test_copies_of_one_model_share_one_entry_equal_to_a_fresh_edit(model_dir, tmp_path, cache_home):
    first = _landmarker(model_dir, "lite", tmp_path / "a")
    second = _landmarker(model_dir, "lite", tmp_path / "b")
    built = session_cache.cached_session_model(first, "landmarker", LANDMARKER_OUTPUTS)
    again = session_cache.cached_session_model(second, "landmarker", LANDMARKER_OUTPUTS)
    assert built == again == session_model(first, "landmarker", LANDMARKER_OUTPUTS)
    assert len(list(cache_home.glob("landmarker.*.onnx"))) == 1  # one per path before


def test_a_corrupted_entry_is_rebuilt_not_used(model_dir, tmp_path, cache_home):
    model = _landmarker(model_dir, "lite", tmp_path / "a")
    good = session_cache.cached_session_model(model, "landmarker", LANDMARKER_OUTPUTS)
    (entry,) = cache_home.glob("landmarker.*.onnx")
    damaged = bytearray(entry.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    entry.write_bytes(bytes(damaged))
    assert session_cache.cached_session_model(model, "landmarker", LANDMARKER_OUTPUTS) == good
    assert [e.read_bytes() for e in cache_home.glob("landmarker.*.onnx")] == [good]


def test_each_role_keeps_its_most_recently_used_entries(
    model_dir, tmp_path, cache_home, monkeypatch
):
    monkeypatch.setattr(session_cache, "KEEP", 2)
    models = {v: _landmarker(model_dir, v, tmp_path / v) for v in ("lite", "full", "heavy")}
    session_cache.cached_session_model(models["lite"], "landmarker", LANDMARKER_OUTPUTS)
    session_cache.cached_session_model(models["full"], "landmarker", LANDMARKER_OUTPUTS)
    lite = session_cache.cached_session_model(models["lite"], "landmarker", LANDMARKER_OUTPUTS)
    session_cache.cached_session_model(models["heavy"], "landmarker", LANDMARKER_OUTPUTS)
    kept = sorted(e.read_bytes() == lite for e in cache_home.glob("landmarker.*.onnx"))
    assert kept == [False, True]  # heavy (new) and lite (used since full), not full
