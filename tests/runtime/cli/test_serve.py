"""`blazepose serve` from the command line (the Triton tests: tests/runtime/serving/)."""

from __future__ import annotations

import os
import subprocess
import sys

from blazepose_onnx.common.install import install_command


def test_serve_triton_without_the_extra_says_so_and_leaves_no_workspace(tmp_path, one_line_error):
    """pytriton not importable: one error line naming the extra, no folder left in the temp dir."""
    repository = tmp_path / "repo"
    (repository / "pose_image").mkdir(parents=True)
    (repository / "pose_image" / "config.pbtxt").write_text('backend: "python"\n')
    temp = tmp_path / "tmp"
    temp.mkdir()
    code = (
        "import sys; sys.modules['pytriton'] = None; from blazepose_onnx.cli.main import main; "
        f"sys.exit(main(['serve', 'triton', {str(repository)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    one_line_error(done, f"needs pytriton, which is not installed: {install_command('triton')}")
    assert [p for p in temp.iterdir() if p.is_dir()] == []  # (onnxruntime writes a .ses file)
