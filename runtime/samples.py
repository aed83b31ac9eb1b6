"""Sample media shipped with the package (a photo and a short clip), for first runs and `bench`.

    from blazepose_onnx import samples
    samples.IMAGE  # path of a full-body photo (1500x1000)
    samples.VIDEO  # path of a 60-frame, one-person clip (406x720, 30 fps)

Sources and licences: `data/SOURCES.md` beside this module.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
IMAGE = DATA_DIR / "messi5.jpg"
VIDEO = DATA_DIR / "squat.mp4"
