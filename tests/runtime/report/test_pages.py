"""`blazepose bench --report`, `bench report` and `bench compare`, looked at as a person would:
real lite-model runs, each page rendered by headless Chromium (Debian's `chromium`), its DOM
after load and its screenshot checked against the JSON the run wrote.

Skipped, saying so, only where chromium is not installed; CI installs it and sets
BLAZEPOSE_TEST_CHROMIUM=required, which turns that skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / "data"
MEDIAPIPE_RUN = DATA / "bench_mediapipe_lite.json"  # a real run that timed MediaPipe 1.2.2
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("BLAZEPOSE_TEST_CHROMIUM") == "required"
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRED,
    reason="SKIPPED: no chromium to render the report (apt-get install -y chromium; CI has it)",
)
OURS_BGR, MEDIAPIPE_BGR = (0xB4, 0x6F, 0x1F), (0x0A, 0x71, 0xE8)  # the charts' two colours
CHART_IDS = {"latency": r"latency-(\d+)", "fps": r"fps-(\d+)", "split": r"split-(\d+)-\w+"}


def _bench(env: dict, out: Path, *args: str) -> None:
    """A real `blazepose bench` of the lite model on the CPU."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("blazepose")), "bench", "--providers", "cpu",
         "--variants", "lite", "--warmup", "2", "--json", str(out), *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def runs(model_dir, tmp_path_factory) -> Path:
    """Two real runs: a.json (image batch 1 and 2, video; 8 steps; with --report a/) and
    b.json (image batch 1 of another photo; 6 steps)."""
    folder = tmp_path_factory.mktemp("bench-runs")
    env = {**os.environ, "BLAZEPOSE_MODEL_DIR": str(model_dir)}
    _bench(env, folder / "a.json", "--modes", "image,video", "--batch", "1,2",
           "--iterations", "8", "--report", str(folder / "a"))  # fmt: skip
    _bench(env, folder / "b.json", "--modes", "image", "--iterations", "6",
           "--image", str(DATA / "bus.jpg"))  # fmt: skip
    return folder


class _Tables(HTMLParser):
    """Per table id, its rows as {data-field: text} of the numeric cells; and the notes."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.notes: list[str] = []
        self._table = self._field = None
        self._note = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append({})
        elif tag == "td":
            self._field = attrs.get("data-field")
        elif tag == "p" and attrs.get("class") == "note":
            self._note = True
            self.notes.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "td":
            self._field = None
        elif tag == "p":
            self._note = False

    def handle_data(self, data: str) -> None:
        if self._field and self._table is not None:
            self._table[-1][self._field] = data
        if self._note:
            self.notes[-1] += data


def assert_drawn(dom: str, shot: np.ndarray, rows: int, colours: list[tuple[int, int, int]]):
    """Three charts of `rows` rows each in the DOM, every row's element there; a screenshot
    that is not blank and shows each of `colours` (ours, MediaPipe's, other runs')."""
    figure = r'<figure class="chart" data-chart="(\w+)" data-rows="(\d+)">(.*?)</figure>'
    charts = re.findall(figure, dom, re.S)
    assert [name for name, _, _ in charts] == ["latency", "fps", "split"]
    for name, declared, svg in charts:
        drawn = {int(k) for k in re.findall(f'id="{CHART_IDS[name]}"', svg)}
        assert int(declared) == rows and drawn == set(range(rows)), (name, drawn)
    grey = cv2.cvtColor(shot, cv2.COLOR_BGR2GRAY)
    assert grey.std() > 15, grey.std()  # measured 31.7-34.0 on these pages; a blank page is 0
    for colour in colours:
        near = np.all(np.abs(shot.astype(int) - colour) <= 6, axis=2)
        assert near.mean() > 0.0004, (colour, near.mean())  # measured 0.00098-0.0077


def _cases(run: dict) -> list[dict[str, str]]:
    """What the page's cases table must say for each result of `run`, formatted as shown."""
    expected = []
    for result in run["results"]:
        p = result["percentiles_ms"]
        row = {q: f"{p['total'][q]:.2f}" for q in ("p50", "p90", "p99")}
        row |= {s: f"{p[s]['p50']:.2f}" for s in ("detector", "landmarker", "other") if s in p}
        row |= {"iterations": str(result["iterations"])}
        row |= {"fps": f"{result['frames_per_second']:.1f}"}
        expected.append(row)
    return expected


@pytest.mark.slow
def test_bench_json_keeps_every_timed_step_and_real_percentiles(runs):
    """The page's only source: per case exactly `iterations` steps (warm-up excluded), and
    p50/p90/p99 that are the percentiles of those steps, not a mean or anything else."""
    run = json.loads((runs / "a.json").read_text())
    assert (run["format"], run["version"], run["warmup"], run["iterations"]) == (
        "blazepose-bench", 2, 2, 8)  # fmt: skip
    assert run["command"].startswith("blazepose bench --providers cpu")
    assert len(run["inputs"]["image"]["sha256"]) == 64 and run["machine"]["packages"]
    for result in run["results"]:
        assert result["warmup"] == 2
        for stage, steps in result["samples_ms"].items():
            assert len(steps) == 8
            real = np.percentile(steps, (50, 90, 99))
            shown = [result["percentiles_ms"][stage][q] for q in ("p50", "p90", "p99")]
            assert np.allclose(shown, real, atol=1e-3), (stage, shown, real)  # steps kept to 1e-4


@pytest.mark.slow
@needs_chromium
def test_run_page_in_a_browser_shows_the_json(runs, tmp_path, chromium):
    run = json.loads((runs / "a.json").read_text())
    assert (runs / "a" / "bench.json").read_bytes() == (runs / "a.json").read_bytes()
    dom, shot = chromium(runs / "a" / "index.html", tmp_path)
    assert_drawn(dom, shot, rows=3, colours=[OURS_BGR])
    tables = _Tables()
    tables.feed(dom)
    shown = tables.tables["cases"][1:]
    assert [{k: row[k] for k in want} for row, want in zip(shown, _cases(run), strict=True)] == (
        _cases(run)
    )
    assert "2 untimed warm-up steps, then 8 timed ones" in dom
    assert "MediaPipe was not timed in this run" in " ".join(tables.notes)


@needs_chromium
def test_page_with_mediapipe_gives_its_figures_and_ratio(cli, tmp_path, chromium):
    """From a real run that timed MediaPipe 1.2.2 beside ours (lite, 20 steps)."""
    run = json.loads(MEDIAPIPE_RUN.read_text())
    done = cli("bench", "report", str(MEDIAPIPE_RUN), "--out", str(tmp_path / "mp"))
    assert done.returncode == 0, done.stderr
    dom, shot = chromium(tmp_path / "mp" / "index.html", tmp_path)
    assert_drawn(dom, shot, rows=4, colours=[OURS_BGR, MEDIAPIPE_BGR])
    tables = _Tables()
    tables.feed(dom)
    shown = tables.tables["cases"][1:]
    assert [{k: row[k] for k in want} for row, want in zip(shown, _cases(run), strict=True)] == (
        _cases(run)
    )
    results = {(r["implementation"][:9], r["mode"]): r for r in run["results"]}
    for mode in ("image", "video"):
        ours, theirs = results["blazepose", mode], results["MediaPipe", mode]
        ratio = f"{ours['frames_per_second'] / theirs['frames_per_second']:.2f}x"
        assert shown[[r["mode"] for r in run["results"]].index(mode)]["vs_mediapipe"] == ratio
        assert f"{ratio} the throughput of MediaPipe 1.2.2" in dom
        time_ratio = (
            ours["percentiles_ms"]["total"]["p50"] / theirs["percentiles_ms"]["total"]["p50"]
        )
        assert f"takes {time_ratio:.2f}x MediaPipe" in dom


@pytest.mark.slow
def test_report_rebuilt_from_the_json_alone_is_the_same_page(cli, runs, tmp_path):
    done = cli("bench", "report", str(runs / "a" / "bench.json"), "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "index.html").read_bytes() == (runs / "a" / "index.html").read_bytes()


@pytest.mark.slow
@needs_chromium
def test_compare_page_in_a_browser_shows_ratios_and_notes(cli, runs, tmp_path, chromium):
    a, b = (json.loads((runs / name).read_text()) for name in ("a.json", "b.json"))
    done = cli("bench", "compare", str(runs / "a.json"), str(runs / "b.json"),
               "--report", str(tmp_path / "cmp"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "note: b.json timed 6 steps after 2 warm-up, a.json 8 after 2" in done.stdout
    dom, shot = chromium(tmp_path / "cmp" / "index.html", tmp_path)
    # a's three cases and b's one (image batch 1), grouped by case: four rows
    assert_drawn(dom, shot, rows=4, colours=[OURS_BGR, MEDIAPIPE_BGR])
    tables = _Tables()
    tables.feed(dom)
    (row,) = tables.tables["ratios"][1:]
    base, other = (run["results"][0]["percentiles_ms"]["total"] for run in (a, b))
    assert row["base_p50"] == f"{base['p50']:.2f}" and row["p50"] == f"{other['p50']:.2f}"
    assert row["time_ratio"] == f"{other['p50'] / base['p50']:.3f}"
    assert row["spread"] == f"{other['p90'] / other['p50']:.2f}"
    assert any("timed 6 steps after 2 warm-up" in note for note in tables.notes)
    assert "b.json timed other inputs than a.json (image or video differ)" in tables.notes


@pytest.mark.slow
def test_compare_notes_a_noisy_case(cli, runs, tmp_path):
    """b.json with its one case's p90 set to twice its median, as on a busy machine."""
    noisy = json.loads((runs / "b.json").read_text())
    total = noisy["results"][0]["percentiles_ms"]["total"]
    total["p90"] = 2 * total["p50"]
    (tmp_path / "noisy.json").write_text(json.dumps(noisy))
    done = cli("bench", "compare", str(runs / "a.json"), str(tmp_path / "noisy.json"))
    assert done.returncode == 0, done.stderr
    assert "note: noisy.json: cpu fp32 lite image batch 1 is noisy (p90/median 2.00 > 1.5)" in (
        done.stdout
    )


@pytest.mark.slow
def test_compare_names_runs_by_as_much_of_their_path_as_tells_them_apart(cli, runs, tmp_path):
    """Two --report folders each hold a bench.json: labelled by the file name alone, the two
    could not be told apart."""
    (tmp_path / "b").mkdir()
    shutil.copy(runs / "b.json", tmp_path / "b" / "bench.json")
    done = cli(
        "bench", "compare", str(runs / "a" / "bench.json"), str(tmp_path / "b" / "bench.json")
    )
    assert done.returncode == 0, done.stderr
    assert "note: b/bench.json timed 6 steps after 2 warm-up, a/bench.json 8 after 2" in (
        done.stdout
    )
    assert "cpu fp32 lite image batch 1: b/bench.json " in done.stdout


@pytest.mark.slow
def test_bad_inputs_are_one_line_errors(cli, one_line_error, runs, tmp_path):
    legacy = json.loads((runs / "b.json").read_text())
    del legacy["format"], legacy["version"]
    (tmp_path / "v1.json").write_text(json.dumps(legacy))
    (tmp_path / "other.json").write_text('{"images": {}}')
    cases = [
        (["report", str(tmp_path / "missing.json")], "cannot read"),
        (["report", str(DATA / "messi5.jpg")], "cannot read"),
        (["report", str(tmp_path / "other.json")], "is not a `blazepose bench --json` file"),
        (["report", str(tmp_path / "v1.json")], "is bench JSON version 1, this blazepose reads"),
        (["compare", str(runs / "a.json")], "needs at least two bench JSON files"),
    ]
    for args, fragment in cases:
        out = tmp_path / "out"
        done = cli("bench", *args, *(["--out", str(out)] if args[0] == "report" else []))
        one_line_error(done, fragment)
        assert not out.exists()


@pytest.mark.slow
def test_timing_options_given_to_report_or_compare_are_refused_not_ignored(cli, runs, tmp_path):
    out = tmp_path / "out"
    for page in (["report", str(runs / "a.json"), "--out", str(out)],
                 ["compare", str(runs / "a.json"), str(runs / "b.json")]):  # fmt: skip
        done = cli("bench", "--iterations", "5", "--modes", "video", "--json", "o.json", *page)
        assert done.returncode == 2, done.stderr
        assert "--modes, --iterations, --json would be ignored" in done.stderr
        assert done.stdout == "" and not out.exists()


@pytest.mark.slow
def test_report_never_replaces_a_file_it_did_not_write(cli, one_line_error, runs, tmp_path):
    (tmp_path / "index.html").write_text("<html>someone's page</html>")
    done = cli("bench", "report", str(runs / "a.json"), "--out", str(tmp_path))
    one_line_error(done, "was not written by blazepose bench: remove it or choose another")
    assert (tmp_path / "index.html").read_text() == "<html>someone's page</html>"
    assert not (tmp_path / "bench.json").exists()
    (tmp_path / "index.html").unlink()
    (tmp_path / "index.html").symlink_to(runs / "a" / "index.html")
    done = cli("bench", "report", str(runs / "a.json"), "--out", str(tmp_path))
    one_line_error(done, "exists and is not a regular file")
    done = cli("bench", "report", str(runs / "a.json"), "--out", str(runs / "b.json"))
    one_line_error(done, "exists and is not a folder")


@pytest.mark.slow
def test_placement_is_kept_per_case_and_a_partial_one_flagged(cli, runs, tmp_path):
    """Each case keeps where ONNX Runtime placed each model's nodes; the page shows it, and a
    case whose provider runs only part of a model (the JSON's `partial_placement`, as a run on
    such a provider writes it) is marked PARTIAL with the counts."""
    data = json.loads((runs / "a.json").read_text())
    for result in data["results"]:
        assert set(result["placement"]) == {"detector", "landmarker"}
        for placed in result["placement"].values():
            assert placed["nodes"] == {"cpu": placed["total"]} and placed["total"] > 100
        assert result["partial_placement"] == []
    page = (runs / "a" / "index.html").read_text()
    assert page.count("all nodes on cpu") == len(data["results"])
    flagged = "landmarker 160/165 nodes (5 on cpu)"
    data["results"][0]["partial_placement"] = [flagged]
    edited = tmp_path / "partial.json"
    edited.write_text(json.dumps(data))
    done = cli("bench", "report", str(edited), "--out", str(tmp_path / "page"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "page" / "index.html").read_text()
    assert f"PARTIAL: {flagged}" in page
    assert page.count("all nodes on cpu") == len(data["results"]) - 1
