"""The models handed to each provider and how they are run: CoreML's fixed-shape exports (ONNX
Runtime's own checker), batches split for fixed-size models and TensorRT profiles, and IO
binding, whose code runs here on the CPU device."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from blazepose_onnx import MultiStreamPoseLandmarker, PoseLandmarker, PoseLandmarkerOptions
from blazepose_onnx.backend.model_session import ModelSession
from blazepose_onnx.backend.provider_models import provider_models
from blazepose_onnx.backend.providers import create_session, split_options, tensorrt_profile
from blazepose_onnx.pipeline import pose_pipeline
from blazepose_onnx.pipeline.detector import detector_input, letterboxed
from blazepose_onnx.pipeline.landmarker import crop_inputs
from blazepose_onnx.pipeline.person_ssd import SsdPersonDetector

CHECKER = "onnxruntime.tools.check_onnx_model_mobile_usability"
ML_PROGRAM = re.compile(
    r"Checking CoreML MLProgram\n.*?(\d+) partitions with a total of (\d+)/(\d+) nodes", re.S
)


def ml_program_partitions(path) -> tuple[int, int, int]:
    """(partitions, nodes CoreML's ML Program takes, all nodes) as ONNX Runtime's checker
    reports them for the model at `path`."""
    done = subprocess.run(
        [sys.executable, "-m", CHECKER, str(path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    found = ML_PROGRAM.search(done.stdout + done.stderr)
    assert done.returncode == 0 and found, done.stdout + done.stderr
    return tuple(int(v) for v in found.groups())


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["lite", "full", "heavy"])
def test_coreml_exports_are_one_ml_program_partition(cli, tmp_path, variant):
    """`blazepose-convert export VARIANT --for coreml` writes models that ONNX Runtime's checker
    puts whole into one ML Program partition (with and without the segmentation output)."""
    for masks in ([], ["--masks"]):
        out = tmp_path / ("masks" if masks else "plain")
        done = cli("export", variant, "--for", "coreml", "--out", str(out), *masks,
                   script="blazepose-convert")  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            f"detector: {out / 'detector.onnx'}",
            f"landmarker: {out / 'landmarker.onnx'}",
        ]
        shared = variant == "lite" and not masks  # the three bundles share one detector
        for role in ("detector", "landmarker") if shared else ("landmarker",):
            partitions, taken, total = ml_program_partitions(out / f"{role}.onnx")
            assert (partitions, taken) == (1, total) and total > 100, (role, masks)


def test_the_person_detectors_coreml_export_is_one_ml_program_partition(cli, ssd_model, tmp_path):
    """`--person-detector ssd` adds the built-in person detector as CoreML gets it (batch 1,
    float32 pixels), which the checker puts whole into one ML Program partition."""
    out = tmp_path / "models"
    done = cli("export", "lite", "--for", "coreml", "--out", str(out), "--person-detector", "ssd",
               script="blazepose-convert")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{role}: {out / role}.onnx" for role in ("detector", "landmarker", "person_detector")
    ]
    partitions, taken, total = ml_program_partitions(out / "person_detector.onnx")
    assert (partitions, taken) == (1, total) and total > 150


@pytest.mark.slow
@pytest.mark.parametrize("role", ["landmarker", "person_detector"])
def test_the_dynamic_models_are_not_coreml_ready(ssd_model, tmp_path, role):
    """What the CoreML edits fix: the models every other provider gets (any batch) leave ML
    Program no node, by the same checker."""
    path = tmp_path / f"{role}.onnx"
    path.write_bytes(provider_models("lite", "cpu", person_detector="ssd")[role])
    partitions, taken, total = ml_program_partitions(path)
    assert (partitions, taken) == (0, 0) and total > 100


def _inputs(images) -> dict[str, np.ndarray]:
    """A real detector input and real landmarker crops for the full models: the ROIs found on
    messi5 and bus, and each turned by 0.4 rad (4 crops of people)."""
    names = ("messi5", "bus")
    options = PoseLandmarkerOptions(model="full", num_poses=4)
    with PoseLandmarker.create_from_options(options) as landmarker:
        rois = [landmarker.pipeline.detect_rois(images[name]) for name in names]
    turned = [r + np.array([0, 0, 0, 0, 0.4]) for r in rois]
    crops = [crop_inputs(images[k], r) for k, r in zip(names * 2, rois + turned, strict=True)]
    return {"detector": detector_input(images["messi5"])[0], "landmarker": np.concatenate(crops)}


@pytest.mark.parametrize("variant", ["lite", "full", pytest.param("heavy", marks=pytest.mark.slow)])
def test_coreml_models_compute_what_the_runtime_models_compute(model_dir, images, variant):
    """CoreML's edits (batch 1, float32 pixels in: its ML Program casts no uint8, zero Pads
    folded into Convs or made Concats) keep the models' results: run item by item on the CPU
    against the models every other provider gets."""
    inputs = _inputs(images)
    fixed = provider_models(variant, "coreml", masks=True)
    dynamic = provider_models(variant, "cpu", masks=True)
    for role, tensor in inputs.items():
        a = ort.InferenceSession(dynamic[role], providers=["CPUExecutionProvider"])
        b = ort.InferenceSession(fixed[role], providers=["CPUExecutionProvider"])
        name = a.get_inputs()[0].name
        assert a.get_inputs()[0].shape[0] == "batch" and a.get_inputs()[0].type == "tensor(uint8)"
        assert b.get_inputs()[0].shape[0] == 1 and b.get_inputs()[0].type == "tensor(float)"
        assert "Cast" not in {n.op_type for n in onnx.load_from_string(fixed[role]).graph.node}
        for item in tensor:
            expected = a.run(None, {name: item[None]})
            got = b.run(None, {name: item[None].astype(np.float32)})
            for output, want, value in zip(a.get_outputs(), expected, got, strict=True):
                scale = max(1.0, float(np.abs(want).max()))
                assert np.abs(value - want).max() <= 2e-6 * scale, (role, output.name)


def test_the_coreml_person_detector_finds_what_the_runtime_one_finds(ssd_model, images):
    """The SSD as CoreML gets it (batch 1 even with a larger `batch_size`: it runs one image at
    a time; float32 pixels in) computes exactly what the model every other provider gets
    computes, on the CPU: the same encodings and logits (the host's uint8 -> float32 cast
    is the graph's), the same people."""
    coreml = provider_models("lite", ("coreml", {"batch_size": 3}), person_detector="ssd")
    fixed = create_session(coreml["person_detector"], ["cpu"])
    dynamic = create_session(
        provider_models("lite", "cpu", person_detector="ssd")["person_detector"], ["cpu"]
    )
    assert fixed.get_inputs()[0].shape == [1, 300, 300, 3] and fixed.fixed_batch == 1
    assert fixed.get_inputs()[0].type == "tensor(float)"
    assert dynamic.get_inputs()[0].shape[0] == "batch"
    assert "Cast" not in {
        n.op_type for n in onnx.load_from_string(coreml["person_detector"]).graph.node
    }
    people = 0
    for image in images.values():
        tensor, _ = letterboxed(image, 300)
        want = dynamic.run(["boxes", "scores"], {"image": tensor})
        got = fixed.run(["boxes", "scores"], {"image": tensor})
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(b, a)
        found = [SsdPersonDetector(s)(image) for s in (fixed, dynamic)]
        np.testing.assert_array_equal(*(boxes for boxes, _ in found))
        people += len(found[0][0])
    assert people >= 8  # 9 measured: bus 4, zidane 2, astronaut 2, messi5 1


def test_a_coreml_landmarker_builds_every_session_from_the_coreml_export(
    monkeypatch, ssd_model, images
):
    """`providers=["coreml"]` with `person_detector="ssd"`: each of the three sessions is built
    from exactly the model `export --for coreml --person-detector ssd` writes. No Mac here: the
    sessions run those models on the CPU provider, and find bus.jpg's people as the CPU
    models do (measured: identical landmarks)."""
    handed = {}

    def on_cpu(model, providers, *args, name=None, **kwargs):
        handed[name] = model
        return create_session(model, ["cpu"], *args, name=name, **kwargs)

    results = []
    for providers in (["cpu"], ["coreml"]):
        options = PoseLandmarkerOptions(model="lite", person_detector="ssd", providers=providers)
        with PoseLandmarker.create_from_options(options) as landmarker:
            results.append(landmarker.detect(images["bus"]).as_arrays())
        monkeypatch.setattr(pose_pipeline, "create_session", on_cpu)
    exported = provider_models("lite", "coreml", person_detector="ssd")
    assert set(handed) == set(exported) == {"detector", "landmarker", "person_detector"}
    assert [role for role in exported if handed[role] != exported[role]] == []
    (want, want_world), (got, got_world) = results
    assert len(got) == len(want) >= 2  # 3 measured (2 with OpenCV 4.8's resize)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(got_world, want_world, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_fixed_batch_model_takes_any_batch(model_dir, images, batch_size):
    """A fixed-batch model (CoreML's `batch_size`: 1 by default) runs a batch of 4 crops in
    runs of that size, the last filled up, with the results a dynamic model gives."""
    crops = _inputs(images)["landmarker"]
    assert len(crops) == 4
    coreml = ("coreml", {"batch_size": batch_size})
    fixed = create_session(provider_models("full", coreml)["landmarker"], ["cpu"])
    dynamic = create_session(provider_models("full", "cpu")["landmarker"], ["cpu"])
    assert fixed.fixed_batch == batch_size and dynamic.fixed_batch is None
    names = ["landmarks", "pose_flag", "world_landmarks"]
    runs = (fixed.run(names, {"image": crops}), dynamic.run(names, {"image": crops}))
    for got, want in zip(*runs, strict=True):
        assert got.shape == want.shape and got.shape[0] == len(crops)
        np.testing.assert_allclose(got, want, atol=2e-4 * max(1.0, float(np.abs(want).max())))


def test_runs_beyond_the_largest_batch_are_split(model_dir, images):
    """TensorRT's profile caps the batch (`max_batch`); larger runs go in chunks, same results."""
    crops = _inputs(images)["landmarker"]
    session = create_session(provider_models("full", "cpu")["landmarker"], ["cpu"])
    capped = ModelSession(session.session, session.placement, max_batch=2)
    whole = session.run(None, {"image": crops})
    for got, want in zip(capped.run(None, {"image": crops}), whole, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_io_binding_gives_the_same_results(model_dir, images, clips):
    """IO binding (CUDA and TensorRT's default), run on the CPU device: detect_batch and
    multi-stream steps give exactly the results of plain runs."""
    frames = clips["dance.mp4"][:20]
    results = {}
    for io_binding in (False, True):
        providers = [("cpu", {"io_binding": io_binding})]
        options = PoseLandmarkerOptions(model="full", num_poses=4, providers=providers)
        with PoseLandmarker.create_from_options(options) as landmarker:
            assert landmarker.pipeline.landmarker.io_binding is io_binding
            batch = landmarker.detect_batch([images[k] for k in ("messi5", "bus", "zidane")])
        with MultiStreamPoseLandmarker(options) as streams:
            streams.open_stream("a")
            streams.open_stream("b")
            steps = [
                streams.process({"a": (f, i * 33), "b": (frames[-1 - i], i * 33)})
                for i, f in enumerate(frames)
            ]
        results[io_binding] = [r.as_arrays() for r in batch] + [
            r.as_arrays() for step in steps for r in step.values()
        ]
    assert sum(len(lm) for lm, _ in results[True]) >= 20
    for (lm_a, w_a), (lm_b, w_b) in zip(results[False], results[True], strict=True):
        np.testing.assert_array_equal(lm_a, lm_b)
        np.testing.assert_array_equal(w_a, w_b)


@pytest.mark.slow
def test_export_refuses_to_replace_a_converted_model(cli, model_dir, tmp_path, one_line_error):
    """Exports replace only earlier exports; a converted model in --out is left as it was, and
    an export given back to blazepose-onnx as a model folder is refused by name."""
    out = tmp_path / "models"
    out.mkdir()
    converted = (model_dir / "lite" / "detector.onnx").read_bytes()
    (out / "detector.onnx").write_bytes(converted)
    done = cli("export", "lite", "--for", "cpu", "--out", str(out), script="blazepose-convert")
    one_line_error(
        done, "is not a model written by blazepose-convert export", prog="blazepose-convert"
    )
    assert (out / "detector.onnx").read_bytes() == converted
    assert not (out / "landmarker.onnx").exists()
    (out / "detector.onnx").unlink()
    for _ in range(2):  # the second export replaces the first
        done = cli("export", "lite", "--for", "cpu", "--out", str(out), script="blazepose-convert")
        assert done.returncode == 0, done.stderr
    with pytest.raises(ValueError, match="is a model as a session gets it"):
        PoseLandmarker.create_from_options(PoseLandmarkerOptions(model=str(out)))


def test_tensorrt_profile_covers_every_batch_up_to_its_maximum(model_dir):
    """TensorRT's optimisation profile for each model it is handed: batches 1 to max_batch of the
    real input shapes, tuned for opt_batch; a model with fixed inputs gets none."""
    for role, size in (("detector", 224), ("landmarker", 256)):
        model = provider_models("full", "tensorrt")[role]
        assert tensorrt_profile(model, {"opt_batch": 4, "max_batch": 64}) == {
            "trt_profile_min_shapes": f"image:1x{size}x{size}x3",
            "trt_profile_opt_shapes": f"image:4x{size}x{size}x3",
            "trt_profile_max_shapes": f"image:64x{size}x{size}x3",
        }
    fixed = provider_models("full", "coreml")["landmarker"]
    assert tensorrt_profile(fixed, {"opt_batch": 1, "max_batch": 64}) == {}
    assert split_options("tensorrt", {"max_batch": 16})[1] == {
        "io_binding": True,  # TensorRT and CUDA run with IO binding by default
        "max_batch": 16,
        "opt_batch": 1,
    }
