"""Fail a CI stage whose pytest run ran no test or skipped one: the stage exists for them.

    python .ci/stage_tests.py REPORT.xml    # REPORT.xml from pytest --junitxml

A stage with its extra installed (tf2onnx, triton, openvino) that skips its tests, or selects
none, would otherwise pass green while checking nothing. Prints one line per skipped test.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def problems(report: str) -> list[str]:
    """What is wrong with the run in `report`: nothing ran, or tests were skipped."""
    cases = ET.parse(report).getroot().iter("testcase")
    ran, found = 0, []
    for case in cases:
        skipped = case.find("skipped")
        if skipped is None:
            ran += 1
        else:
            name = f"{case.get('classname')}::{case.get('name')}"
            found.append(f"skipped {name}: {skipped.get('message', '')}")
    if ran == 0:
        found.append("no test ran")
    return found


def main(argv: list[str]) -> int:
    (report,) = argv
    found = problems(report)
    for line in found:
        print(f"{report}: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
