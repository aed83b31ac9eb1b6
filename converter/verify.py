"""Numerical parity of converted ONNX models against the original TFLite models.

ONNX Runtime (CPU) runs each converted model on a batch of real image crops and random inputs;
the TFLite interpreter (ai-edge-litert, builtin kernels, no XNNPACK delegate) runs the original
on the same inputs one at a time. Differences per output are compared to fixed tolerances.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

from blazepose_onnx.common.install import require
from blazepose_onnx.common.media import IMAGE_SUFFIXES
from blazepose_onnx.converter.backends import quiet_tensorflow
from blazepose_onnx.converter.bundle import Bundle
from blazepose_onnx.converter.errors import ModelFormatError, ModelNotFoundError
from blazepose_onnx.converter.interface import INPUT_NAME, INPUT_RANGE, INPUT_SIZE, OUTPUTS

# The most that fp16 compute (`--precision fp16`) may drift from fp32, max abs per output in its
# units, on any provider. Measured with ONNX Runtime's CPU fp16 kernels on these inputs:
# landmarks 0.12 px, boxes 0.25 px, world landmarks 0.24 mm.
FP16_DRIFT = {"landmarks": 0.3, "boxes": 0.5, "world_landmarks": 1e-3, "pose_flag": 1e-3}
RANDOM_INPUTS = 2

# Max abs difference allowed per output (units of the output, see converter/interface.py).
# Landmarks and segmentation are looser than the rest because TFLite disagrees with itself
# there: its XNNPACK and builtin kernels differ by up to 6.9e-3 px (heavy landmarks) and 4.0e-3
# (lite segmentation after sigmoid) on these inputs; `reference_noise` reports that floor.
TOLERANCES = {
    "boxes": 2e-3,  # 224-px units
    "scores": 2e-3,  # logits
    "landmarks": 1e-2,  # 256-px units
    "pose_flag": 1e-4,  # probability
    "segmentation": 5e-3,  # after sigmoid
    "heatmap": 5e-3,  # logits
    "world_landmarks": 1e-4,  # metres
}


@dataclass(frozen=True)
class OutputDiff:
    """Max and mean absolute difference of one output against its tolerance.

    `reference_noise` is the max difference between TFLite's own two CPU kernel sets
    (XNNPACK vs builtin) on the same inputs: the float32 noise floor of the reference.
    """

    role: str
    output: str
    max_abs: float
    mean_abs: float
    tolerance: float
    reference_noise: float

    @property
    def ok(self) -> bool:
        return bool(self.max_abs <= self.tolerance)


def _interpreter(data: bytes, builtin_kernels: bool = True):
    """A TFLite interpreter: builtin reference kernels, or the default XNNPACK delegate."""
    require("ai_edge_litert", "verify", "verification")
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = (
        OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin_kernels else OpResolverType.AUTO
    )
    with quiet_tensorflow():  # XNNPACK announces itself on stderr
        interpreter = Interpreter(model_content=data, experimental_op_resolver_type=resolver)
        interpreter.allocate_tensors()
    return interpreter


def run_tflite(
    role: str, data: bytes, inputs: np.ndarray, builtin_kernels: bool = True
) -> dict[str, np.ndarray]:
    """TFLite outputs for each NHWC input, stacked and keyed by interface output name."""
    interpreter = _interpreter(data, builtin_kernels)
    input_index = interpreter.get_input_details()[0]["index"]
    details = interpreter.get_output_details()
    outputs: dict[str, list[np.ndarray]] = {}
    for sample in inputs:
        interpreter.set_tensor(input_index, sample[None])
        interpreter.invoke()
        for detail in details:
            name = OUTPUTS[role][detail["name"]][0]
            outputs.setdefault(name, []).append(interpreter.get_tensor(detail["index"])[0])
    return {name: np.stack(values) for name, values in outputs.items()}


def load_onnx_session(path: str | os.PathLike) -> ort.InferenceSession:
    """A CPU session for a converted model; corrupt or missing files raise clear errors."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(
            f"ONNX model not found: {path} (run `blazepose-convert convert` first)"
        )
    try:
        onnx.checker.check_model(str(path))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnx and onnxruntime raise many types on corrupt files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFormatError(f"{path}: not a valid ONNX model ({first_line})") from exc


def image_crops(folder: str | os.PathLike, size: int) -> np.ndarray:
    """Centre square crops of every image in `folder`, resized to size x size, RGB uint8."""
    crops = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        height, width = image.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = image[top : top + side, left : left + side]
        crops.append(
            cv2.cvtColor(
                cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB
            )
        )
    return np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)


def model_inputs(role: str, image_dir: str | os.PathLike | None, seed: int = 0) -> np.ndarray:
    """NHWC float32 inputs in the model's range: real crops, then uniform random images."""
    size = INPUT_SIZE[role]
    low, high = INPUT_RANGE[role]
    crops = image_crops(image_dir, size) if image_dir else np.zeros((0, size, size, 3), np.uint8)
    real = crops.astype(np.float32) / 255.0 * (high - low) + low
    noise = np.random.default_rng(seed).uniform(low, high, (RANDOM_INPUTS, size, size, 3))
    return np.concatenate([real, noise.astype(np.float32)])


def fp16_drift(
    role: str,
    fp16_path: str | os.PathLike,
    fp32_path: str | os.PathLike,
    image_dir: str | os.PathLike | None,
    open_session: Callable[[str | os.PathLike], ort.InferenceSession] | None = None,
) -> dict[str, float]:
    """Max abs difference per output of an fp16-compute model against its fp32 model on the same
    inputs (real crops from `image_dir`, random images); `open_session` makes the sessions
    (default: ONNX Runtime's CPU provider)."""
    x = np.ascontiguousarray(model_inputs(role, image_dir).transpose(0, 3, 1, 2))
    open_session = open_session or load_onnx_session
    full, half = open_session(fp32_path), open_session(fp16_path)
    names = [o.name for o in full.get_outputs()]
    pairs = zip(
        names, full.run(names, {INPUT_NAME: x}), half.run(names, {INPUT_NAME: x}), strict=True
    )
    return {name: float(np.abs(a - b).max()) for name, a, b in pairs}


def compare_model(
    role: str, tflite_model: bytes, onnx_path: str | os.PathLike, inputs: np.ndarray
) -> list[OutputDiff]:
    """Run both models on `inputs` (NHWC) and return the per-output differences."""
    session = load_onnx_session(onnx_path)
    ours = session.run(None, {INPUT_NAME: np.ascontiguousarray(inputs.transpose(0, 3, 1, 2))})
    ours_by_name = {out.name: value for out, value in zip(session.get_outputs(), ours, strict=True)}
    reference = run_tflite(role, tflite_model, inputs)
    xnnpack = run_tflite(role, tflite_model, inputs, builtin_kernels=False)
    diffs = []
    for name, expected in reference.items():
        actual, other = ours_by_name[name], xnnpack[name]
        if actual.ndim == 4:  # ONNX is NCHW, TFLite NHWC
            actual = actual.transpose(0, 2, 3, 1)
        if name == "segmentation":
            expected, actual, other = _sigmoid(expected), _sigmoid(actual), _sigmoid(other)
        delta = np.abs(actual.astype(np.float64) - expected)
        noise = float(np.abs(other.astype(np.float64) - expected).max())
        diffs.append(
            OutputDiff(role, name, float(delta.max()), float(delta.mean()), TOLERANCES[name], noise)
        )
    return diffs


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x.astype(np.float64), -100, 100)))


def verify_models(
    bundle: Bundle, onnx_paths: dict[str, Path], image_dir: str | os.PathLike | None
) -> list[OutputDiff]:
    """Compare both converted models of a bundle with their TFLite originals.

    Args:
        bundle: the `.task` bundle the models were converted from.
        onnx_paths: the converted models by role ('detector', 'landmarker').
        image_dir: photos whose crops are compared on, besides random images (None: random
            images only).

    Returns:
        Per model and output, the largest difference and whether it is within tolerance.

    Raises:
        MissingExtraError: ai-edge-litert (the [verify] extra) is not installed.
        ModelNotFoundError: a converted model does not exist.
        ModelFormatError: a model is not what it claims to be. Each is a BlazePoseError.
    """
    diffs = []
    for role, path in onnx_paths.items():
        inputs = model_inputs(role, image_dir)
        diffs.extend(compare_model(role, bundle.model(role), path, inputs))
    return diffs


def format_table(diffs: list[OutputDiff]) -> str:
    """A Markdown table of the differences."""
    rows = [
        "| model | output | max abs diff | mean abs diff | tolerance | TFLite noise | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in diffs:
        rows.append(
            f"| {d.role} | {d.output} | {d.max_abs:.2e} | {d.mean_abs:.2e} | "
            f"{d.tolerance:.0e} | {d.reference_noise:.2e} | {'yes' if d.ok else 'NO'} |"
        )
    return "\n".join(rows)
