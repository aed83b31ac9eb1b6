"""The README's dataset examples run verbatim: its first `blazepose extract` command (on the
shipped sample photo and clip), then its pandas and DuckDB snippets reading the dataset."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTION = (ROOT / "README.md").read_text().split("## Datasets: blazepose extract")[1]
SECTION = SECTION.split("\n## ")[0]


def _python_block(marker: str) -> str:
    return next(b for b in re.findall(r"```python\n(.*?)```", SECTION, re.S) if marker in b)


@pytest.fixture()
def dataset_folder(cli_env, tmp_path) -> Path:
    """The folder the README's first command ran in (from the repository's runtime/data)."""
    command = shlex.split(re.search(r"```bash\n(blazepose extract .*?)\n```", SECTION).group(1))
    command = [str(ROOT / arg) if arg == "runtime/data" else arg for arg in command[1:]]
    blazepose = str(Path(sys.executable).with_name("blazepose"))
    done = subprocess.run(
        [blazepose, *command], cwd=tmp_path, capture_output=True, text=True, env=cli_env
    )
    assert done.returncode == 0, done.stderr
    return tmp_path


def _run(snippet: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", snippet], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_pandas_and_duckdb_examples_run(dataset_folder):
    pytest.importorskip("pandas")
    pytest.importorskip("duckdb")
    pandas_out = _run(_python_block("import pandas"), dataset_folder).splitlines()
    assert pandas_out[1:] == [
        "    ok       1                 1      1",  # messi5.jpg
        "    ok      60                60     60",  # squat.mp4
        "(61, 33, 5)",
    ]
    duckdb_out = _run(_python_block("import duckdb"), dataset_folder)
    assert duckdb_out == "[('photo', 1, 1, 0.28), ('video', 60, 60, 0.45)]\n"
