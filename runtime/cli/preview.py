"""`--show`: annotated frames in an OpenCV window, where a display and a GUI build exist."""

from __future__ import annotations

import os
import re
import sys

import cv2
import numpy as np

from blazepose_onnx.errors import InputError

QUIT_KEYS = (ord("q"), 27)  # q, Esc


def gui_problem() -> str | None:
    """Why no window can be shown here, or None when one can."""
    gui = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    if gui is None or gui.group(1).upper() == "NONE":
        return (
            f"this OpenCV ({cv2.__version__}) has no GUI support (opencv-python-headless); "
            "for windows: pip uninstall -y opencv-python-headless && pip install "
            f"'opencv-python=={cv2.__version__}'"
        )
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


class Preview:
    """One window showing RGB frames; `show` returns False once the user pressed q or Esc."""

    def __init__(self, title: str = "blazepose") -> None:
        problem = gui_problem()
        if problem is not None:
            raise InputError(f"--show cannot open a window: {problem}")
        self.title = title

    def show(self, rgb: np.ndarray, wait_ms: int = 1) -> bool:
        """Show a frame; wait `wait_ms` for a key (0: until one is pressed)."""
        cv2.imshow(self.title, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        return cv2.waitKey(wait_ms) & 0xFF not in QUIT_KEYS

    def close(self) -> None:
        cv2.destroyWindow(self.title)
