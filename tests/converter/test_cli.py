"""`blazepose-convert` driven as a user would: through a subprocess."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from blazepose_onnx.converter.bundle import DETECTOR_MEMBER, Bundle, write_bundle


@pytest.fixture()
def convert(cli):
    """Run `blazepose-convert ARGS` as a user would (the shared `cli` runner)."""
    return functools.partial(cli, script="blazepose-convert")


@pytest.fixture(scope="session")
def convert_error(one_line_error):
    """The one error line of a failed `blazepose-convert` run (`one_line_error`)."""
    return functools.partial(one_line_error, prog="blazepose-convert")


@pytest.mark.slow
def test_fetch_convert_verify_as_documented(convert, model_dir, tmp_path):
    fetched = convert("fetch", "all")
    assert fetched.returncode == 0, fetched.stderr
    assert f"full: {model_dir / 'pose_landmarker_full.task'}" in fetched.stdout
    out = tmp_path / "out"
    converted = convert("convert", str(model_dir / "pose_landmarker_full.task"), "--out", str(out))
    assert converted.returncode == 0, converted.stderr
    assert sorted(p.name for p in (out / "full").iterdir()) == ["detector.onnx", "landmarker.onnx"]
    verified = convert(
        "verify",
        "full",
        "--model-dir",
        str(out),
        "--bundle",
        str(model_dir / "pose_landmarker_full.task"),
    )
    assert verified.returncode == 0, verified.stderr
    assert "| landmarker | world_landmarks |" in verified.stdout
    assert "| NO |" not in verified.stdout


@pytest.mark.slow
def test_convert_with_fp16_weights_and_variant_name(convert, tmp_path, model_dir):
    done = convert(
        "convert",
        "lite",
        "--weights",
        "fp16",
        "--out",
        str(tmp_path),
        "--bundle",
        str(model_dir / "pose_landmarker_lite.task"),
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lite" / "landmarker.onnx").stat().st_size < (
        model_dir / "lite" / "landmarker.onnx"
    ).stat().st_size


def test_unknown_variant(convert, convert_error):
    convert_error(convert("convert", "medium"), "unknown model variant 'medium'")


def test_help_and_usage_errors_do_not_import_onnx(cli_env):
    """onnx's import alone takes about a second (ml_dtypes): only the commands that convert or
    verify import it, so `--help` and a mistyped variant answer at once."""
    script = Path(sys.executable).with_name("blazepose-convert")
    for args in (["--help"], ["convert", "--help"], ["convert", "medium"], ["verify", "medium"]):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", str(script), *args],
            capture_output=True, text=True, env=cli_env, timeout=60,
        )  # fmt: skip
        imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
        assert "blazepose_onnx.cli.convert" in imported, done.stderr
        assert "onnx" not in imported and "tensorflow" not in imported, args


def test_missing_bundle(convert, convert_error, tmp_path):
    missing = tmp_path / "nothing.task"
    convert_error(convert("convert", str(missing)), "bundle not found")


def test_non_zip_bundle(convert, convert_error, tmp_path):
    path = tmp_path / "fake.task"
    path.write_text("<html>404</html>")
    convert_error(
        convert("convert", str(path), "--out", str(tmp_path / "o")), "not a valid .task bundle"
    )
    assert not (tmp_path / "o").exists()


def test_truncated_bundle(convert, convert_error, model_dir, tmp_path):
    path = tmp_path / "cut.task"
    path.write_bytes((model_dir / "pose_landmarker_lite.task").read_bytes()[:300_000])
    convert_error(convert("convert", str(path), "--out", str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()


def test_bundle_missing_a_member(convert, convert_error, bundles, tmp_path):
    path = tmp_path / "half.task"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(DETECTOR_MEMBER, bundles["lite"].detector)
    convert_error(convert("convert", str(path)), "lacks pose_landmarks_detector.tflite")


@pytest.mark.slow
def test_fingerprint_mismatch_refused_then_trusted_with_warning(
    convert, convert_error, bundles, tamper, tmp_path
):
    lite = bundles["lite"]
    path = write_bundle(tmp_path / "t.task", Bundle(tamper(lite.detector), lite.landmarker))
    out = tmp_path / "o"
    convert_error(
        convert("convert", str(path), "--out", str(out)), "fingerprint", "--trust-unverified"
    )
    assert not out.exists()
    trusted = convert("convert", str(path), "--out", str(out), "--trust-unverified")
    assert trusted.returncode == 0, trusted.stderr
    assert "blazepose-convert: warning: " in trusted.stderr and "does not match" in trusted.stderr
    assert (out / "lite" / "detector.onnx").is_file()


def test_output_directory_not_writable(convert, convert_error, model_dir, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = convert(
        "convert",
        str(model_dir / "pose_landmarker_lite.task"),
        "--out",
        str(blocker / "models"),
    )
    convert_error(done, "cannot write to")
    assert blocker.read_text() == "not a directory"


def test_corrupt_onnx_handed_to_verify(convert, convert_error, model_dir, tmp_path):
    variant_dir = tmp_path / "lite"
    variant_dir.mkdir()
    (variant_dir / "detector.onnx").write_bytes(b"\x00corrupt onnx\xff" * 10)
    (variant_dir / "landmarker.onnx").write_bytes(
        (model_dir / "lite" / "landmarker.onnx").read_bytes()
    )
    done = convert(
        "verify",
        "lite",
        "--model-dir",
        str(tmp_path),
        "--bundle",
        str(model_dir / "pose_landmarker_lite.task"),
    )
    convert_error(done, "detector.onnx: not a valid ONNX model")


@pytest.mark.tf2onnx
def test_tf2onnx_backend_from_cli_converts_quietly_and_verifies(convert, model_dir, tmp_path):
    """TensorFlow's and tf2onnx's noise stays off the terminal (stderr empty)."""
    pytest.importorskip("tf2onnx")
    done = convert(
        "convert",
        str(model_dir / "pose_landmarker_lite.task"),
        "--backend",
        "tf2onnx",
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    verified = convert(
        "verify",
        "lite",
        "--model-dir",
        str(tmp_path),
        "--bundle",
        str(model_dir / "pose_landmarker_lite.task"),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.slow
def test_blazepose_convert_fetches_converts_and_verifies_ssd(convert, convert_error, ssd_model):
    verified = convert("verify", "ssd")
    assert verified.returncode == 0, verified.stderr
    assert "| person_detector | boxes |" in verified.stdout and "| NO |" not in verified.stdout
    fetched = convert("fetch", "ssd")
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout == f"ssd: {ssd_model.with_suffix('.tflite')}\n"
    convert_error(convert("convert", "ssd", "--precision", "fp16"), "fp32 weights only")


@pytest.mark.slow
def test_verify_after_fetch_converts_first_and_says_its_inputs(convert, model_dir, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(model_dir / "pose_landmarker_lite.task", models)
    done = convert("verify", "lite", "--model-dir", str(models))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("inputs: centre crops of 4 images in ")
    assert "plus 2 random" in done.stdout and (models / "lite" / "landmarker.onnx").is_file()
