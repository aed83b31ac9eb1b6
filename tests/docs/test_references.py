"""Every pointer to the documentation in the code (help texts, error messages, docstrings,
comments) leads somewhere: `README, Section` (also `README "Section"`, `README: Section`) names a
heading or a bold lead-in of README.md, and `docs/page.md#anchor` a page of the site and one of
its headings."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("runtime", "converter", "benchmarks")
README_REFERENCE = re.compile(r"README[,:]?\s+(?:\"([^\"]+)\"|([A-Z][^),;:\"\n]*))")
DOCS_REFERENCE = re.compile(r"\bdocs/([\w/-]+\.md)(?:#([\w-]+))?")
CODE_BLOCK = re.compile(r"^```.*?^```", re.S | re.M)


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


def references() -> list[tuple[str, str, str]]:
    """(where, kind, target) for every documentation pointer in the scanned code."""
    found = []
    for folder in SCANNED:
        for source in sorted((ROOT / folder).rglob("*.py")):
            text = source.read_text()
            for match in README_REFERENCE.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                target = (match[1] or match[2]).strip()
                found.append((f"{source.relative_to(ROOT)}:{line}", "README", target))
            for match in DOCS_REFERENCE.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                target = match[1] + (f"#{match[2]}" if match[2] else "")
                found.append((f"{source.relative_to(ROOT)}:{line}", "docs", target))
    return found


REFERENCES = references()


def test_the_scan_finds_the_references():
    """The patterns still match how the code writes them (a scan that finds nothing passes)."""
    kinds = [kind for _, kind, _ in REFERENCES]
    assert kinds.count("README") >= 5 and kinds.count("docs") >= 1, REFERENCES


@pytest.mark.parametrize("where, kind, target", REFERENCES, ids=[r[0] for r in REFERENCES])
def test_reference_points_to_a_section_that_exists(where, kind, target):
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
