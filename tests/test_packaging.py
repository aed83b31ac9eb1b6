"""What pip installs: one distinctive import package, the data it needs, flavour extras, and
an import that works wherever the user stands."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the tree's files (tracked or not, less what git ignores):
    a build/ folder left by an earlier build would otherwise keep files the tree no longer has."""
    out = tmp_path_factory.mktemp("wheel")
    tree = tmp_path_factory.mktemp("tree")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "-co", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("blazepose_onnx-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_installs_one_package_and_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "blazepose_onnx",
        wheel.name.split("-py3")[0] + ".dist-info",
    }
    for needed in (
        "blazepose_onnx/__init__.py",
        "blazepose_onnx/cli/main.py",
        "blazepose_onnx/cli/convert.py",
        "blazepose_onnx/converter/models/manifest.json",
        "blazepose_onnx/tasks/python/__init__.py",
        "blazepose_onnx/framework/formats/landmark_pb2.py",
        "blazepose_onnx/data/messi5.jpg",
        "blazepose_onnx/data/squat.mp4",
        "blazepose_onnx/data/SOURCES.md",
    ):
        assert needed in names, needed


@pytest.mark.slow
def test_the_wheel_is_marked_typed(wheel):
    """PEP 561: `py.typed` beside the package's __init__, so mypy and pyright read its hints."""
    names = zipfile.ZipFile(wheel).namelist()
    assert "blazepose_onnx/py.typed" in names


@pytest.mark.slow
def test_the_wheel_holds_every_module_of_the_source(wheel):
    """Every .py of runtime/ and converter/ is in the wheel where the package-dir maps it: a
    subpackage missing from pyproject's package list would be left out."""
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        f"{package}/{path.relative_to(folder).as_posix()}"
        for folder, package in ((ROOT / "runtime", "blazepose_onnx"),
                                (ROOT / "converter", "blazepose_onnx/converter"))
        for path in folder.rglob("*.py")
    }  # fmt: skip
    assert len(sources) > 100 and "blazepose_onnx/pipeline/pose_pipeline.py" in sources
    assert sorted(sources - names) == []


@pytest.mark.slow
def test_flavours_are_extras_and_none_is_a_base_dependency(wheel):
    with zipfile.ZipFile(wheel) as archive:
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(meta_name).decode())
        entry_points = archive.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    requires = metadata.get_all("Requires-Dist")
    base = [r for r in requires if "extra ==" not in r]
    assert not [r for r in base if r.startswith("onnxruntime")], base
    by_extra = {
        extra: [r.split(";")[0].strip() for r in requires if f'extra == "{extra}"' in r]
        for extra in ("cpu", "gpu", "openvino", "directml")
    }
    assert by_extra["cpu"] == ["onnxruntime>=1.20"]
    assert by_extra["gpu"] == ["onnxruntime-gpu[cuda,cudnn]>=1.20"]
    assert by_extra["openvino"] == ["onnxruntime-openvino>=1.20"]
    assert by_extra["directml"] == ["onnxruntime-directml>=1.20"]
    assert "blazepose = blazepose_onnx.cli.main:main" in entry_points
    assert "blazepose-convert = blazepose_onnx.cli.convert:main" in entry_points


def test_local_runtime_and_converter_modules_do_not_shadow_it(tmp_path):
    """The old top-level names were shadowed by a user's own runtime.py or converter/."""
    (tmp_path / "runtime.py").write_text("raise RuntimeError('the user module was imported')\n")
    (tmp_path / "converter").mkdir()
    (tmp_path / "converter" / "__init__.py").write_text("raise RuntimeError('user package')\n")
    done = subprocess.run(
        [sys.executable, "-c", "from blazepose_onnx import PoseLandmarker; "
         "import blazepose_onnx.cli.convert; print(PoseLandmarker.__module__)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "blazepose_onnx.pose_landmarker"


@pytest.mark.slow
def test_install_hints_name_how_this_package_was_installed(wheel, tmp_path):
    """An install from a wheel file is told to add extras to that file; from a checkout, to it."""
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    hint = subprocess.run(
        [sys.executable, "-c", "from blazepose_onnx.common.install import install_command as c; "
         "import blazepose_onnx; print(blazepose_onnx.__file__); print(c('cpu'))"],
        capture_output=True, text=True, env={"PYTHONPATH": str(target)}, cwd=tmp_path,
    )  # fmt: skip
    location, command = hint.stdout.splitlines()
    assert location.startswith(str(target)), hint.stderr
    assert command == f"pip install '{wheel}[cpu]'"
    from blazepose_onnx.common.install import install_command

    assert install_command("gpu") == f"pip install -e '{ROOT}[gpu]'"  # this editable checkout


@pytest.mark.parametrize(
    "command",
    [
        ["detect", "photo.jpg"],
        ["video", "clip.mp4", "--jsonl", "poses.jsonl"],
        ["extract", "clip.mp4", "--out", "dataset"],
        ["bench"],
        ["providers"],
    ],
)
def test_without_an_onnx_runtime_build_each_command_says_what_to_install(
    cli_without, tmp_path, command
):
    """One line naming the install command, never an import traceback (`cmd_detect` imported
    the pipeline, and so onnxruntime, before checking)."""
    done = cli_without(("onnxruntime",), *command, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        "blazepose: error: blazepose-onnx needs one ONNX Runtime build and none is installed: "
        f"pip install -e '{ROOT}[cpu]' (or [gpu], [openvino], [directml] in place of [cpu])"
    ], done.stderr


@pytest.mark.slow
def test_the_dev_extra_installs_what_the_dataset_examples_import(wheel):
    """The test set-up (`[cpu,dev]`) runs the datasets page's pandas and DuckDB examples: they
    were skipped there, pandas and DuckDB being in no extra."""
    import re
    from importlib.metadata import packages_distributions

    with zipfile.ZipFile(wheel) as archive:
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = Parser().parsestr(archive.read(meta_name).decode()).get_all("Requires-Dist")
    installed = {
        re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0].lower()
        for r in requires
        if "extra ==" not in r or 'extra == "dev"' in r
    }
    page = (ROOT / "docs" / "datasets.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    modules = {m for block in blocks for m in re.findall(r"^import (\w+)", block, re.M)}
    assert {"pandas", "duckdb", "numpy"} <= modules, modules
    for module in sorted(modules - set(sys.stdlib_module_names) - {"blazepose_onnx"}):
        distributions = {d.lower() for d in packages_distributions()[module]}
        assert distributions & installed, (module, distributions, sorted(installed))
