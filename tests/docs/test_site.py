"""The documentation site, built and looked at as a reader would: `mkdocs build --strict` (a
broken link, anchor or API reference fails it), then the start page and an API page rendered by
headless Chromium (Debian's `chromium`): a screenshot that is not blank and the navigation there.

Runs in CI's docs step (`pytest -m docs`, the [docs] extra); it fails, never skips, when mkdocs
or chromium is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parents[2]
NAV = [
    "Install",
    "Python API",
    "Command line",
    "Coming from MediaPipe",
    "Many people",
    "Datasets",
    "Serving on Triton",
    "Backends and benchmarking",
    "Models",
    "Parity and performance",
    "Reliability",
    "Contributing",
]
WINDOW = "1400,1000"  # wide enough for Material's navigation column
pytestmark = pytest.mark.docs


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built with `mkdocs build --strict` into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true", "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert "No module named mkdocs" not in done.stderr, "pip install -e '.[cpu,docs]'"
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return out


def assert_page_with_navigation(dom: str, shot) -> None:
    """The site's navigation is in the page and its left column is drawn; the page not blank."""
    nav = re.search(r'<nav class="md-nav md-nav--primary".*?</nav>\s*</div>', dom, re.S)
    assert nav is not None, dom[:2000]
    titles = re.findall(r'<span class="md-ellipsis">\s*(.*?)\s*</span>', nav.group(0), re.S)
    assert set(NAV) <= set(titles), titles
    grey = cv2.cvtColor(shot, cv2.COLOR_BGR2GRAY)
    assert grey.std() > 20, grey.std()  # a blank page is 0
    left = grey[150:900, 0:300]  # the navigation column at this width
    assert (left < 128).mean() > 0.01, (left < 128).mean()  # its dark text


def test_the_start_page_renders_with_its_navigation(site, tmp_path, chromium):
    dom, shot = chromium(site / "index.html", tmp_path, window=WINDOW)
    assert_page_with_navigation(dom, shot)
    assert '<img alt="Annotated output' in dom
    assert cv2.imread(str(site / "annotated.jpg")) is not None


def test_an_api_page_renders_the_docstrings(site, tmp_path, chromium):
    """The reference names the public import path and renders the class's docstrings."""
    dom, shot = chromium(site / "reference" / "api" / "index.html", tmp_path, window=WINDOW)
    assert_page_with_navigation(dom, shot)
    assert 'id="blazepose_onnx.PoseLandmarker"' in dom
    assert 'id="blazepose_onnx.PoseLandmarker.detect_for_video"' in dom
    assert "Finds up to" in dom  # PoseLandmarker's docstring


def _commands(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _commands(sub)


def test_the_cli_reference_has_every_command_and_option(site):
    """Generated from the parsers at build time: every subcommand and every option there,
    with its default."""
    from blazepose_onnx.cli.convert import build_parser as convert_parser
    from blazepose_onnx.cli.main import build_parser as blazepose_parser

    page = (site / "reference" / "cli" / "index.html").read_text()
    for parser in (blazepose_parser(), convert_parser()):
        for command in _commands(parser):
            assert f"<code>{command.prog}</code>" in page, command.prog
            for action in command._actions:
                if isinstance(action, argparse._HelpAction):
                    continue  # -h, --help: every command has it
                for option in action.option_strings:
                    assert f"<code>{option}</code>" in page, (command.prog, option)
    row = re.search(r"<code>--num-poses</code>.*?</tr>", page, re.S).group(0)
    # unset by default (1, or everyone with a person detector): the help states it
    assert "most poses per image, 1 to 64 (default: 1, MediaPipe's" in row, row
