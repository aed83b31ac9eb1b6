"""The README's Python snippets run verbatim from an empty folder (with the shipped sample)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def snippet_after(heading: str) -> str:
    """The first ```python block after `heading` in the README."""
    rest = README[README.index(heading) :]
    return re.search(r"```python\n(.*?)```", rest, re.S).group(1)


ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "heading",
    [
        "## Quick start (Python)",
        "Drawing from Python",
        "**Porting MediaPipe's own example**",
        "## Coming from mp.solutions",
    ],
)
def test_readme_snippet_runs_from_an_empty_folder(heading, cli_env, tmp_path):
    snippet = snippet_after(heading)
    done = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    if heading.startswith("Drawing"):
        assert (tmp_path / "annotated.png").stat().st_size > 100_000
    elif heading.startswith("## Coming"):
        assert done.stdout.startswith("NormalizedLandmark(x=0.28")
    elif heading.startswith("**Porting"):
        assert done.stdout == "1 pose\n"
    else:
        assert "(1, 33, 5)" in done.stdout


HEADINGS = re.findall(r"^#{2,4} (.+)$", README, re.M)
# "README, Speed", "README: Install", 'README "Execution providers"', 'README, "Datasets: ..."'
README_REFERENCE = re.compile(r'\bREADME[,:]?\s+("[^"]+"|[A-Z][^\n]*)')


def readme_references(text: str) -> list[str]:
    """What each "README, X" reference in `text` points at (the rest of its line)."""
    return [match.group(1) for match in README_REFERENCE.finditer(text)]


def names_a_heading(reference: str) -> bool:
    """A quoted reference is a heading; an unquoted one starts with one, then ends or goes on
    with punctuation ("Many people: measured ...")."""
    if reference.startswith('"'):
        return " ".join(reference.strip('"').split()) in HEADINGS
    return any(re.match(re.escape(h) + r"(?!\w)", reference) for h in HEADINGS)


def _help_texts(parser) -> list[str]:
    """Every help text of a parser and its subcommands, as `--help` prints them."""
    import argparse

    texts = [parser.format_help()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [text for sub in action.choices.values() for text in _help_texts(sub)]
    return texts


def _source_strings() -> list[str]:
    """Every string literal (help texts, error messages, docstrings) and every line of the
    project's Python, shell and TOML files, README aside."""
    import ast

    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.sh", "*.toml", ".ci/run", ":!tests/test_readme.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    strings = []
    for name in tracked:
        text = (ROOT / name).read_text()
        strings.append(text)
        if name.endswith(".py"):
            tree = ast.parse(text)
            strings += [
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            ]
            strings += ["".join(  # f-strings joined, their fields left out
                part.value for part in node.values if isinstance(part, ast.Constant)
            ) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]  # fmt: skip
    return strings


def test_every_readme_reference_names_an_existing_section():
    """Help texts, error messages and comments send readers to README sections that exist
    (help texts pointed to "README, Exports", which does not)."""
    from blazepose_onnx.cli.main import build_parser
    from blazepose_onnx.converter.cli import build_parser as build_converter_parser

    texts = _help_texts(build_parser()) + _help_texts(build_converter_parser())
    texts = [" ".join(text.split()) for text in texts] + _source_strings()  # help lines rewrap
    references = [ref for text in texts for ref in readme_references(text)]
    assert len(references) > 10, references  # the scan finds them
    broken = sorted({ref[:60] for ref in references if not names_a_heading(ref)})
    assert not broken, f"README has no such section: {broken}; its sections: {HEADINGS}"


def test_the_multi_person_tests_say_how_to_get_their_data(tmp_path):
    """Without the labelled COCO photos (not in the repository: three are CC BY-NC) the tests
    skip naming where they come from, the README section that says how, and the variable."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "runtime" / "test_multi_person_eval.py")],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "BLAZEPOSE_COCO_DIR": str(tmp_path)},
    )  # fmt: skip
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 4, done.stdout
    for line in skips:
        assert f"no labelled COCO photos in {tmp_path}: get mmpose's tests/data/coco" in line
        assert "(README, Set up on a fresh machine: " in line and "BLAZEPOSE_COCO_DIR" in line
    commands = re.search(r"```bash\n(git clone .*?)```", README, re.S).group(1)
    assert "sparse-checkout set tests/data/coco" in commands
    assert "export BLAZEPOSE_COCO_DIR=$PWD/mmpose/tests/data/coco" in commands
