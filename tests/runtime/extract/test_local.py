"""`blazepose extract` on the local engine, as a dataset user runs it: real clips and photos,
real worker processes, the dataset read back with pyarrow."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyarrow")


def _assert_matches(got: dict, want: dict) -> None:
    for name in ("frame", "timestamp_ms", "pose_id"):
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    for name in ("landmarks", "world_landmarks"):
        assert got[name].shape == want[name].shape, name
        assert np.abs(got[name] - want[name]).max(initial=0) <= 1e-6, name


@pytest.mark.slow
def test_rows_equal_in_process_results_and_the_manifest_counts_them(
    cli, media, tmp_path, read_dataset, in_process, test_providers
):
    out = tmp_path / "dataset"
    done = cli(
        "extract", str(media), "--out", str(out), "--model", "lite", "--workers", "2",
        "--provider", test_providers[0],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "6 sources: 6 ok, 0 failed, 0 truncated" in done.stdout
    assert len(done.stdout.splitlines()) == 1 and done.stderr == ""  # no terminal: no progress
    manifest, rows = read_dataset(out)
    assert sorted(manifest) == sorted(
        str(p) for p in media.rglob("*") if p.suffix in (".mp4", ".jpg")
    )
    for source, entry in manifest.items():
        want, frames, with_pose = in_process(Path(source))
        assert entry["status"] == "ok" and entry["error"] is None, entry
        assert entry["kind"] == ("video" if source.endswith(".mp4") else "photo")
        assert (entry["frames"], entry["frames_with_pose"]) == (frames, with_pose), source
        assert entry["poses"] == len(want["frame"]), source
        _assert_matches(rows[source], want)
    assert sum(e["frames"] for e in manifest.values()) == 244


@pytest.mark.slow
def test_one_worker_reuses_its_sessions_yet_each_video_tracks_afresh(
    cli, tmp_path, data_dir, read_dataset, in_process, test_providers
):
    # One worker, three videos: the second squat starts where the dance ended, so any tracking
    # state carried between videos (one stream for all) changes its first frames' rows.
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("squat.mp4", "dance.mp4"):
        shutil.copy(data_dir / name, folder / name)
    shutil.copy(data_dir / "squat.mp4", folder / "squat_again.mp4")
    out = tmp_path / "dataset"
    done = cli(
        "extract", str(folder), "--out", str(out), "--model", "lite", "--workers", "1",
        "--provider", test_providers[0],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest, rows = read_dataset(out)
    assert len(manifest) == 3
    for source in manifest:
        want, _, _ = in_process(Path(source))
        _assert_matches(rows[source], want)


@pytest.mark.slow
def test_bad_files_become_manifest_rows_and_reruns_resume(
    cli, media, tmp_path, data_dir, read_dataset, truncated_clip, one_line_error
):
    (media / "photos" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (media / "corrupt.mp4").write_bytes((data_dir / "squat.mp4").read_bytes()[:300_000])
    shutil.copy(truncated_clip, media / "cut.mp4")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n")
    out = tmp_path / "dataset"
    command = ("extract", str(media), str(notes), "--out", str(out), "--model", "lite")
    first = cli(*command, "--workers", "2")
    assert first.returncode == 4, first.stderr
    manifest, rows = read_dataset(out)
    status = {Path(s).name: (e["status"], e["frames"], e["error"]) for s, e in manifest.items()}
    assert "10 sources: 6 ok, 3 failed, 1 truncated (0 done before)" in first.stdout, status
    assert "3 of 10 sources failed and 1 was truncated (exit code 4" in first.stderr
    assert status["broken.jpg"] == ("failed", 0, f"not a readable image: {media}/photos/broken.jpg")
    assert status["corrupt.mp4"] == ("failed", 0, f"not a readable video: {media}/corrupt.mp4")
    assert status["notes.txt"] == ("failed", 0, f"not a readable video: {notes}")
    assert status["cut.mp4"] == ("truncated", 80, "ended after 80 of its 120 frames")
    assert list(rows[str(media / "cut.mp4")]["frame"]) == list(range(80))
    for name in ("broken.jpg", "corrupt.mp4", "notes.txt"):
        assert not [s for s in rows if Path(s).name == name and len(rows[s]["frame"])]
    assert sum(len(r["frame"]) for r in rows.values()) == sum(e["poses"] for e in manifest.values())
    files = {p: p.stat().st_mtime_ns for p in (out / "poses").iterdir()}
    assert len(files) == 10 and not [p for p in files if p.name.startswith(".")]

    again = cli(*command)  # nothing to do: every source is done, failed ones stay failed
    assert again.returncode == 4, again.stderr
    assert "(10 done before); this run: 0 frames" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in (out / "poses").iterdir()} == files

    shutil.copy(data_dir / "messi5.jpg", media / "photos" / "broken.jpg")
    retried = cli(*command, "--retry-failed")
    assert retried.returncode == 4, retried.stderr
    assert "10 sources: 7 ok, 2 failed, 1 truncated (7 done before)" in retried.stdout
    manifest, rows = read_dataset(out)
    assert manifest[str(media / "photos" / "broken.jpg")]["status"] == "ok"
    assert len(rows[str(media / "photos" / "broken.jpg")]["frame"]) == 1

    refused = cli(*command, "--num-poses", "2")
    one_line_error(refused, "holds poses made with other options or models (options differ)")
    assert refused.returncode == 1

    fresh = cli("extract", str(media / "squat.mp4"), "--out", str(out), "--model", "lite",
                "--num-poses", "2", "--overwrite")  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    manifest, _ = read_dataset(out)
    assert list(manifest) == [str(media / "squat.mp4")]
    assert '"num_poses": 2' in manifest[str(media / "squat.mp4")]["options"]


def test_usage_errors_name_the_option(cli, tmp_path):
    for flags, fragment in (
        (("--address", "auto"), "--address is for --engine ray"),
        (("--gpus-per-worker", "0.5"), "--gpus-per-worker is for --engine ray"),
        (("--retry-failed", "--overwrite"), "not allowed with argument --retry-failed"),
        (("--workers", "0"), "--workers"),
    ):
        done = cli("extract", "x.mp4", "--out", str(tmp_path / "o"), *flags)
        assert done.returncode == 2, (flags, done.stderr)
        assert fragment in done.stderr, (flags, done.stderr)


@pytest.mark.slow
def test_python_api_reads_a_source_list_and_returns_a_summary(tmp_path, data_dir, model_dir):
    import blazepose_onnx
    from blazepose_onnx import PoseLandmarkerOptions

    shutil.copy(data_dir / "messi5.jpg", tmp_path / "messi5.jpg")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# a dataset\n{data_dir / 'squat.mp4'}\n\nmessi5.jpg\ngone.mp4\n")
    summary = blazepose_onnx.extract(
        [f"@{listing}"], tmp_path / "out", PoseLandmarkerOptions(model="lite"), workers=2
    )
    assert (summary.sources, summary.ok, summary.failed, summary.frames) == (3, 2, 1, 121)
    assert summary.failures == [
        (str(tmp_path / "gone.mp4"), f"failed: no such video file: {tmp_path / 'gone.mp4'}")
    ]
    assert summary.exit_code == 4
    again = blazepose_onnx.extract(
        [f"@{listing}"], tmp_path / "out", PoseLandmarkerOptions(model="lite")
    )
    assert (again.skipped, again.frames) == (3, 0)


def test_building_the_parser_imports_nothing_heavy():
    script = (
        "import sys; from blazepose_onnx.cli.main import build_parser; build_parser()\n"
        "heavy = ('pyarrow', 'ray', 'numpy', 'onnxruntime', 'cv2')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


@pytest.mark.skipif(find_spec("ray") is not None, reason="Ray is installed here")
def test_engine_ray_without_ray_is_one_line_with_the_install_command(
    cli, data_dir, tmp_path, one_line_error
):
    from blazepose_onnx.common.install import install_command

    done = cli("extract", str(data_dir / "squat.mp4"), "--out", str(tmp_path / "o"),
               "--engine", "ray", "--model", "lite")  # fmt: skip
    one_line_error(
        done, f"--engine ray needs ray, which is not installed: {install_command('ray')}"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_progress_on_a_terminal(cli_env, data_dir, tmp_path):
    import pty

    terminal, stderr = pty.openpty()
    blazepose = str(Path(sys.executable).with_name("blazepose"))
    done = subprocess.run(
        [blazepose, "extract", str(data_dir / "squat.mp4"), str(data_dir / "messi5.jpg"),
         "--out", str(tmp_path / "out"), "--model", "lite"],
        stdout=subprocess.PIPE, stderr=stderr, env=cli_env, text=True, timeout=600,
    )  # fmt: skip
    os.close(stderr)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once everything written has been read
        while chunk := os.read(terminal, 4096):
            shown += chunk
    os.close(terminal)
    assert done.returncode == 0
    lines = shown.decode().replace("\r\n", "\n").split("\r")  # the terminal's line ends
    assert any(line.startswith("sources 1/2, frames ") for line in lines), lines
    assert lines[-1].startswith("sources 2/2, frames 121, ") and lines[-1].endswith(
        "frames/s, ETA 0:00:00  \n"
    ), lines


@pytest.mark.slow
def test_ffmpeg_messages_of_a_damaged_video_stay_off_stderr(cli, tmp_path, data_dir, read_dataset):
    # Bytes flipped mid-file: FFmpeg prints "[mpeg4 @ 0x...] header damaged" as it decodes,
    # and the video ends early. Only the run's own summary may reach stderr.
    damaged = bytearray((data_dir / "squat.mp4").read_bytes())
    damaged[200_000:260_000:7] = bytes(b ^ 0x55 for b in damaged[200_000:260_000:7])
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "damaged.mp4").write_bytes(bytes(damaged))
    shutil.copy(data_dir / "dance.mp4", folder / "dance.mp4")
    done = cli("extract", str(folder), "--out", str(tmp_path / "dataset"), "--model", "lite")
    assert done.returncode == 3, done.stderr
    manifest, _ = read_dataset(tmp_path / "dataset")
    assert manifest[str(folder / "damaged.mp4")]["status"] == "truncated"
    assert manifest[str(folder / "dance.mp4")]["status"] == "ok"
    error = manifest[str(folder / "damaged.mp4")]["error"]
    assert done.stderr.splitlines() == [
        f"  {folder / 'damaged.mp4'}: truncated: {error}",
        "blazepose: 1 of 2 sources was truncated (exit code 3; --allow-truncated accepts "
        "truncated videos)",
    ], done.stderr


def _landmarkers_built_here() -> list[str]:
    """In a worker: the landmarkers its process has built so far, by class name."""
    from blazepose_onnx.extract import work

    return sorted(type(landmarker).__name__ for landmarker in work.built_landmarkers())


def test_workers_build_their_landmarkers_as_the_pool_starts(tmp_path, data_dir, model_dir):
    # A worker's start-up (imports, sessions) overlaps the run's own checks: by the time it
    # takes its first task it holds a landmarker for each kind of unit the run has.
    from blazepose_onnx import PoseLandmarkerOptions
    from blazepose_onnx.extract.local import start_pool
    from blazepose_onnx.extract.run import run_config
    from blazepose_onnx.extract.sources import expand_sources
    from blazepose_onnx.extract.store import Store
    from blazepose_onnx.extract.work import Job

    options = PoseLandmarkerOptions(model="lite", num_threads=1).validated()
    sources = expand_sources([str(data_dir / "squat.mp4"), str(data_dir / "messi5.jpg")])
    job = Job(Store.at(tmp_path / "dataset"), options, 0, run_config(options, 0))
    for units, built in (
        ([[sources[0]]], ["MultiStreamPoseLandmarker"]),
        ([[sources[0]], [sources[1]]], ["MultiStreamPoseLandmarker", "PoseLandmarker"]),
    ):
        pool = start_pool(job, units, 1)
        try:
            assert pool.submit(_landmarkers_built_here).result(timeout=300) == built
        finally:
            pool.shutdown()
