"""Start-up cost of the `blazepose` command, measured with `python -X importtime`.

    python benchmarks/startup.py [--runs 5]

For `--version`, `--help` and `detect` on the shipped photo (converted models, session cache
warm), prints the median wall time of each command, the import time `-X importtime` reports for
its top-level imports, and whether `onnx` was imported (it must not be: it is needed only to
convert models and to build the session cache).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blazepose_onnx import samples

COMMANDS = {
    "--version": ["--version"],
    "--help": ["--help"],
    "detect": ["detect", str(samples.IMAGE), "--model", "lite", "--json", "{out}"],
}
ENTRY = "import sys; from blazepose_onnx.cli.main import main; sys.exit(main(sys.argv[1:]))"


def run_once(args: list[str]) -> tuple[float, float, bool]:
    """Wall seconds, import seconds of top-level modules, and whether onnx was imported."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", ENTRY, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    imports = re.findall(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", done.stderr)
    top = sum(int(total) for total, indent, _ in imports if not indent)
    onnx = any(name == "onnx" for _, _, name in imports)
    return wall, top / 1e6, onnx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "r.json")

        def args(name: str) -> list[str]:
            return [a.format(out=out) for a in COMMANDS[name]]

        subprocess.run([sys.executable, "-c", ENTRY, *args("detect")], check=True,
                       capture_output=True, text=True)  # fmt: skip
        print("| command | wall s (median) | imports s | imports onnx |")
        print("|---|---|---|---|")
        for name in COMMANDS:
            results = [run_once(args(name)) for _ in range(runs)]
            wall = statistics.median(r[0] for r in results)
            imports = statistics.median(r[1] for r in results)
            print(f"| {name} | {wall:.2f} | {imports:.2f} | {any(r[2] for r in results)} |")


if __name__ == "__main__":
    main()
