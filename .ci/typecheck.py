"""Type-check the `blazepose_onnx` package with mypy (its settings: pyproject.toml's [tool.mypy]).

`python .ci/typecheck.py` in a venv with the [dev] extra; exits non-zero on any error (CI's
tests stage). The repository keeps the design card's folders (runtime/ is `blazepose_onnx`,
converter/ is `blazepose_onnx.converter`), which mypy cannot map, so the package is first laid
out as the wheel has it (the docs' hook, links under build/typecheck-src/) and the errors are
reported against the repository's own files.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_gen"))
from package_layout import lay_out  # noqa: E402  (docs/_gen is not a package)

LAYOUT = ROOT / "build" / "typecheck-src"  # pyproject's [tool.mypy] mypy_path
LINKED = re.compile(r"^(build/typecheck-src/[^:]+\.py)(?=:)", re.MULTILINE)


def main() -> int:
    lay_out(LAYOUT)
    os.chdir(ROOT)
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])

    def source(match: re.Match[str]) -> str:
        return os.path.relpath(os.path.realpath(match.group(1)), ROOT)

    sys.stdout.write(LINKED.sub(source, out))
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    sys.exit(main())
