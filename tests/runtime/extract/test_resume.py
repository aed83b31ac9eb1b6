"""SIGKILL at any moment, then the same command again: each source exactly once, no partial
file visible, the same rows as a run that was never interrupted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pq = pytest.importorskip("pyarrow.parquet")


def _committed(out: Path) -> list[Path]:
    return sorted((out / "poses").glob("*.parquet")) if (out / "poses").is_dir() else []


def _workers_of(pid: int) -> list[int]:
    """The spawned worker processes of process `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and b"spawn_main" in (entry / "cmdline").read_bytes()
                and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_sigkill_mid_run_then_the_same_command_gives_each_source_once(
    cli, cli_env, tmp_path, data_dir, read_dataset
):
    media = tmp_path / "media"
    media.mkdir()
    for index in range(4):
        shutil.copy(data_dir / ("squat.mp4", "dance.mp4")[index % 2], media / f"clip{index}.mp4")
    for photo in data_dir.glob("*.jpg"):
        shutil.copy(photo, media / photo.name)
    sources = 8

    def command(out: Path) -> list[str]:
        return ["extract", str(media), "--out", str(out), "--model", "lite", "--workers", "2"]

    reference = tmp_path / "reference"
    assert cli(*command(reference)).returncode == 0

    out = tmp_path / "killed"
    blazepose = str(Path(sys.executable).with_name("blazepose"))
    process = subprocess.Popen(
        [blazepose, *command(out)], env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while not _committed(out) and time.monotonic() < deadline:
        time.sleep(0.02)
    workers = _workers_of(process.pid)
    process.kill()  # SIGKILL: no handler runs, in the command or its workers
    process.wait(timeout=30)
    committed = _committed(out)
    gone = time.monotonic() + 10
    while [w for w in workers if Path(f"/proc/{w}").exists()] and time.monotonic() < gone:
        time.sleep(0.05)  # the workers die with it (PR_SET_PDEATHSIG): none goes on alone
    assert workers and not [w for w in workers if Path(f"/proc/{w}").exists()]
    assert 1 <= len(committed) < sources, committed
    assert _committed(out) == committed
    for path in committed:  # what is visible is complete
        assert pq.read_table(path).schema.metadata[b"blazepose.entry"]

    resumed = cli(*command(out))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{sources} sources: {sources} ok" in resumed.stdout
    assert f"({len(committed)} done before)" in resumed.stdout
    assert len(_committed(out)) == sources
    assert not [p for p in (out / "poses").iterdir() if p.name.startswith(".")]  # no part files
    want_manifest, want_rows = read_dataset(reference)
    manifest, rows = read_dataset(out)
    assert sorted(manifest) == sorted(want_manifest)
    for source, entry in manifest.items():
        for column in ("status", "frames", "frames_with_pose", "poses", "error"):
            assert entry[column] == want_manifest[source][column], (source, column)
        for name, values in rows[source].items():
            np.testing.assert_array_equal(values, want_rows[source][name], err_msg=name)


@pytest.mark.slow
def test_a_local_worker_killed_mid_run_is_replaced_and_its_units_redone(
    cli_env, tmp_path, data_dir, read_dataset, in_process
):
    media = tmp_path / "media"
    media.mkdir()
    for index in range(3):
        shutil.copy(data_dir / "squat.mp4", media / f"clip{index}.mp4")
    out = tmp_path / "dataset"
    blazepose = str(Path(sys.executable).with_name("blazepose"))
    run = subprocess.Popen(
        [blazepose, "extract", str(media), "--out", str(out), "--model", "lite", "--workers", "2"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while len(workers := _workers_of(run.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)  # the workers are starting or in their first clips
    committed = _committed(out)
    os.kill(workers[0], signal.SIGKILL)
    assert len(committed) < 3  # a unit was in flight: the pool breaks with it
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    assert "3 sources: 3 ok, 0 failed" in stdout
    manifest, rows = read_dataset(out)
    assert len(_committed(out)) == 3
    want, frames, _ = in_process(data_dir / "squat.mp4")
    for source in manifest:
        assert manifest[source]["frames"] == frames
        for name in ("frame", "pose_id", "landmarks", "world_landmarks"):
            np.testing.assert_array_equal(rows[source][name], want[name], err_msg=name)


def test_a_worker_that_dies_between_units_breaks_no_submit(tmp_path, data_dir, model_dir):
    # The pool can break while no unit is in flight (a worker killed between two units): the
    # next submit raises BrokenProcessPool, and the run replaces the pool instead of failing.
    from concurrent.futures.process import BrokenProcessPool

    from blazepose_onnx import PoseLandmarkerOptions
    from blazepose_onnx.extract.local import run_local, start_pool
    from blazepose_onnx.extract.run import run_config
    from blazepose_onnx.extract.sources import expand_sources
    from blazepose_onnx.extract.store import Store
    from blazepose_onnx.extract.work import Job

    options = PoseLandmarkerOptions(model="lite", num_threads=1).validated()
    units = [[source] for source in expand_sources([str(data_dir / "messi5.jpg")])]
    job = Job(Store.at(tmp_path / "dataset"), options, 0, run_config(options, 0))
    pool = start_pool(job, units, 1)
    deadline = time.monotonic() + 300
    while not (workers := _workers_of(os.getpid())) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(workers[0], signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):  # wait until the pool knows
        while time.monotonic() < deadline:
            pool.submit(int).result()
    outcomes = []
    run_local(job, units, pool, 1, lambda unit, result: outcomes.append(result))
    assert len(outcomes) == 1 and isinstance(outcomes[0], list), outcomes
