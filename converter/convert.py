"""Bundle -> verified-interface ONNX models on disk (detector.onnx, landmarker.onnx)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import onnx

from blazepose_onnx.common.fileio import atomic_path
from blazepose_onnx.converter.backends import run_backend
from blazepose_onnx.converter.bundle import MEMBERS, Bundle, check_bundle, read_bundle
from blazepose_onnx.converter.download import announce
from blazepose_onnx.converter.errors import IntegrityError
from blazepose_onnx.converter.interface import finish_model, read_metadata
from blazepose_onnx.converter.manifest import ROLES, VARIANTS, load_manifest
from blazepose_onnx.converter.paths import bundle_path, default_model_dir, onnx_paths
from blazepose_onnx.converter.seal import sealed_bytes
from blazepose_onnx.converter.sources import fetch_bundles, writable_model_dir
from blazepose_onnx.converter.tflite_graph import weights_fingerprint

log = logging.getLogger(__name__)


def identify_variant(bundle: Bundle) -> str | None:
    """The variant whose manifest fingerprint matches the bundle's landmarker, if any."""
    fingerprint = weights_fingerprint(bundle.landmarker, MEMBERS["landmarker"])
    manifest = load_manifest()
    for variant in VARIANTS:
        if manifest.entry(variant, "landmarker").weights_fingerprint == fingerprint:
            return variant
    return None


def bundle_variant_name(bundle: Bundle, path: str | os.PathLike) -> str:
    """The folder name a bundle converts into: its variant, or `custom-<file stem>` for a
    bundle whose weights match no known variant."""
    return identify_variant(bundle) or f"custom-{Path(path).stem}"


def convert_bundle(
    path: str | os.PathLike,
    model_dir: Path | None = None,
    *,
    backend: str = "native",
    weights: str = "fp32",
    precision: str = "fp32",
    trust_unverified: bool = False,
) -> dict[str, Path]:
    """Convert a `.task` bundle; write `<model_dir>/<variant>/{detector,landmarker}.onnx`
    (`*.fp16.onnx` for fp16 compute precision, inputs and outputs still float32).

    The variant is identified from the landmarker's weights fingerprint. A bundle that matches
    no manifest entry is refused unless `trust_unverified`, which converts it as variant
    `custom-<file stem>` with a warning.

    Args:
        path: the `.task` bundle.
        model_dir: where to write (None: `default_model_dir()`).
        backend: 'native' (this package's TFLite-to-ONNX translator) or 'tf2onnx' (needs the
            [tf2onnx] extra).
        weights: how weights are stored: 'fp32' or 'fp16' (halves the files; computed in
            `precision`).
        precision: the compute precision: 'fp32' or 'fp16'.
        trust_unverified: convert a bundle whose weights match no known model.

    Returns:
        The written models by role ('detector', 'landmarker').

    Raises:
        BundleError: the bundle is missing, not a zip or lacks a member.
        IntegrityError: its weights match no known model (without `trust_unverified`).
        UnsupportedOperatorError: the TFLite graph has an operator the backend cannot translate.
        MissingExtraError: `backend="tf2onnx"` without the [tf2onnx] extra.
        WriteError: the model directory cannot be written. Each is a BlazePoseError.
    """
    bundle = read_bundle(path)
    variant = identify_variant(bundle)
    if variant is None:
        message = f"{path}: landmarker weights match no known variant ({', '.join(VARIANTS)})"
        if not trust_unverified:
            raise IntegrityError(
                message
                + "; pass --trust-unverified (Python: trust_unverified=True) to convert it anyway"
            )
        variant = bundle_variant_name(bundle, path)
        log.warning("%s; converting it as %r (--trust-unverified)", message, variant)
    else:
        manifest = load_manifest()
        check_bundle(
            bundle, {r: manifest.entry(variant, r) for r in ROLES}, str(path), trust_unverified
        )
    targets = onnx_paths(variant, model_dir or default_model_dir(), precision)
    for role in ROLES:
        source = bundle.model(role)
        model = run_backend(backend, source, f"{variant}_{role}", weights, precision)
        model = finish_model(
            model,
            role,
            variant=variant,
            source=source,
            source_fingerprint=weights_fingerprint(source),
            backend=backend,
            weights=weights,
            precision=precision,
        )
        with atomic_path(targets[role]) as temp:
            temp.write_bytes(sealed_bytes(model))
        log.info("wrote %s", targets[role])
    return targets


def convert_variant(
    variant: str,
    model_dir: Path | None = None,
    *,
    backend: str = "native",
    weights: str = "fp32",
    precision: str = "fp32",
    trust_unverified: bool = False,
) -> dict[str, Path]:
    """Fetch the variant's bundle (if needed) and convert it.

    Args:
        variant: 'lite', 'full' or 'heavy'.
        model_dir: as in `convert_bundle`.
        backend: as in `convert_bundle`.
        weights: as in `convert_bundle`.
        precision: as in `convert_bundle`.
        trust_unverified: as in `convert_bundle`.

    Returns:
        The written models by role ('detector', 'landmarker').

    Raises:
        UnknownVariantError: not lite, full or heavy.
        SourceError: no source could provide the bundle; and as `convert_bundle`.
    """
    model_dir = model_dir or default_model_dir()
    bundle = fetch_bundles([variant], model_dir, trust_unverified=trust_unverified)[variant]
    return convert_bundle(
        bundle,
        model_dir,
        backend=backend,
        weights=weights,
        precision=precision,
        trust_unverified=trust_unverified,
    )


def ensure_converted(
    variant: str, model_dir: Path | None = None, precision: str = "fp32"
) -> dict[str, Path]:
    """Paths of the variant's ONNX models, fetching and converting them on first use.

    Args:
        variant: 'lite', 'full' or 'heavy'.
        model_dir: where they live (None: `default_model_dir()`).
        precision: 'fp32' or 'fp16' (the compute precision of the models).

    Returns:
        The models by role ('detector', 'landmarker').

    Raises:
        ConverterError: the model directory is not writable; and as `convert_variant`.
    """
    model_dir = model_dir or default_model_dir()
    paths = onnx_paths(variant, model_dir, precision)
    if all(p.is_file() for p in paths.values()):
        return paths
    with writable_model_dir(model_dir):
        doing = (
            "converting" if bundle_path(variant, model_dir).is_file() else "fetching and converting"
        )
        announce(f"first use of the {variant} model: {doing} it into {model_dir}")
        return convert_variant(variant, model_dir, precision=precision)


def ensure_bundle_converted(
    path: str | os.PathLike, precision: str = "fp32", trust_unverified: bool = False
) -> dict[str, Path]:
    """Paths of a `.task` bundle's ONNX models in the model directory: those converted before
    when their weights fingerprint matches the bundle's, else converted now (`convert_bundle`).

    Args:
        path: the `.task` bundle.
        precision: 'fp32' or 'fp16' (the compute precision of the models).
        trust_unverified: as in `convert_bundle`.

    Returns:
        The models by role ('detector', 'landmarker').

    Raises:
        BlazePoseError: as `convert_bundle`.
    """
    bundle = read_bundle(path)
    existing = onnx_paths(bundle_variant_name(bundle, path), default_model_dir(), precision)
    if existing["landmarker"].is_file() and existing["detector"].is_file():
        landmarker = onnx.load(str(existing["landmarker"]), load_external_data=False)
        if read_metadata(landmarker).get("blazepose.weights_fingerprint") == weights_fingerprint(
            bundle.landmarker
        ):
            return existing
    return convert_bundle(path, precision=precision, trust_unverified=trust_unverified)
