"""Which ONNX files a `model` option means, and what their metadata says about inputs."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from blazepose_onnx.backend.model_form import ANY_FORM, ModelForm
from blazepose_onnx.backend.session_cache import cached_session_model
from blazepose_onnx.common.errors import InvalidValueError, MissingFileError
from blazepose_onnx.converter import VARIANTS, model_files, onnx_paths, person_detector_paths
from blazepose_onnx.converter.errors import StaleModelError

log = logging.getLogger(__name__)
CANONICAL_BUNDLE = re.compile(rf"pose_landmarker_({'|'.join(VARIANTS)})\.task")


@dataclass(frozen=True)
class InputSpec:
    """What a converted model expects: input name and square size."""

    name: str
    size: int


def resolve_model(
    model: str | os.PathLike, precision: str = "fp32", trust_unverified: bool = False
) -> dict[str, Path]:
    """Paths of the detector and landmarker ONNX models for a `model` option.

    'lite' | 'full' | 'heavy' (fetched and converted on first use), a `.task` bundle
    (converted once into the model directory; one whose weights match no known model only with
    `trust_unverified`), or a directory with both ONNX files (`<role>.onnx`, or
    `<role>.fp16.onnx` for fp16 precision).
    """
    if isinstance(model, str) and model in VARIANTS:
        paths = onnx_paths(model, precision=precision)
        if all(p.is_file() for p in paths.values()):
            return paths  # converted already: the converter (and onnx) is not imported
        from blazepose_onnx.converter import ensure_converted

        return ensure_converted(model, precision=precision)
    path = Path(model)
    variant = _canonical_variant(path)
    if variant is not None:
        log.info("%s does not exist: using the %s variant it names", path, variant)
        return resolve_model(variant, precision, trust_unverified)
    if not path.exists():
        raise MissingFileError(
            f"model not found: {path} (expected {', '.join(VARIANTS)} or a path)"
        )
    if path.is_dir():
        pair = model_files(path, precision)
        for role_path in pair.values():
            if not role_path.is_file():
                raise MissingFileError(f"model directory {path} has no {role_path.name}")
        return pair
    if path.suffix == ".task":
        from blazepose_onnx.converter import ensure_bundle_converted

        return ensure_bundle_converted(path, precision, trust_unverified)
    raise InvalidValueError(
        f"model {path} must be a .task bundle or a directory with detector.onnx and landmarker.onnx"
    )


def resolve_session_models(
    model: str | os.PathLike,
    precision: str,
    trust_unverified: bool,
    outputs: Mapping[str, Sequence[str] | None],
    form: ModelForm = ANY_FORM,
) -> dict[str, tuple[Path, bytes]]:
    """Per role in `outputs`: the model file and the serialised model its session is built
    from (restricted to those outputs, None: all; in the `form` the provider needs). Files
    converted by an older blazepose-onnx (`StaleModelError`) are converted again once where
    that is possible (variants, bundles)."""
    paths = resolve_model(model, precision, trust_unverified)
    try:
        return _session_models(paths, outputs, form)
    except StaleModelError:
        converted = reconvert(model, precision, trust_unverified)
        if converted is None:
            raise
        return _session_models(converted, outputs, form)


def _session_models(
    paths: dict[str, Path], outputs: Mapping[str, Sequence[str] | None], form: ModelForm
) -> dict[str, tuple[Path, bytes]]:
    return {
        role: (paths[role], cached_session_model(paths[role], role, kept, form))
        for role, kept in outputs.items()
    }


def _canonical_variant(path: Path) -> str | None:
    """The variant a missing file with MediaPipe's canonical bundle name means
    (`pose_landmarker_full.task` -> 'full'), so MediaPipe's examples run from any folder."""
    match = CANONICAL_BUNDLE.fullmatch(path.name)
    bare_name = path.parent == Path(".")
    return match.group(1) if match and bare_name and not path.exists() else None


def reconvert(
    model: str | os.PathLike, precision: str = "fp32", trust_unverified: bool = False
) -> dict[str, Path] | None:
    """Convert a variant or `.task` again (its converted files are stale); None for a folder
    of ONNX files, which only its owner can rebuild."""
    from blazepose_onnx.converter import convert_bundle, convert_variant

    log.warning("converting %s again: its ONNX files predate graph digests", model)
    if isinstance(model, str) and model in VARIANTS:
        return convert_variant(model, precision=precision)
    path = Path(model)
    if path.suffix == ".task":
        return convert_bundle(path, precision=precision, trust_unverified=trust_unverified)
    return None


def builtin_person_detector_path(name: str, model: str | os.PathLike | None = None) -> Path:
    """The converted ONNX model of a built-in person detector: the copy a `model` folder carries
    (`person_detectors/<name>.onnx` beside its detector and landmarker, as in a Triton
    repository), else the model directory's, fetched and converted there on first use."""
    if model is not None and Path(model).is_dir():
        carried = person_detector_paths(name, Path(model))["onnx"]
        if carried.is_file():
            return carried
    path = person_detector_paths(name)["onnx"]
    if path.is_file():
        return path  # converted already: the converter (and onnx) is not imported
    from blazepose_onnx.converter import ensure_person_detector

    return ensure_person_detector(name)


def builtin_person_detector_model(
    name: str, model: str | os.PathLike | None = None, form: ModelForm = ANY_FORM
) -> tuple[Path, bytes]:
    """A built-in person detector's converted model (`builtin_person_detector_path`) and the
    serialised model its session is built from, in the `form` its provider needs (as the pose
    models are: a uint8 NHWC input; on CoreML a fixed batch and float32 pixels). It runs on one
    image at a time, so a fixed batch is 1 whatever the pose models' `batch_size`."""
    path = builtin_person_detector_path(name, model)
    single = form if form.batch is None else dataclasses.replace(form, batch=1)
    return path, cached_session_model(path, "person_detector", None, single)


def input_spec(session: ort.InferenceSession) -> InputSpec:
    """The input name and size recorded by the converter in the model's metadata_props."""
    meta = session.get_modelmeta().custom_metadata_map
    return InputSpec(meta["blazepose.input"], int(meta["blazepose.input_size"]))
