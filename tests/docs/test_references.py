"""Every pointer to the documentation leads somewhere: in help texts (as `--help` prints them),
error and skip messages, docstrings and comments of every tracked Python, shell and TOML file,
`docs/page.md#anchor` names a page of the site and one of its headings, and `README, Section`
(also `README "Section"`, `README: Section`) a heading or a bold lead-in of README.md. A test
that skips for want of data says where to get it."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_REFERENCE = re.compile(r"README[,:]?\s+(?:\"([^\"]+)\"|([A-Z][^),;:\"\n]*))")
DOCS_REFERENCE = re.compile(r"(?<![\w/.-])docs/([a-z][\w/-]*\.md)(?:#([\w-]+))?")  # ours
CODE_BLOCK = re.compile(r"^```.*?^```", re.S | re.M)
THIS = "tests/docs/test_references.py"  # it spells the pointer syntax out


def slug(heading: str) -> str:
    """A heading's anchor as the site's Markdown (Python-Markdown's toc) makes it."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def sections(page: Path) -> set[str]:
    """The headings and bold lead-ins (`**Layout.**`) of a Markdown page, as written."""
    text = CODE_BLOCK.sub("", page.read_text())
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.M)
    leads = re.findall(r"^\*\*(.+?)\.?\*\*", text, re.M)
    return {h.replace("`", "") for h in headings} | {lead.replace("`", "") for lead in leads}


def help_texts(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """(`PROG --help`, text) of a parser and its subcommands, as `--help` prints them
    (unwrapped)."""
    texts = [(f"{parser.prog} --help", " ".join(parser.format_help().split()))]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [text for sub in action.choices.values() for text in help_texts(sub)]
    return texts


def tracked_texts() -> list[tuple[str, str]]:
    """(file, text) of every tracked or new Python, shell and TOML file and `.ci/run`."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py", "*.sh",
         "*.toml", ".ci/run", f":!{THIS}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return [(name, (ROOT / name).read_text()) for name in names if (ROOT / name).is_file()]


def references() -> list[tuple[str, str, str]]:
    """(where, kind, target) for every documentation pointer: files, then help texts."""
    from blazepose_onnx.cli.convert import build_parser as build_converter_parser
    from blazepose_onnx.cli.main import build_parser

    helps = help_texts(build_parser()) + help_texts(build_converter_parser())
    found = []
    for name, text in tracked_texts() + helps:
        for pattern, kind in ((README_REFERENCE, "README"), (DOCS_REFERENCE, "docs")):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                if kind == "README":
                    target = (match[1] or match[2]).strip()
                else:
                    target = match[1] + (f"#{match[2]}" if match[2] else "")
                found.append((f"{name}:{line}", kind, target))
    return found


REFERENCES = references()


def test_the_scan_finds_the_references():
    """The patterns still match how the code and the help texts write them (a scan that finds
    nothing passes)."""
    where = [w for w, kind, _ in REFERENCES if kind == "docs"]
    assert len(where) >= 10 and any("--help" in w for w in where), REFERENCES


@pytest.mark.parametrize("where, kind, target", REFERENCES, ids=[r[0] for r in REFERENCES])
def test_reference_points_to_a_section_that_exists(where, kind, target):
    """Help texts pointed to "README, Exports", which does not exist."""
    if kind == "README":
        readme = sections(ROOT / "README.md")
        assert any(s == target or s.startswith(target) for s in readme), (
            f"{where}: README has no section {target!r}"
        )
        return
    page, _, anchor = target.partition("#")
    path = ROOT / "docs" / page
    assert path.is_file(), f"{where}: no page docs/{page}"
    if anchor:
        anchors = {slug(s) for s in sections(path)}
        assert anchor in anchors, f"{where}: docs/{page} has no heading #{anchor}"


def test_the_multi_person_tests_say_how_to_get_their_data(tmp_path):
    """Without the labelled COCO photos (not in the repository: three are CC BY-NC) the tests
    skip naming where they come from, the docs section that says how, and the variable."""
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
        assert "(docs/contributing.md#test-data: " in line and "BLAZEPOSE_COCO_DIR" in line
    page = (ROOT / "docs" / "contributing.md").read_text()
    commands = re.search(r"```text\n(git clone .*?)```", page, re.S).group(1)
    assert "sparse-checkout set tests/data/coco" in commands
    assert "export BLAZEPOSE_COCO_DIR=$PWD/mmpose/tests/data/coco" in commands
