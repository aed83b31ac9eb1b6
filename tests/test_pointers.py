"""Where the project sends a reader leads somewhere: every "README, Section" pointer in help
texts (as `--help` prints them), messages, docstrings and comments names a README heading, and a
test that skips for want of data says how to get it."""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
HEADINGS = re.findall(r"^#{2,4} (.+)$", README, re.M)
# "README, Speed", "README: Install", 'README "Execution providers"', 'README, "Datasets: ..."'
README_REFERENCE = re.compile(r'\bREADME[,:]?\s+("[^"]+"|[A-Z][^\n]*)')


def readme_references(text: str) -> list[str]:
    """What each "README, X" pointer in `text` points at (the rest of its line)."""
    return [match.group(1) for match in README_REFERENCE.finditer(text)]


def names_a_heading(reference: str) -> bool:
    """A quoted pointer is a heading; an unquoted one starts with one, then ends or goes on
    with punctuation ("Many people: measured ...")."""
    if reference.startswith('"'):
        return " ".join(reference.strip('"').split()) in HEADINGS
    return any(re.match(re.escape(h) + r"(?!\w)", reference) for h in HEADINGS)


def help_texts(parser: argparse.ArgumentParser) -> list[str]:
    """Every help text of a parser and its subcommands, as `--help` prints them."""
    texts = [parser.format_help()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [text for sub in action.choices.values() for text in help_texts(sub)]
    return texts


def source_strings() -> list[str]:
    """Every string literal (help texts, error messages, docstrings; f-strings without their
    fields) and the whole text of the project's Python, shell and TOML files, but this one and
    tests/docs/test_references.py (both spell the pointer syntax out)."""
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py", "*.sh",
         "*.toml", ".ci/run", ":!tests/test_pointers.py", ":!tests/docs/test_references.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    strings = []
    for name in tracked:
        text = (ROOT / name).read_text()
        strings.append(text)
        if name.endswith(".py"):
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    strings.append(node.value)
                elif isinstance(node, ast.JoinedStr):
                    parts = [p.value for p in node.values if isinstance(p, ast.Constant)]
                    strings.append("".join(parts))
    return strings


def test_every_readme_pointer_names_an_existing_section():
    """Help texts pointed to "README, Exports", which does not exist."""
    from blazepose_onnx.cli.convert import build_parser as build_converter_parser
    from blazepose_onnx.cli.main import build_parser

    texts = help_texts(build_parser()) + help_texts(build_converter_parser())
    texts = [" ".join(text.split()) for text in texts] + source_strings()  # help lines rewrap
    references = [ref for text in texts for ref in readme_references(text)]
    assert len(references) > 10, references  # the scan finds them
    broken = sorted({ref[:60] for ref in references if not names_a_heading(ref)})
    assert not broken, f"README has no such section: {broken}; its sections: {HEADINGS}"


@pytest.mark.slow
def test_the_multi_person_tests_say_how_to_get_their_data(tmp_path):
    """Without the labelled COCO photos (not in the repository: three are CC BY-NC) the tests
    skip naming where they come from, the README section that says how, and the variable."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "runtime" / "pipeline" / "test_multi_person_eval.py")],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "BLAZEPOSE_COCO_DIR": str(tmp_path)},
    )  # fmt: skip
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips and " passed" not in done.stdout and " failed" not in done.stdout, done.stdout
    for line in skips:
        assert f"no labelled COCO photos in {tmp_path}: get mmpose's tests/data/coco" in line
        assert "(README, Set up on a fresh machine: " in line and "BLAZEPOSE_COCO_DIR" in line
    commands = re.search(r"```text\n(git clone .*?)```", README, re.S).group(1)
    assert "sparse-checkout set tests/data/coco" in commands
    assert "export BLAZEPOSE_COCO_DIR=$PWD/mmpose/tests/data/coco" in commands
