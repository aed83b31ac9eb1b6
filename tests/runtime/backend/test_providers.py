"""Execution providers: names, options, availability, and no silent fallback."""

from __future__ import annotations

import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, ProviderError
from blazepose_onnx.backend.placement import RECORDS_ASSIGNMENT
from blazepose_onnx.backend.provider_check import bf16_problem
from blazepose_onnx.backend.providers import (
    PROVIDERS,
    available_providers,
    create_session,
    ort_options,
    resolve_providers,
    unavailable_reason,
)
from blazepose_onnx.errors import InvalidValueError


def test_the_test_provider_really_runs_the_models(landmarker_factory, test_providers, images):
    landmarker = landmarker_factory("lite")
    expected = PROVIDERS[test_providers[0]].ort_name
    assert landmarker.pipeline.detector.get_providers()[0] == expected
    assert landmarker.pipeline.landmarker.get_providers()[0] == expected
    assert len(landmarker.detect(images["messi5"]).pose_landmarks) == 1


def test_auto_picks_the_first_available_in_order():
    (auto,) = resolve_providers(["auto"])
    assert auto.name == next(
        p for p in ("tensorrt", "cuda", "coreml", "directml", "cpu") if p in available_providers()
    )
    assert auto.ort_name == PROVIDERS[auto.name].ort_name


# Each model's nodes in ONNX Runtime's assignment record (onnxruntime >= 1.24); older runtimes
# count the profiled run's nodes, after graph optimisation: fewer, and not fixed here.
NODES = {"detector": 154, "landmarker": 165, "person_detector": 156}


def check_placement_table(stdout: str, heading: str, roles: list[str]) -> None:
    """The lines after `heading`: each available provider in turn, running all the nodes of
    each role (the counts above where the assignment record gives them)."""
    cells = [
        re.escape(f"{role} {NODES[role]}/{NODES[role]} nodes")
        if RECORDS_ASSIGNMENT
        else rf"{role} (\d+)/\{k + 1} nodes"
        for k, role in enumerate(roles)
    ]
    lines = stdout.splitlines()
    table = lines[lines.index(heading) + 1 :]
    assert len(table) == len(available_providers()), stdout
    for name, line in zip(available_providers(), table, strict=True):
        assert re.fullmatch(re.escape(f"  {name:<9} ") + ", ".join(cells), line), line


def test_providers_command_prints_each_models_placement(cli, ssd_model):
    """`blazepose providers --model lite`: per available provider, the nodes of each model it
    runs (CI: cpu, and openvino in its OpenVINO environment); `--person-detector ssd` adds its
    session's."""
    done = cli("providers", "--model", "lite")
    assert done.returncode == 0, done.stderr
    heading = "lite (fp32), nodes each provider runs:"
    check_placement_table(done.stdout, heading, ["detector", "landmarker"])
    done = cli("providers", "--model", "lite", "--person-detector", "ssd")
    assert done.returncode == 0, done.stderr
    heading = "lite (fp32) with person detector ssd, nodes each provider runs:"
    check_placement_table(done.stdout, heading, ["detector", "landmarker", "person_detector"])


def test_unknown_provider():
    with pytest.raises(
        ProviderError, match=r"unknown execution provider 'gpu': expected one of cpu"
    ):
        resolve_providers(["gpu"])


def test_unavailable_provider_names_the_extra_and_what_is_installed():
    missing = next(p for p in ("cuda", "directml", "coreml") if p not in available_providers())
    with pytest.raises(ProviderError) as caught:
        resolve_providers([missing])
    message = str(caught.value)
    assert f"{missing!r} is not available" in message and "available: " in message
    assert unavailable_reason(missing) in message


def test_invalid_provider_option():
    with pytest.raises(ProviderError, match=r"invalid option\(s\) gpu_id for provider 'cpu'"):
        resolve_providers([("cpu", {"gpu_id": 1})])
    with pytest.raises(ProviderError, match="must be a mapping"):
        resolve_providers([("cpu", 3)])


def test_friendly_options_are_translated():
    assert ort_options("tensorrt", {"fp16": True, "engine_cache_dir": "trt", "device_id": 1}) == {
        "trt_fp16_enable": "true",
        "trt_engine_cache_path": "trt",
        "trt_engine_cache_enable": "true",
        "trt_timing_cache_enable": "true",
        "trt_timing_cache_path": "trt",
        "device_id": "1",
    }
    assert ort_options("openvino", {"device": "CPU", "threads": 2}) == {
        "device_type": "CPU",
        "num_of_threads": "2",
    }
    assert ort_options("coreml", {"compute_units": "CPUAndGPU"}) == {
        "MLComputeUnits": "CPUAndGPU",
        "ModelFormat": "MLProgram",  # the default: ML Program, not the older NeuralNetwork
        "RequireStaticInputShapes": "1",
    }
    assert ort_options("cuda", {}) == {"cudnn_conv_algo_search": "HEURISTIC"}
    assert ort_options("cuda", {"cudnn_conv_algo_search": "EXHAUSTIVE"}) == {
        "cudnn_conv_algo_search": "EXHAUSTIVE"
    }


@pytest.mark.parametrize(
    ("provider", "options", "message"),
    [
        ("coreml", {"compute_units": "GPU"}, "compute_units of provider 'coreml' must be one of"),
        ("coreml", {"model_format": "mlprogram"}, "model_format of provider 'coreml' must be one"),
        ("coreml", {"batch_size": 0}, "batch_size of provider 'coreml' must be an int >= 1, got 0"),
        ("cuda", {"cudnn_conv_algo_search": "FAST"}, "must be one of EXHAUSTIVE, HEURISTIC"),
        ("cuda", {"io_binding": "yes"}, "io_binding of provider 'cuda' must be True or False"),
        ("tensorrt", {"max_batch": 2.5}, "max_batch of provider 'tensorrt' must be an int >= 1"),
        ("tensorrt", {"opt_batch": 8, "max_batch": 4}, "opt_batch of provider 'tensorrt' (8) exce"),
    ],
)
def test_bad_option_values_are_named(provider, options, message):
    with pytest.raises(ProviderError, match=re.escape(message)):
        ort_options(provider, options)


def test_provider_that_loads_but_cannot_run_the_model(tmp_path, test_providers):
    """A valid model whose Reshape cannot work: the error names the provider (CPU fails at the
    warm-up run, OpenVINO already when it compiles the model)."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["image", "shape"], ["out"])],
        "bad",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        [onnx.numpy_helper.from_array(np.array([3], np.int64), "shape")],
    )
    path = tmp_path / "bad.onnx"
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path
    )
    with pytest.raises(
        ProviderError,
        match=f"provider '{test_providers[0]}' (could not load|loaded .* but cannot run it)",
    ):
        create_session(path, test_providers)


def test_options_reach_the_landmarker(model_dir):
    with pytest.raises(ProviderError, match="invalid option"):
        PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(model="lite", providers=[("cpu", {"device_id": 0})])
        )


@pytest.mark.slow
def test_bench_across_every_available_provider(cli_env, tmp_path):
    """`blazepose bench --providers ...` with every provider this environment has (cpu, and
    openvino in CI's OpenVINO environment)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    providers = ",".join(available_providers())
    with_bf16 = "openvino" in available_providers() and bf16_problem() is None
    precisions = "fp32,bf16" if with_bf16 else "fp32"
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("blazepose")),
            "bench",
            "--providers",
            providers,
            "--precision",
            precisions,
            "--variants",
            "lite",
            "--modes",
            "image,video,video-parallel",
            "--batch",
            "1,2",
            "--streams",
            "2",
            "--iterations",
            "3",
            "--warmup",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "| blazepose-onnx | " in done.stdout and "frames/s" in done.stdout
    data = json.loads(out.read_text())
    results = data["results"]
    assert {r["provider"] for r in results} == set(available_providers())
    expected = {(p, "fp32") for p in available_providers()} | (
        {("openvino", "bf16")} if with_bf16 else set()
    )
    assert {(r["provider"], r["precision"]) for r in results} == expected
    assert {(r["mode"], r["batch"]) for r in results} == {
        ("image", 1),
        ("image", 2),
        ("video", 2),
        ("video-parallel", 2),
    }
    first = results[0]
    assert set(first["percentiles_ms"]) == {"total", "detector", "landmarker", "other"}
    assert first["percentiles_ms"]["total"]["p50"] > 0 and first["frames_per_second"] > 0
    assert data["machine"]["logical_cores"]


@pytest.mark.skipif(
    "openvino" not in available_providers(),
    reason="needs onnxruntime-openvino: runs in CI's OpenVINO environment",
)
def test_num_threads_reaches_openvino_too():
    """OpenVINO keeps its own thread pool; num_threads must reach it as num_of_threads."""
    (openvino,) = resolve_providers(["openvino"], num_threads=1)
    assert openvino.ort_options == {"num_of_threads": "1"}
    (openvino,) = resolve_providers([("openvino", {"threads": 2})], num_threads=1)
    assert openvino.ort_options == {"num_of_threads": "2"}  # an explicit option wins


def test_bf16_is_opt_in_and_only_on_openvino():
    """precision='bf16' is never a default and names what it needs when it cannot run."""
    assert PoseLandmarkerOptions().precision == "fp32"
    with pytest.raises(ValueError, match=r"bf16.*providers=\['openvino'\]"):
        PoseLandmarkerOptions(precision="bf16").validated()
    assert PoseLandmarkerOptions(precision="bf16", providers=[("OpenVINO", {})]).validated()
    with pytest.raises(ValueError, match="precision must be 'fp32', 'fp16' or 'bf16'"):
        PoseLandmarkerOptions(precision="int8").validated()


def test_bench_bf16_needs_openvino(cli_env):
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).with_name("blazepose")), "bench", "--providers", "cpu"]
    done = subprocess.run(
        [*command, "--precision", "bf16"], capture_output=True, text=True, env=cli_env
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "--precision bf16 runs on OpenVINO: add openvino to --providers" in done.stderr
    done = subprocess.run(
        [*command, "--precision", "int4"], capture_output=True, text=True, env=cli_env
    )
    assert done.returncode == 2 and "argument --precision: unknown precision 'int4'" in done.stderr


def test_bf16_support_is_read_from_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_vnni\n")
    assert "no native bfloat16" in bf16_problem(str(cpuinfo))
    for flag in ("avx512_bf16", "amx_bf16"):
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: fpu avx512f {flag} avx512_vnni\n")
        assert bf16_problem(str(cpuinfo)) is None
    assert bf16_problem(str(tmp_path / "absent")) is None  # not Linux: OpenVINO decides


@pytest.mark.skipif(
    "openvino" not in available_providers(),
    reason="needs onnxruntime-openvino: runs in CI's OpenVINO environment",
)
def test_bf16_runs_in_bfloat16_on_openvino(images):
    """bf16 really changes the arithmetic (results differ from fp32 on the same provider),
    finds the same people, and stays within the drift the README reports."""
    with pytest.raises(ProviderError, match="runs on OpenVINO's CPU device, not 'GPU'"):
        resolve_providers([("openvino", {"device": "GPU"})], precision="bf16")
    options = {"model": "full", "providers": ["openvino"], "num_poses": 4}
    if bf16_problem() is not None:
        with pytest.raises(ProviderError, match="needs native bfloat16"):
            PoseLandmarker.create_from_options(PoseLandmarkerOptions(precision="bf16", **options))
        return
    results = {}
    for precision in ("fp32", "bf16"):
        with PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(precision=precision, **options)
        ) as landmarker:
            results[precision] = landmarker.detect(images["bus"]).as_arrays()
    (fp32, fp32_world), (bf16, bf16_world) = results["fp32"], results["bf16"]
    assert len(bf16) == len(fp32) >= 1
    drift = np.abs(bf16[..., :2] - fp32[..., :2])
    assert 1e-4 < drift.mean() < 0.01 and drift.max() < 0.06
    assert np.abs(bf16_world - fp32_world).mean() < 0.1  # metres


def test_blazepose_num_threads_sets_each_models_threads_where_none_are_asked_for(
    monkeypatch, cli, cli_env, one_line_error, data_dir
):
    """BLAZEPOSE_NUM_THREADS (CI's later lane sets 1 beside the tests lane) is the threads of every
    model whose num_threads is unset; a given num_threads wins; anything but an integer >= 1 is
    one error naming the variable."""

    def threads(**options) -> dict[str, int]:
        with PoseLandmarker.create_from_options(
            PoseLandmarkerOptions(model="lite", **options)
        ) as landmarker:
            pipeline = landmarker.pipeline
            return {
                role: session.session.get_session_options().intra_op_num_threads
                for role, session in (
                    ("detector", pipeline.detector),
                    ("landmarker", pipeline.landmarker),
                )
            }

    monkeypatch.delenv("BLAZEPOSE_NUM_THREADS", raising=False)
    assert threads() == {"detector": 0, "landmarker": 0}  # ONNX Runtime's default: one per core
    monkeypatch.setenv("BLAZEPOSE_NUM_THREADS", "1")
    assert threads() == {"detector": 1, "landmarker": 1}
    assert threads(num_threads=2) == {"detector": 2, "landmarker": 2}
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("BLAZEPOSE_NUM_THREADS", bad)
        with pytest.raises(
            InvalidValueError, match=f"BLAZEPOSE_NUM_THREADS must be an integer >= 1, got '{bad}'"
        ):
            threads()
    done = cli(
        "detect", str(data_dir / "messi5.jpg"), env={**cli_env, "BLAZEPOSE_NUM_THREADS": "two"}
    )
    one_line_error(done, "BLAZEPOSE_NUM_THREADS must be an integer >= 1, got 'two'")
