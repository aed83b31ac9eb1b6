"""`blazepose extract --engine ray` on a real local Ray cluster, started and stopped here: the
same rows as the local engine, and a worker process killed mid-source is retried by Ray with
every source written once. CI runs these in their own stage (`pytest -m ray`)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.ray  # only CI's ray stage (the [ray] extra) selects these


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _processes_titled(prefix: str) -> list[int]:
    """Process ids whose command line starts with `prefix` (Ray names workers by their task)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(prefix.encode()):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def ray_env(model_dir) -> dict[str, str]:
    """The environment of the cluster and its drivers: the model folder, and a token of this
    test's own (Ray would otherwise share ~/.ray/auth_token with every cluster of this user)."""
    return {
        **os.environ,
        "BLAZEPOSE_MODEL_DIR": str(model_dir),
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }


@pytest.fixture(scope="module")
def ray_address(ray_env):
    """A one-node Ray cluster on 127.0.0.1 in its own process group and temp dir, with two CPUs;
    stopped (its whole group) at the end."""
    temp = tempfile.mkdtemp(prefix="bp-ray-", dir="/tmp")  # Ray's socket paths must be short
    port = _free_port()
    head = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("ray")), "start", "--head", "--block",
            f"--port={port}", "--node-ip-address=127.0.0.1", f"--temp-dir={temp}",
            "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
            "--object-store-memory=200000000",
        ],
        env=ray_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert head.poll() is None, "ray start exited"
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        time.sleep(3)  # the raylet registers after the GCS listens
        yield f"127.0.0.1:{port}"
    finally:
        # `ray start --block` stops its cluster when it gets SIGTERM itself (measured: under
        # 2 s); sent to the whole group, it outlived its stopped processes and hung.
        head.terminate()
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait()
        with contextlib.suppress(ProcessLookupError):  # anything of the cluster left behind
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, data_dir) -> Path:
    media = tmp_path_factory.mktemp("media")
    for index in range(4):
        shutil.copy(data_dir / ("squat.mp4", "dance.mp4")[index % 2], media / f"clip{index}.mp4")
    for photo in data_dir.glob("*.jpg"):
        shutil.copy(photo, media / photo.name)
    return media


@pytest.fixture(scope="module")
def local_dataset(tmp_path_factory, clips, model_dir) -> Path:
    out = tmp_path_factory.mktemp("local") / "dataset"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("blazepose")), "extract", str(clips), "--out",
         str(out), "--model", "lite", "--workers", "2"],
        env={**os.environ, "BLAZEPOSE_MODEL_DIR": str(model_dir)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def _assert_same_dataset(read_dataset, got: Path, want: Path) -> None:
    want_manifest, want_rows = read_dataset(want)
    manifest, rows = read_dataset(got)
    assert sorted(manifest) == sorted(want_manifest)
    assert len(list((got / "poses").glob("*.parquet"))) == len(manifest)
    for source, entry in manifest.items():
        for column in ("status", "frames", "frames_with_pose", "poses", "error", "options"):
            assert entry[column] == want_manifest[source][column], (source, column)
        for name, values in rows[source].items():
            np.testing.assert_array_equal(values, want_rows[source][name], err_msg=name)


def test_ray_engine_gives_the_rows_of_the_local_engine(
    cli, ray_env, clips, ray_address, local_dataset, tmp_path, read_dataset
):
    out = tmp_path / "dataset"
    done = cli(
        "extract", str(clips), "--out", str(out), "--model", "lite", "--engine", "ray",
        "--address", ray_address, env=ray_env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "8 sources: 8 ok, 0 failed, 0 truncated" in done.stdout
    _assert_same_dataset(read_dataset, out, local_dataset)


def test_a_ray_worker_killed_mid_source_is_retried_and_each_source_written_once(
    ray_env, clips, ray_address, local_dataset, tmp_path, read_dataset
):
    out = tmp_path / "dataset"
    run = subprocess.Popen(
        [str(Path(sys.executable).with_name("blazepose")), "extract", str(clips), "--out",
         str(out), "--model", "lite", "--engine", "ray", "--address", ray_address],
        env=ray_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (busy := _processes_titled("ray::extract_unit")) and time.monotonic() < deadline:
        assert run.poll() is None, run.communicate()
        time.sleep(0.05)
    time.sleep(1)  # mid-source: a clip takes several seconds
    assert busy[0] in _processes_titled("ray::extract_unit")
    committed = len(list((out / "poses").glob("*.parquet")))
    os.kill(busy[0], signal.SIGKILL)
    assert committed < 8
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert "8 sources: 8 ok" in stdout
    assert not [p for p in (out / "poses").iterdir() if p.name.startswith(".")]
    _assert_same_dataset(read_dataset, out, local_dataset)


@pytest.fixture()
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never answers (not Ray)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                accepted.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in accepted:
        connection.close()


def test_a_wrong_ray_address_is_one_line_naming_it(
    cli, ray_env, data_dir, tmp_path, one_line_error, silent_server
):
    """Nothing listening: at once. Something that is not Ray: at --connect-timeout. Either way
    one line and no dataset folder; Ray's own client kept retrying for minutes, logging."""
    out = tmp_path / "dataset"
    photo = str(data_dir / "bus.jpg")
    closed = f"127.0.0.1:{_free_port()}"
    refused = cli("extract", photo, "--out", str(out), "--engine", "ray", "--address", closed,
                  env=ray_env, timeout=120)  # fmt: skip
    one_line_error(refused, f"no Ray cluster at {closed}: connection refused")
    silent = cli("extract", photo, "--out", str(out), "--engine", "ray", "--address",
                 silent_server, "--connect-timeout", "5", env=ray_env, timeout=120)  # fmt: skip
    one_line_error(silent, f"no Ray cluster answered at {silent_server} within 5 s")
    assert not out.exists()
    helped = cli("extract", "--help").stdout
    assert "--connect-timeout SECONDS" in " ".join(helped.split())
    assert "giving up with an error naming it (default: 30)" in " ".join(helped.split())
