"""The model manifest (`models/manifest.json`): variants, registry sources, sha256, fingerprints,
and the built-in person detectors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from blazepose_onnx.converter.errors import UnknownVariantError

VARIANTS = ("lite", "full", "heavy")
ROLES = ("detector", "landmarker")


@dataclass(frozen=True)
class RegistryFile:
    """Where one TFLite file ships in a package registry, and its sha256."""

    registry: str
    member: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ModelEntry:
    """One TFLite model: its bundle member name, weights fingerprint and registry source."""

    role: str
    member: str
    weights_fingerprint: str
    registry_file: RegistryFile


@dataclass(frozen=True)
class PersonDetectorEntry:
    """A built-in person detector: the npm tarball it ships in (`registry`: package, tarball,
    size, sha256), the packed member holding it, the loader script giving its offsets there,
    and the TFLite file's size, sha256 and weights fingerprint."""

    name: str
    description: str
    registry: dict
    packed_member: str
    loader_member: str
    packed_file: str
    size: int
    sha256: str
    weights_fingerprint: str


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest."""

    bundle_urls: dict[str, str]
    registries: dict[str, dict]
    models: dict[tuple[str, str], ModelEntry]  # (variant, role) -> entry
    person_detectors: dict[str, PersonDetectorEntry]

    def entry(self, variant: str, role: str) -> ModelEntry:
        return self.models[(check_variant(variant), role)]


def check_variant(variant: str) -> str:
    """Return `variant` if it is known, else raise `UnknownVariantError` listing the known ones."""
    if variant not in VARIANTS:
        raise UnknownVariantError(
            f"unknown model variant {variant!r}: expected one of {', '.join(VARIANTS)}"
        )
    return variant


def _entry(role: str, member: str, raw: dict) -> ModelEntry:
    return ModelEntry(
        role, member, raw["weights_fingerprint"], RegistryFile(**raw["registry_file"])
    )


@lru_cache(maxsize=1)
def load_manifest() -> Manifest:
    """Load the manifest shipped with the package."""
    text = (
        resources.files("blazepose_onnx.converter.models")
        .joinpath("manifest.json")
        .read_text("utf-8")
    )
    raw = json.loads(text)
    members = raw["bundle_members"]
    detector = _entry("detector", members["detector"], raw["detector"])
    models = {}
    for variant, spec in raw["variants"].items():
        models[(variant, "detector")] = detector
        models[(variant, "landmarker")] = _entry(
            "landmarker", members["landmarker"], spec["landmarker"]
        )
    urls = {variant: spec["bundle_url"] for variant, spec in raw["variants"].items()}
    person_detectors = {
        name: PersonDetectorEntry(name, **spec) for name, spec in raw["person_detectors"].items()
    }
    return Manifest(urls, raw["registries"], models, person_detectors)
