"""Frames over time: one step per frame under a policy (`pose_stream.PoseStream`), landmark-
driven ROI tracking, people tracked with lasting ids (Kalman boxes), smoothing, timestamp
checks, LIVE_STREAM delivery and a landmarker's lifecycle (calls in flight and close)."""
