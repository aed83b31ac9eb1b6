"""Every Python and shell example of README.md and docs/**/*.md runs here,
collected by walking the Markdown (not by heading), so an example cannot rot.

Each runs from an empty temporary folder with the shared model folder. An HTML comment just
before a block says otherwise (contributing.md, Documentation):
    <!-- example: checkout -->          the folder gets the clone's tests/data and runtime/data
    <!-- example: id=NAME -->           names the block; after=NAME runs in NAME's folder, after it
    <!-- example: stage=ray -->         needs an extra only that CI stage has (pytest -m ray)
    <!-- example: not-run=REASON -->    REASON must be one of NOT_RUN: it is syntax-checked only
What an example prints or writes is checked where CHECKS names it, keyed by a line of its code.

Also a script for .ci/run: `python tests/docs/test_examples.py FILE TEXT` prints the one
example of FILE whose code contains TEXT.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"python": "python", "bash": "bash", "sh": "bash", "shell": "bash", "console": "bash"}
# Why an example may not run in the tests; anything else in not-run= fails the collector.
NOT_RUN = {
    "install": "creates an environment or installs packages (CI's wheel, lowest and "
    "beside-MediaPipe stages run these installs)",
    "gpu": "needs an NVIDIA GPU (benchmarks/gpu_check.py runs on a lent GPU machine)",
    "camera": "needs a camera or a live stream, and a display",
    "server": "needs a Triton server running until stopped (tests/runtime/serving start one in "
    "CI's triton stage)",
    "docker": "needs Docker and NVIDIA's Triton container",
    "mediapipe": "needs MediaPipe installed beside (CI's beside-MediaPipe stage, the goldens)",
    "your-files": "names the reader's own data (videos/, photos/, @list.txt)",
    "suite": "runs the test suite or CI itself",
}
STAGES = ("ray", "triton")  # pytest markers of CI stages with extras (.ci/run)
CHECKOUT_DATA = ("tests/data", "runtime/data")
FENCE = re.compile(
    r"(?:<!--\s*example:(?P<marks>[^>]*?)-->\s*\n)?^```(?P<lang>[\w-]*)[^\n]*\n(?P<code>.*?)^```",
    re.S | re.M,
)


@dataclass
class Example:
    """One fenced code block of a Markdown file, and how its comment says to run it."""

    path: Path
    line: int
    language: str
    code: str
    marks: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def not_run(self) -> str | None:
        return self.marks.get("not-run")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def parse_marks(text: str) -> dict[str, str]:
    """`checkout id=NAME stage=ray` -> {"checkout": "", "id": "NAME", "stage": "ray"}."""
    return dict((*word.split("=", 1), "")[:2] for word in text.split())


def examples(path: Path) -> list[Example]:
    """The Python and shell blocks of one Markdown file, in order."""
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        language = LANGUAGES.get(match["lang"])
        if language is None:
            if match["marks"] is not None:
                raise ValueError(f"{path}: an example comment before a ```{match['lang']} block")
            continue
        line = text.count("\n", 0, match.start("lang")) + 1
        code = match["code"]
        if match["lang"] == "console":  # the commands are the lines after the prompt
            code = "".join(s[2:] for s in code.splitlines(True) if s.startswith("$ "))
        found.append(Example(path, line, language, code, parse_marks(match["marks"] or "")))
    return found


def example_by_text(path: Path, text: str) -> Example:
    (example,) = [e for e in examples(path) if text in e.code]
    return example


ALL = [example for path in markdown_files() for example in examples(path)]


def prepare(example: Example, folder: Path) -> None:
    if "checkout" in example.marks:
        for data in CHECKOUT_DATA:
            link = folder / data
            if not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(ROOT / data)


def run(example: Example, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the example in `folder` as a reader would: python -c, or bash with -e, pipefail."""
    bin_dir = str(Path(sys.executable).parent)  # blazepose, python: this environment's
    env = {**env, "PATH": f"{bin_dir}:{env.get('PATH', '')}"}
    command = (
        [sys.executable, "-c", example.code]
        if example.language == "python"
        else ["bash", "-e", "-o", "pipefail", "-c", example.code]
    )
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=600)


# What an example must print or write, keyed by a line of its code (kept from the README tests).
def _quick_start(out: str, folder: Path) -> None:
    assert "(1, 33, 5)" in out, out


def _drawing(out: str, folder: Path) -> None:
    assert (folder / "annotated.png").stat().st_size > 100_000


def _tasks_port(out: str, folder: Path) -> None:
    assert out == "1 pose\n", out


def _legacy_port(out: str, folder: Path) -> None:
    assert out.startswith("NormalizedLandmark(x=0.28"), out


def _pandas(out: str, folder: Path) -> None:
    assert out.splitlines()[1:] == [
        "    ok       1                 1      1",  # messi5.jpg
        "    ok      60                60     60",  # squat.mp4
        "(61, 33, 5)",
    ], out


def _duckdb(out: str, folder: Path) -> None:
    assert out == "[('photo', 1, 1, 0.28), ('video', 60, 60, 0.45)]\n", out


def _command_line(out: str, folder: Path) -> None:
    """The CLI page's examples: each output written, with the poses the inputs hold."""
    result = json.loads((folder / "result.json").read_text())
    assert [len(r["pose_landmarks"]) for r in result["images"].values()] == [1]
    assert json.loads((folder / "coco.json").read_text())["keypoints"] == "coco17"
    assert len(list((folder / "out").glob("*_pose.jpg"))) == 4  # the four photos, JPEG as read
    assert (folder / "squat_pose.mp4").stat().st_size > 10_000
    assert len((folder / "squat.jsonl").read_text().splitlines()) == 60  # the shipped clip
    for stem in ("squat", "dance"):  # several inputs: one file each, --max-frames 30
        assert len((folder / "poses" / f"{stem}.jsonl").read_text().splitlines()) == 30
        assert (folder / "poses" / f"{stem}.csv").stat().st_size > 0
    assert "[0, 6, 12, 18, 24, 30, 36, 42, 48, 54]" in out  # --fps 5 of a 30 fps clip


def _person_boxes(out: str, folder: Path) -> None:
    assert out == "1 3 [3, 0]\n", out  # the detector alone, a pose per box, an empty list


def _one_option(out: str, folder: Path) -> None:
    """The three dancers, one id each; the detector on few of the 120 frames (measured 13)."""
    ids, runs = out.partition(" detector runs in 120 frames\n")[0].rsplit(" ", 1)
    assert ids == "[0, 1, 2]" and int(runs) <= 15, out


CHECKS: dict[str, Callable[[str, Path], None]] = {
    "landmarks, world = result.as_arrays()": _quick_start,
    'cv2.imwrite("annotated.png"': _drawing,
    "detector = vision.PoseLandmarker.create_from_options(options)": _tasks_port,
    "with mp_pose.Pose(static_image_mode=True": _legacy_port,
    'manifest = pd.read_parquet("dataset/manifest.parquet")': _pandas,
    "print(duckdb.sql(query).fetchall())": _duckdb,
    "--fps 5 --jsonl - | python -c": _command_line,
    "boxed = landmarker.detect(rgb, person_boxes=boxes)": _person_boxes,
    'landmarker.stats["detector_runs"], "detector runs in"': _one_option,
}


def checks_for(example: Example) -> list[Callable[[str, Path], None]]:
    return [check for key, check in CHECKS.items() if key in example.code]


if __name__ == "__main__":  # .ci/run: print one example's code
    print(example_by_text(Path(sys.argv[1]), sys.argv[2]).code)
    sys.exit(0)

import pytest  # noqa: E402  (the script above runs without pytest)


def _param(example: Example):
    marks = [getattr(pytest.mark, example.marks["stage"])] if "stage" in example.marks else []
    return pytest.param(example, id=example.name, marks=marks)


def test_examples_are_found_and_marked_with_accepted_reasons():
    """The walk finds the examples (the README's and every page's), each not-run reason and
    stage is one this test accepts, ids are unique per page and every after= names one."""
    assert len(ALL) > 40, len(ALL)
    assert {e.path.name for e in ALL} >= {"README.md", "python.md", "cli.md", "datasets.md"}
    for example in ALL:
        assert example.not_run in (None, *NOT_RUN), (example.name, example.not_run)
        assert example.marks.get("stage") in (None, *STAGES), example.name
        unknown = set(example.marks) - {"checkout", "id", "after", "stage", "not-run"}
        assert not unknown, (example.name, unknown)
        if "after" in example.marks:
            named = [
                e for e in examples(example.path) if e.marks.get("id") == example.marks["after"]
            ]
            assert len(named) == 1, (example.name, example.marks["after"])


def test_every_check_has_its_example():
    """Each expected output belongs to an example that exists and runs: removing or marking
    an example does not silently drop what it was checked to print."""
    for key in CHECKS:
        runs = [e for e in ALL if key in e.code and e.not_run is None]
        assert runs, f"no example that runs contains {key!r}"


@pytest.mark.parametrize("example", [e for e in ALL if e.not_run is not None], ids=lambda e: e.name)
def test_examples_not_run_still_parse(example: Example):
    """Blocks that cannot run here are still valid Python or shell."""
    if example.language == "python":
        compile(example.code, example.name, "exec")
    else:
        done = subprocess.run(["bash", "-n", "-c", example.code], capture_output=True, text=True)
        assert done.returncode == 0, (example.name, done.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("example", [_param(e) for e in ALL if e.not_run is None])
def test_example_runs(example: Example, cli_env, tmp_path):
    """The example runs from an empty folder (after the example it continues, if any) and
    prints or writes what CHECKS expects of it."""
    chain = [example]
    while "after" in chain[0].marks:
        (first,) = [
            e
            for e in ALL
            if e.path == example.path and e.marks.get("id") == chain[0].marks["after"]
        ]
        chain.insert(0, first)
    for step in chain:
        prepare(step, tmp_path)
        done = run(step, tmp_path, cli_env)
        assert done.returncode == 0, f"{step.name}\n{step.code}\n{done.stdout}\n{done.stderr}"
    for check in checks_for(example):
        check(done.stdout, tmp_path)
