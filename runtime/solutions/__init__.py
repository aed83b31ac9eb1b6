"""MediaPipe's legacy `mp.solutions` API (removed from MediaPipe in 0.10.30), for pose:

    from blazepose_onnx.solutions import pose as mp_pose, drawing_utils, drawing_styles
    # or: import blazepose_onnx as mp; mp.solutions.pose.Pose(...)

`pose.Pose` follows the legacy graph's semantics (its NMS, tracking and smoothing), not the
Tasks ones: a different composition of the same pipeline stages.
"""

from blazepose_onnx.solutions import drawing_styles, drawing_utils, pose

__all__ = ["drawing_styles", "drawing_utils", "pose"]
