"""MediaPipe `.task` bundles: a stored zip of the detector and one landmarker, found by name."""

from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.common.fileio import atomic_path
from blazepose_onnx.converter.errors import BundleError, IntegrityError, ModelNotFoundError
from blazepose_onnx.converter.manifest import ROLES, ModelEntry
from blazepose_onnx.converter.tflite_graph import weights_fingerprint

log = logging.getLogger(__name__)

DETECTOR_MEMBER = "pose_detector.tflite"
LANDMARKER_MEMBER = "pose_landmarks_detector.tflite"
MEMBERS = {"detector": DETECTOR_MEMBER, "landmarker": LANDMARKER_MEMBER}
# The largest real member is the heavy landmarker (27.7 MB); a member declared larger than this
# (a zip bomb, a wrong file) is refused before anything is decompressed.
MAX_MEMBER_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class Bundle:
    """The two TFLite models of a pose landmarker bundle, as bytes."""

    detector: bytes
    landmarker: bytes

    def model(self, role: str) -> bytes:
        if role not in ROLES:
            raise InvalidValueError(f"role must be one of {ROLES}, got {role!r}")
        return self.detector if role == "detector" else self.landmarker


def read_bundle(path: str | os.PathLike) -> Bundle:
    """Read a `.task` bundle; raise a clear error if it is missing, not a zip or incomplete."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"bundle not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [m for m in MEMBERS.values() if m not in names]
            if missing:
                raise BundleError(
                    f"{path}: bundle lacks {', '.join(missing)} "
                    f"(has: {', '.join(sorted(names)) or 'nothing'})"
                )
            for member in MEMBERS.values():
                size = archive.getinfo(member).file_size
                if size > MAX_MEMBER_BYTES:
                    raise BundleError(
                        f"{path}: member {member} is {size:,} bytes, far larger than any pose "
                        f"model (limit {MAX_MEMBER_BYTES:,}); refusing to read it"
                    )
            return Bundle(archive.read(DETECTOR_MEMBER), archive.read(LANDMARKER_MEMBER))
    except zipfile.BadZipFile as exc:
        raise BundleError(f"{path}: not a valid .task bundle (zip): {exc}") from exc
    except (EOFError, zipfile.LargeZipFile, OSError) as exc:
        raise BundleError(f"{path}: bundle is truncated or unreadable: {exc}") from exc


def write_bundle(path: str | os.PathLike, bundle: Bundle) -> Path:
    """Write a stored (uncompressed) `.task` zip atomically, members in MediaPipe's order."""
    with atomic_path(path) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(DETECTOR_MEMBER, bundle.detector)
        archive.writestr(LANDMARKER_MEMBER, bundle.landmarker)
    return Path(path)


def check_weights(
    data: bytes, entry: ModelEntry, source: str, trust_unverified: bool = False
) -> None:
    """Check a TFLite model's weights fingerprint against the manifest.

    A mismatch raises `IntegrityError`, or only warns with `trust_unverified=True`.
    """
    fingerprint = weights_fingerprint(data, source)
    if fingerprint == entry.weights_fingerprint:
        return
    message = (
        f"{source}: {entry.role} weights fingerprint {fingerprint[:16]}… does not match the "
        f"manifest ({entry.weights_fingerprint[:16]}…)"
    )
    if not trust_unverified:
        raise IntegrityError(message + "; pass --trust-unverified to use it anyway")
    log.warning("%s; using it anyway (--trust-unverified)", message)


def check_bundle(
    bundle: Bundle, entries: dict[str, ModelEntry], source: str, trust_unverified: bool = False
) -> None:
    """Check both models of a bundle against their manifest entries."""
    for role in ROLES:
        check_weights(
            bundle.model(role), entries[role], f"{source}:{MEMBERS[role]}", trust_unverified
        )
