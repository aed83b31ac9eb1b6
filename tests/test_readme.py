"""The README's Python snippets run verbatim from an empty folder (with the shipped sample)."""

from __future__ import annotations

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
