"""`blazepose-convert` driven as a user would: through a subprocess."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from blazepose_onnx.converter.bundle import DETECTOR_MEMBER, Bundle, write_bundle

SCRIPT = Path(sys.executable).with_name("blazepose-convert")


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=600
    )


def assert_clean_failure(done: subprocess.CompletedProcess, *fragments: str) -> None:
    """Non-zero exit, exactly one line on stderr naming the problem, no traceback."""
    assert done.returncode != 0, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("blazepose-convert: error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], done.stderr


def test_fetch_convert_verify_as_documented(cli_env, model_dir, tmp_path):
    fetched = run_cli("fetch", "all", env=cli_env)
    assert fetched.returncode == 0, fetched.stderr
    assert f"full: {model_dir / 'pose_landmarker_full.task'}" in fetched.stdout
    out = tmp_path / "out"
    converted = run_cli(
        "convert", str(model_dir / "pose_landmarker_full.task"), "--out", str(out), env=cli_env
    )
    assert converted.returncode == 0, converted.stderr
    assert sorted(p.name for p in (out / "full").iterdir()) == ["detector.onnx", "landmarker.onnx"]
    verified = run_cli(
        "verify",
        "full",
        "--model-dir",
        str(out),
        "--bundle",
        str(model_dir / "pose_landmarker_full.task"),
        env=cli_env,
    )
    assert verified.returncode == 0, verified.stderr
    assert "| landmarker | world_landmarks |" in verified.stdout
    assert "| NO |" not in verified.stdout


def test_convert_with_fp16_weights_and_variant_name(cli_env, tmp_path, model_dir):
    done = run_cli(
        "convert",
        "lite",
        "--weights",
        "fp16",
        "--out",
        str(tmp_path),
        "--bundle",
        str(model_dir / "pose_landmarker_lite.task"),
        env=cli_env,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lite" / "landmarker.onnx").stat().st_size < (
        model_dir / "lite" / "landmarker.onnx"
    ).stat().st_size


def test_unknown_variant(cli_env):
    assert_clean_failure(
        run_cli("convert", "medium", env=cli_env), "unknown model variant 'medium'"
    )


def test_missing_bundle(cli_env, tmp_path):
    missing = tmp_path / "nothing.task"
    assert_clean_failure(run_cli("convert", str(missing), env=cli_env), "bundle not found")


def test_non_zip_bundle(cli_env, tmp_path):
    path = tmp_path / "fake.task"
    path.write_text("<html>404</html>")
    assert_clean_failure(
        run_cli("convert", str(path), "--out", str(tmp_path / "o"), env=cli_env),
        "not a valid .task bundle",
    )
    assert not (tmp_path / "o").exists()


def test_truncated_bundle(cli_env, model_dir, tmp_path):
    path = tmp_path / "cut.task"
    path.write_bytes((model_dir / "pose_landmarker_lite.task").read_bytes()[:300_000])
    assert_clean_failure(run_cli("convert", str(path), "--out", str(tmp_path / "o"), env=cli_env))
    assert not (tmp_path / "o").exists()


def test_bundle_missing_a_member(cli_env, bundles, tmp_path):
    path = tmp_path / "half.task"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(DETECTOR_MEMBER, bundles["lite"].detector)
    assert_clean_failure(
        run_cli("convert", str(path), env=cli_env), "lacks pose_landmarks_detector.tflite"
    )


def test_fingerprint_mismatch_refused_then_trusted_with_warning(cli_env, bundles, tamper, tmp_path):
    lite = bundles["lite"]
    path = write_bundle(tmp_path / "t.task", Bundle(tamper(lite.detector), lite.landmarker))
    out = tmp_path / "o"
    assert_clean_failure(
        run_cli("convert", str(path), "--out", str(out), env=cli_env),
        "fingerprint",
        "--trust-unverified",
    )
    assert not out.exists()
    trusted = run_cli("convert", str(path), "--out", str(out), "--trust-unverified", env=cli_env)
    assert trusted.returncode == 0, trusted.stderr
    assert "blazepose-convert: warning: " in trusted.stderr and "does not match" in trusted.stderr
    assert (out / "lite" / "detector.onnx").is_file()


def test_output_directory_not_writable(cli_env, model_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = run_cli(
        "convert",
        str(model_dir / "pose_landmarker_lite.task"),
        "--out",
        str(blocker / "models"),
        env=cli_env,
    )
    assert_clean_failure(done, "cannot write to")
    assert blocker.read_text() == "not a directory"


def test_corrupt_onnx_handed_to_verify(cli_env, model_dir, tmp_path):
    variant_dir = tmp_path / "lite"
    variant_dir.mkdir()
    (variant_dir / "detector.onnx").write_bytes(b"\x00corrupt onnx\xff" * 10)
    (variant_dir / "landmarker.onnx").write_bytes(
        (model_dir / "lite" / "landmarker.onnx").read_bytes()
    )
    done = run_cli(
        "verify",
        "lite",
        "--model-dir",
        str(tmp_path),
        "--bundle",
        str(model_dir / "pose_landmarker_lite.task"),
        env=cli_env,
    )
    assert_clean_failure(done, "detector.onnx: not a valid ONNX model")


@pytest.mark.tf2onnx
def test_tf2onnx_backend_from_cli(cli_env, model_dir, tmp_path):
    pytest.importorskip("tf2onnx")
    done = run_cli(
        "convert",
        str(model_dir / "pose_landmarker_lite.task"),
        "--backend",
        "tf2onnx",
        "--out",
        str(tmp_path),
        env=cli_env,
    )
    assert done.returncode == 0, done.stderr
    verified = run_cli(
        "verify",
        "lite",
        "--model-dir",
        str(tmp_path),
        "--bundle",
        str(model_dir / "pose_landmarker_lite.task"),
        env=cli_env,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_blazepose_convert_fetches_converts_and_verifies_ssd(cli_env, ssd_model):
    verified = run_cli("verify", "ssd", env=cli_env)
    assert verified.returncode == 0, verified.stderr
    assert "| person_detector | boxes |" in verified.stdout and "| NO |" not in verified.stdout
    fetched = run_cli("fetch", "ssd", env=cli_env)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout == f"ssd: {ssd_model.with_suffix('.tflite')}\n"
    assert_clean_failure(
        run_cli("convert", "ssd", "--precision", "fp16", env=cli_env), "fp32 weights only"
    )
