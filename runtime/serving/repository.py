"""A self-contained Triton model repository: `pose_image` (IMAGE mode, dynamic batching of
ragged images into `detect_batch`) and `pose_video` (stateful streams through Triton's sequence
batcher into `MultiStreamPoseLandmarker` steps), python backend, converted models copied in.

    write_repository("repo", RepositoryOptions(PoseLandmarkerOptions(model="full", num_poses=2),
                                               kind="gpu"))

Every choice that shapes the results (the landmarker's PoseLandmarkerOptions: model, num_poses,
confidences, masks, providers, precision, a built-in person detector, ...) is fixed when the
repository is written and recorded in each config.pbtxt as the `blazepose_options` parameter;
the model reads it back at load time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from blazepose_onnx.common.errors import InvalidTypeError, InvalidValueError
from blazepose_onnx.common.fileio import atomic_path
from blazepose_onnx.converter import PERSON_DETECTOR_DIR
from blazepose_onnx.options import PoseLandmarkerOptions
from blazepose_onnx.pipeline.builtin_detectors import BUILTIN_PERSON_DETECTORS, is_builtin

if TYPE_CHECKING:
    from blazepose_onnx.typing import ProviderSpec

MODELS = ("pose_image", "pose_video")
MODEL_FILES_DIR = "models"  # inside <model>/1/
SITE_PACKAGES_ENV = "BLAZEPOSE_SERVING_SITE_PACKAGES"

# The python backend starts its stub with a fresh sys.path: the launcher names the serving
# environment's site-packages in SITE_PACKAGES_ENV, put first (before numpy is imported) with
# their .pth files run (editable installs). In NVIDIA's container the package is installed in
# the container's own Python and the variable is unset.
MODEL_PY = '''"""The blazepose-onnx {model} model for Triton's python backend (generated)."""

import os
import site
import sys

for _path in reversed(os.environ.get("{env}", "").split(os.pathsep)):
    if _path:
        _before = list(sys.path)
        site.addsitedir(_path)
        sys.path[:] = [p for p in sys.path if p not in _before] + _before

from blazepose_onnx.serving.python_model import {cls} as TritonPythonModel  # noqa: E402, F401
'''


# The old names of three landmarker options (before the repository took PoseLandmarkerOptions).
OLD_NAMES = {"variant": "model", "masks": "output_segmentation_masks", "provider": "providers"}
# Chosen by each served model (IMAGE, VIDEO), or what a repository cannot carry (a callable).
NOT_SERVED = ("running_mode", "result_callback", "base_options")


@dataclass(frozen=True, init=False)
class RepositoryOptions:
    """What a repository serves (`landmarker`: the PoseLandmarkerOptions every model runs) and
    how Triton schedules it.

    `kind` 'cpu' or 'gpu': KIND_CPU with `instances`, or KIND_GPU with `instances` per GPU in
    `gpus` (all visible GPUs when empty); on a GPU instance the first provider's `device_id` is
    the instance's GPU. `idle_timeout_s` frees a video stream whose client vanished without
    END. The landmarker's `person_detector` may name a built-in person detector ('ssd'), its
    converted model copied into the repository too; `pose_video` streams then track people as
    in-process (`person_detection_interval`, Many people). The landmarker's `num_poses` is the
    outputs' fixed number of slots: 1 when unset, and required with a person detector
    (in-process, unset means everyone up to 64; a served response has a slot for each, masks
    included, so the most people served is chosen here).

    Any PoseLandmarkerOptions field may also be given by name (`num_poses=2` sets
    `landmarker.num_poses`), and three by their old names: `variant` (model), `provider`
    (providers=[provider]) and `masks` (output_segmentation_masks).

    Attributes:
        landmarker: the options every served model runs (`running_mode`, `result_callback`
            and `base_options` aside: each model chooses its mode).
        kind: 'cpu' (KIND_CPU) or 'gpu' (KIND_GPU).
        instances: model instances (per GPU with 'gpu').
        gpus: the GPUs of a 'gpu' repository (empty: all visible ones).
        image_max_batch: the largest batch Triton's dynamic batcher forms for `pose_image`.
        image_queue_delay_us: how long `pose_image`'s batcher waits to fill a batch.
        video_max_batch: the most streams one `pose_video` step runs together.
        video_queue_delay_us: how long `pose_video`'s batcher waits to fill a step.
        idle_timeout_s: a video stream idle this long (its client gone without END) is freed.
        models: the models written: 'pose_image', 'pose_video' or both.
    """

    landmarker: PoseLandmarkerOptions = field(default_factory=PoseLandmarkerOptions)
    kind: str = "cpu"
    instances: int = 1
    gpus: tuple[int, ...] = field(default_factory=tuple)
    image_max_batch: int = 8
    image_queue_delay_us: int = 2000
    video_max_batch: int = 16
    video_queue_delay_us: int = 2000
    idle_timeout_s: float = 30.0
    models: tuple[str, ...] = MODELS

    def __init__(self, landmarker: PoseLandmarkerOptions | None = None, **options: Any) -> None:
        for spec in self.scheduling():
            default = spec.default if spec.default_factory is MISSING else spec.default_factory()
            object.__setattr__(self, spec.name, options.pop(spec.name, default))
        chosen = {OLD_NAMES.get(name, name): value for name, value in options.items()}
        if isinstance(chosen.get("providers"), str):
            chosen["providers"] = [chosen["providers"]]
        unknown = sorted(set(chosen) - {spec.name for spec in fields(PoseLandmarkerOptions)})
        if unknown:
            raise InvalidTypeError(f"RepositoryOptions got unknown option(s) {', '.join(unknown)}")
        landmarker = dataclasses.replace(landmarker or PoseLandmarkerOptions(), **chosen)
        object.__setattr__(self, "landmarker", landmarker)

    @classmethod
    def scheduling(cls) -> list[Field]:
        """The fields besides `landmarker`: how Triton schedules the models."""
        return [spec for spec in fields(cls) if spec.name != "landmarker"]

    def checked(self) -> RepositoryOptions:
        """A validated copy (the landmarker's options too, `num_poses` resolved: 1 when unset,
        and required with a person detector); ValueError names the first bad option."""
        detector = self.landmarker.person_detector
        if detector is not None and not is_builtin(detector):
            raise InvalidValueError(
                "person_detector must name a built-in person detector "
                f"({', '.join(BUILTIN_PERSON_DETECTORS)}), got {detector!r}"
            )
        if self.landmarker.num_poses is None and detector is not None:
            raise InvalidValueError(
                "num_poses (--num-poses) must be set with a person detector: the outputs "
                "have a fixed slot for each pose served, e.g. num_poses=8"
            )
        landmarker = self.landmarker_options()  # the pipeline's own checks
        if landmarker.result_callback is not None:
            raise InvalidValueError("result_callback cannot be served (each model calls its own)")
        if self.kind not in ("cpu", "gpu"):
            raise InvalidValueError(f"kind must be 'cpu' or 'gpu', got {self.kind!r}")
        for name in ("instances", "image_max_batch", "video_max_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidValueError(f"{name} must be an int >= 1, got {value!r}")
        for name in ("image_queue_delay_us", "video_queue_delay_us"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise InvalidValueError(f"{name} must be an int >= 0, got {getattr(self, name)!r}")
        if not self.idle_timeout_s > 0:
            raise InvalidValueError(f"idle_timeout_s must be > 0, got {self.idle_timeout_s!r}")
        unknown = sorted(set(self.models) - set(MODELS))
        if unknown or not self.models:
            raise InvalidValueError(
                f"models must be some of {', '.join(MODELS)}, got {self.models!r}"
            )
        return dataclasses.replace(self, landmarker=landmarker)

    def landmarker_options(self, model: str | None = None) -> PoseLandmarkerOptions:
        """The landmarker's options, validated, running `model` (a folder of the repository's
        copies) in place of the one given."""
        chosen = (
            self.landmarker if model is None else dataclasses.replace(self.landmarker, model=model)
        )
        return chosen.validated()

    def to_json(self) -> str:
        """These options as the JSON a model's config carries (`options_from_config`)."""
        landmarker = {
            spec.name: getattr(self.landmarker, spec.name)
            for spec in fields(PoseLandmarkerOptions)
            if spec.name not in NOT_SERVED
        }
        landmarker["model"] = os.fspath(landmarker["model"])
        own = {spec.name: getattr(self, spec.name) for spec in self.scheduling()}
        return json.dumps({"landmarker": landmarker, **own}, separators=(",", ":"))


def _instance_group(options: RepositoryOptions) -> str:
    if options.kind == "cpu":
        return f"instance_group [ {{ count: {options.instances} kind: KIND_CPU }} ]"
    gpus = f" gpus: [{', '.join(map(str, options.gpus))}]" if options.gpus else ""
    return f"instance_group [ {{ count: {options.instances} kind: KIND_GPU{gpus} }} ]"


def _outputs(options: RepositoryOptions) -> str:
    n = options.landmarker.num_poses
    outputs = [
        '{ name: "pose_count" data_type: TYPE_INT32 dims: [ 1 ] }',
        f'{{ name: "pose_ids" data_type: TYPE_INT64 dims: [ {n} ] }}',
        f'{{ name: "landmarks" data_type: TYPE_FP32 dims: [ {n}, 33, 5 ] }}',
        f'{{ name: "world_landmarks" data_type: TYPE_FP32 dims: [ {n}, 33, 3 ] }}',
    ]
    if options.landmarker.output_segmentation_masks:
        outputs.append(f'{{ name: "masks" data_type: TYPE_FP32 dims: [ {n}, -1, -1 ] }}')
    return "output [\n  " + ",\n  ".join(outputs) + "\n]"


def _parameters(options: RepositoryOptions) -> str:
    value = options.to_json().replace('"', '\\"')
    return f'parameters [ {{ key: "blazepose_options" value: {{ string_value: "{value}" }} }} ]'


# Optional person boxes (n, 4) or (n, 5) per request, pixels of the image as sent: as
# `person_boxes` of detect / detect_for_video; absent: the pose detector; zero rows: nobody.
PERSON_BOXES_INPUT = (
    '{ name: "person_boxes" data_type: TYPE_FP64 dims: [ -1, -1 ] optional: true '
    "allow_ragged_batch: true }"
)


def image_config(options: RepositoryOptions) -> str:
    """config.pbtxt of `pose_image`."""
    return f"""name: "pose_image"
backend: "python"
max_batch_size: {options.image_max_batch}
input [
  {{ name: "image" data_type: TYPE_UINT8 dims: [ -1, -1, 3 ] allow_ragged_batch: true }},
  {{ name: "rotation_degrees" data_type: TYPE_INT32 dims: [ 1 ] optional: true }},
  {PERSON_BOXES_INPUT}
]
{_outputs(options)}
dynamic_batching {{ max_queue_delay_microseconds: {options.image_queue_delay_us} }}
{_instance_group(options)}
{_parameters(options)}
"""


def video_config(options: RepositoryOptions) -> str:
    """config.pbtxt of `pose_video` (sequence batcher, oldest strategy)."""
    idle_us = int(options.idle_timeout_s * 1e6)
    return f"""name: "pose_video"
backend: "python"
max_batch_size: {options.video_max_batch}
input [
  {{ name: "frame" data_type: TYPE_UINT8 dims: [ -1, -1, 3 ] allow_ragged_batch: true }},
  {{ name: "timestamp_ms" data_type: TYPE_INT64 dims: [ 1 ] }},
  {PERSON_BOXES_INPUT}
]
{_outputs(options)}
sequence_batching {{
  max_sequence_idle_microseconds: {idle_us}
  oldest {{
    max_candidate_sequences: {options.video_max_batch * 4}
    preferred_batch_size: [ {options.video_max_batch} ]
    max_queue_delay_microseconds: {options.video_queue_delay_us}
  }}
  control_input [
    {{ name: "START" control [ {{ kind: CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] }} ] }},
    {{ name: "END" control [ {{ kind: CONTROL_SEQUENCE_END fp32_false_true: [ 0, 1 ] }} ] }},
    {{ name: "CORRID" control [ {{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 }} ] }}
  ]
}}
{_instance_group(options)}
{_parameters(options)}
"""


CONFIGS = {"pose_image": image_config, "pose_video": video_config}
CLASSES = {"pose_image": "PoseImageModel", "pose_video": "PoseVideoModel"}


def write_repository(out_dir: str | Path, options: RepositoryOptions | None = None) -> Path:
    """Write (or replace) the models of a Triton repository in `out_dir`.

    The converted ONNX models (and a built-in person detector's, in `person_detectors/`) are
    copied into each model's version folder, so the repository has no path outside it and can
    be mounted into a container as is.

    Args:
        out_dir: the repository's folder (made when missing).
        options: what it serves and how (None: the defaults).

    Returns:
        The repository's path.

    Raises:
        InvalidValueError: a bad option (`RepositoryOptions.checked`).
        WriteError: an output that cannot be written.
        BlazePoseError: every error above is one; so is a model that cannot be fetched or
            converted.
    """
    options = (options or RepositoryOptions()).checked()
    # onnxruntime: only when writing
    from blazepose_onnx.backend.models import builtin_person_detector_path, resolve_model

    landmarker = options.landmarker
    paths = resolve_model(landmarker.model, landmarker.model_precision, landmarker.trust_unverified)
    copies = {path.name: path for path in paths.values()}
    if is_builtin(landmarker.person_detector):  # the only kind `checked` lets through
        detector = builtin_person_detector_path(landmarker.person_detector)
        copies[f"{PERSON_DETECTOR_DIR}/{detector.name}"] = detector
    out = Path(out_dir)
    for model in options.models:
        version = out / model / "1"
        shutil.rmtree(out / model, ignore_errors=True)
        (version / MODEL_FILES_DIR).mkdir(parents=True)
        for name, path in copies.items():
            with atomic_path(version / MODEL_FILES_DIR / name) as temp:
                shutil.copyfile(path, temp)
        (version / "model.py").write_text(
            MODEL_PY.format(model=model, env=SITE_PACKAGES_ENV, cls=CLASSES[model])
        )
        with atomic_path(out / model / "config.pbtxt") as temp:
            temp.write_text(CONFIGS[model](options))
    return out


def options_from_config(config: dict) -> RepositoryOptions:
    """The RepositoryOptions recorded in a model's parsed config (as Triton passes it; a
    repository written before the landmarker's options were embedded has them flat)."""
    raw = json.loads(config["parameters"]["blazepose_options"]["string_value"])
    raw["gpus"] = tuple(raw.get("gpus", ()))
    raw["models"] = tuple(raw.get("models", MODELS))
    landmarker = raw.pop("landmarker", None)
    if landmarker is None:
        return RepositoryOptions(**raw)
    providers = [p if isinstance(p, str) else (p[0], p[1]) for p in landmarker.pop("providers")]
    checked_later = cast("list[ProviderSpec]", providers)  # as every option: by `checked()`
    return RepositoryOptions(PoseLandmarkerOptions(providers=checked_later, **landmarker), **raw)
