"""`blazepose bench` through the real command (the engine: tests/runtime/bench/, the pages:
tests/runtime/report/): '-' is stdout, argument errors, a provider refused before the first case,
and the finished cases kept when a later one fails."""

from __future__ import annotations

import json
import shutil

import pytest

from blazepose_onnx.common.install import install_command

QUICK_BENCH = ("bench", "--providers", "cpu", "--model", "lite", "--modes", "image",
               "--iterations", "2", "--warmup", "0")  # fmt: skip


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


@pytest.mark.slow
def test_bench_keeps_the_finished_cases_when_a_later_one_fails(broken_heavy_bench, tmp_path):
    out = tmp_path / "b.json"
    done = broken_heavy_bench("--json", str(out))
    assert f"bench: wrote the 1 finished case to {out}" in done.stderr
    assert [r["variant"] for r in json.loads(out.read_text())["results"]] == ["lite"]


@pytest.mark.slow
def test_bench_claims_no_written_cases_without_output_files(broken_heavy_bench):
    assert "finished case" not in broken_heavy_bench().stderr


def test_dash_is_stdout_for_bench_outputs_too(cli, cli_env, tmp_path):
    """`bench --json -` and `--markdown -` wrote files named '-'."""
    done = cli(*QUICK_BENCH, "--json", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [r["variant"] for r in document["results"]] == ["lite"]
    assert "| blazepose-onnx | cpu | lite | image | 1 |" in done.stderr  # the table, for people
    table = cli(*QUICK_BENCH, "--markdown", "-", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("| blazepose-onnx | cpu | lite | image | 1 |") == 1
    assert list(tmp_path.iterdir()) == []
