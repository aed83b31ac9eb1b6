"""A self-contained Triton model repository: `pose_image` (IMAGE mode, dynamic batching of
ragged images into `detect_batch`) and `pose_video` (stateful streams through Triton's sequence
batcher into `MultiStreamPoseLandmarker` steps), python backend, converted models copied in.

    write_repository("repo", RepositoryOptions(variant="full", num_poses=2, kind="gpu"))

Every choice that shapes the results (variant, num_poses, confidences, masks, provider,
precision, a built-in person detector) is fixed when the repository is written and recorded in
each config.pbtxt as the `blazepose_options` parameter; the model reads it back at load time.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from blazepose_onnx.builtin_detectors import BUILTIN_PERSON_DETECTORS, is_builtin
from blazepose_onnx.converter.fileio import atomic_path
from blazepose_onnx.converter.paths import PERSON_DETECTOR_DIR
from blazepose_onnx.options import DEFAULT_PERSON_DETECTION_INTERVAL, PoseLandmarkerOptions

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


@dataclass(frozen=True)
class RepositoryOptions:
    """What a repository serves and how Triton schedules it.

    `kind` 'cpu' or 'gpu': KIND_CPU with `instances`, or KIND_GPU with `instances` per GPU in
    `gpus` (all visible GPUs when empty); on a GPU instance the provider's `device_id` is the
    instance's GPU. `idle_timeout_s` frees a video stream whose client vanished without END.
    `person_detector` names a built-in person detector ('ssd') that replaces the pose detector,
    its converted model copied into the repository too; `pose_video` streams then track people
    as in-process (`person_detection_interval`, Many people). `num_poses` is the outputs' fixed
    number of slots: 1 when unset, and required with a person detector (in-process, unset
    means everyone up to 64; a served response has a slot for each, masks included, so the
    most people served is chosen here).
    """

    variant: str = "full"
    num_poses: int | None = None
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    masks: bool = False
    provider: str = "cpu"
    precision: str = "fp32"
    num_threads: int | None = None
    kind: str = "cpu"
    instances: int = 1
    gpus: tuple[int, ...] = field(default_factory=tuple)
    image_max_batch: int = 8
    image_queue_delay_us: int = 2000
    video_max_batch: int = 16
    video_queue_delay_us: int = 2000
    idle_timeout_s: float = 30.0
    models: tuple[str, ...] = MODELS
    person_detector: str | None = None
    person_detection_interval: int = DEFAULT_PERSON_DETECTION_INTERVAL

    def checked(self) -> RepositoryOptions:
        """A validated copy, `num_poses` resolved; ValueError names the first bad option."""
        if self.person_detector is not None and not is_builtin(self.person_detector):
            raise ValueError(
                "person_detector must name a built-in person detector "
                f"({', '.join(BUILTIN_PERSON_DETECTORS)}), got {self.person_detector!r}"
            )
        if self.num_poses is None:
            if self.person_detector is not None:
                raise ValueError(
                    "num_poses (--num-poses) must be set with a person detector: the outputs "
                    "have a fixed slot for each pose served, e.g. num_poses=8"
                )
            return replace(self, num_poses=1).checked()
        self.landmarker_options()  # the pipeline's own checks
        if self.kind not in ("cpu", "gpu"):
            raise ValueError(f"kind must be 'cpu' or 'gpu', got {self.kind!r}")
        for name in ("instances", "image_max_batch", "video_max_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        for name in ("image_queue_delay_us", "video_queue_delay_us"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be an int >= 0, got {getattr(self, name)!r}")
        if not self.idle_timeout_s > 0:
            raise ValueError(f"idle_timeout_s must be > 0, got {self.idle_timeout_s!r}")
        unknown = sorted(set(self.models) - set(MODELS))
        if unknown or not self.models:
            raise ValueError(f"models must be some of {', '.join(MODELS)}, got {self.models!r}")
        return self

    def landmarker_options(self, model: str | None = None) -> PoseLandmarkerOptions:
        """The pipeline options these stand for (validated)."""
        return PoseLandmarkerOptions(
            model=model or self.variant,
            num_poses=self.num_poses,
            min_pose_detection_confidence=self.min_pose_detection_confidence,
            min_pose_presence_confidence=self.min_pose_presence_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
            output_segmentation_masks=self.masks,
            providers=[self.provider],
            precision=self.precision,
            num_threads=self.num_threads,
            person_detector=self.person_detector,
            person_detection_interval=self.person_detection_interval,
        ).validated()


def _instance_group(options: RepositoryOptions) -> str:
    if options.kind == "cpu":
        return f"instance_group [ {{ count: {options.instances} kind: KIND_CPU }} ]"
    gpus = f" gpus: [{', '.join(map(str, options.gpus))}]" if options.gpus else ""
    return f"instance_group [ {{ count: {options.instances} kind: KIND_GPU{gpus} }} ]"


def _outputs(options: RepositoryOptions) -> str:
    n = options.num_poses
    outputs = [
        '{ name: "pose_count" data_type: TYPE_INT32 dims: [ 1 ] }',
        f'{{ name: "pose_ids" data_type: TYPE_INT64 dims: [ {n} ] }}',
        f'{{ name: "landmarks" data_type: TYPE_FP32 dims: [ {n}, 33, 5 ] }}',
        f'{{ name: "world_landmarks" data_type: TYPE_FP32 dims: [ {n}, 33, 3 ] }}',
    ]
    if options.masks:
        outputs.append(f'{{ name: "masks" data_type: TYPE_FP32 dims: [ {n}, -1, -1 ] }}')
    return "output [\n  " + ",\n  ".join(outputs) + "\n]"


def _parameters(options: RepositoryOptions) -> str:
    value = json.dumps(asdict(options), separators=(",", ":")).replace('"', '\\"')
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
    """Write (or replace) the models of a Triton repository in `out_dir`; return its path.

    The converted ONNX models (and a built-in person detector's, in `person_detectors/`) are
    copied into each model's version folder, so the repository has no path outside it and can
    be mounted into a container as is.
    """
    options = (options or RepositoryOptions()).checked()
    # onnxruntime: only when writing
    from blazepose_onnx.models import builtin_person_detector_path, resolve_model

    paths = resolve_model(options.variant, options.precision)
    copies = {path.name: path for path in paths.values()}
    if options.person_detector is not None:
        detector = builtin_person_detector_path(options.person_detector)
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
    """The RepositoryOptions recorded in a model's parsed config (as Triton passes it)."""
    raw = json.loads(config["parameters"]["blazepose_options"]["string_value"])
    raw["gpus"] = tuple(raw.get("gpus", ()))
    raw["models"] = tuple(raw.get("models", MODELS))
    return RepositoryOptions(**raw)
