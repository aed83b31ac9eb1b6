"""VIDEO-mode parity with MediaPipe 1.2.2 (tracking and smoothing), 120 frames per clip.

Poses are matched by distance in frames where both find the same number of poses. Each bound is
about 1.5x the worst figure measured with the newest versions, the lowest declared ones
(.ci/constraints-lowest.txt) and onnxruntime-openvino (the figures in brackets, worst first).
squat.mp4 (one person, tracked: the detector runs once): every frame has the same pose count;
mean |dx|,|dy| <= 0.00135 over frames [0.0009 lite; full 0.0006, heavy 0.0005; with the legacy
rule of a ROI from smoothed auxiliary points it is 0.0014-0.0019]; 99th percentile of visible
landmarks' |dx|,|dy| <= 0.009 [0.0058] (max <= 0.1 [0.072: lite's right wrist in frame 87 on
an AVX2-only CPU, 0.041 where AVX-512 was exposed: ONNX Runtime's kernels differ by CPU and the
ROI feedback loop amplifies their last bits in a single landmark, while the mean and the 99th
percentile stay put]); world landmarks mean |d| <= 0.005 m [0.0039]. Smoothing starts on
frame 0 as in MediaPipe 1.x, so frame 1 is smoothed too: its mean |dx|,|dy| <= 0.0012 [0.0008]
and world mean <= 0.0035 m [0.0023] (with a filter that skipped frame 0 they were
0.0018-0.0027 and 5.3-8.5 mm).
dance.mp4 (three dancers, num_poses=3, so the detector runs every frame): its second dancer
scores right at the 0.5 detection threshold (0.493-0.502 in frames 72-75), where single-pixel
rounding decides whether a detection replaces a tracked ROI. Same pose count on >= 97% of
frames [97.5%]; per-frame mean |dx|,|dy|: median <= 0.0044 [0.0029 lite, 0.0028 full, 0.0011
heavy; 0.00003-0.00009 with the lowest versions], 90th percentile <= 0.02 [0.013]; world
landmarks (small dancers, 360x640) median <= 0.01 m [0.0085].
Signed bias: the mean of (ours - MediaPipe's) dx and dy over the visible landmarks of every
frame, where noise cancels and a systematic shift does not (the means of |dx|, |dy| above hide
one: every landmark moved by one crop pixel, 1/256 of the ROI, passes heavy/dance's bounds).
|mean dx|, |mean dy| <= 0.00015 on squat [0.0001: full, lowest versions; newest 0.00008,
OpenVINO 0.00008], <= 0.0015 on dance [0.0010: full dx, newest and OpenVINO; lowest 0.00005];
that one-pixel shift gives 0.0060, 0.0031-0.0034 on squat and 0.0041-0.0050, 0.0027-0.0028 on
dance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from blazepose_onnx import PoseLandmarker, PoseLandmarkerOptions, RunningMode

GOLDEN = json.loads((Path(__file__).parent.parent / "golden" / "video.json").read_text())
STEP_MS = GOLDEN["meta"]["video_timestamp_step_ms"]
REQUIRED_COUNT_AGREEMENT = {"squat.mp4": 1.0, "dance.mp4": 0.97}
SIGNED_BIAS_BOUND = {"squat.mp4": 0.00015, "dance.mp4": 0.0015}  # |mean dx|, |mean dy|


def match_poses(ours: np.ndarray, gold: np.ndarray) -> list[tuple[int, int]]:
    """Greedy pairs (ours, gold) by mean landmark distance, closest first."""
    cost = np.abs(ours[:, None, :, :2] - gold[None, :, :, :2]).mean(axis=(2, 3))
    pairs, used_ours, used_gold = [], set(), set()
    for flat in np.argsort(cost, axis=None):
        i, j = np.unravel_index(flat, cost.shape)
        if i not in used_ours and j not in used_gold:
            pairs.append((int(i), int(j)))
            used_ours.add(i)
            used_gold.add(j)
    return pairs


def frame_differences(case: str, clips: dict, providers: list[str]) -> dict:
    """Per matched pose: mean |dx|,|dy|, visible |dx|,|dy|, world mean; and count agreement."""
    variant, clip, num_poses = case.split("/")
    options = PoseLandmarkerOptions(
        model=variant, num_poses=int(num_poses), running_mode=RunningMode.VIDEO, providers=providers
    )
    same_count, means, visible, signed, world, frame_one = 0, [], [], [], [], None
    with PoseLandmarker.create_from_options(options) as landmarker:
        for index, (frame, gold) in enumerate(
            zip(clips[clip], GOLDEN["goldens"][case], strict=True)
        ):
            ours, ours_world = landmarker.detect_for_video(frame, index * STEP_MS).as_arrays()
            gold_lm = np.array(gold["landmarks"]).reshape(-1, 33, 5)
            gold_world = np.array(gold["world_landmarks"]).reshape(-1, 33, 5)
            if len(ours) != len(gold_lm):
                continue
            same_count += 1
            for i, j in match_poses(ours, gold_lm):
                shown = gold_lm[j, :, 3] >= 0.5
                signed.append((ours[i, :, :2] - gold_lm[j, :, :2])[shown])  # (visible, 2)
                diff = np.abs(ours[i, :, :2] - gold_lm[j, :, :2])
                means.append(diff.mean())
                visible.extend(diff[shown].ravel())
                world.append(np.abs(ours_world[i] - gold_world[j, :, :3]).mean())
                if index == 1:
                    frame_one = (means[-1], world[-1])
    return {
        "count_agreement": same_count / len(GOLDEN["goldens"][case]),
        "means": np.array(means),
        "visible": np.array(visible),
        "signed": np.concatenate(signed),
        "world": np.array(world),
        "frame_one": frame_one,
    }


# The fast loop (`-m "not slow"`) keeps one case, lite on squat.mp4; CI runs them all.
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, marks=() if case.startswith("lite/squat.mp4/") else pytest.mark.slow)
        for case in sorted(GOLDEN["goldens"])
    ],
)
def test_video_parity_with_mediapipe(case, clips, model_dir, test_providers):
    clip = case.split("/")[1]
    d = frame_differences(case, clips, test_providers)
    assert d["count_agreement"] >= REQUIRED_COUNT_AGREEMENT[clip], (case, d["count_agreement"])
    bias = d["signed"].mean(axis=0)  # (mean dx, mean dy) over visible landmarks and frames
    assert np.abs(bias).max() <= SIGNED_BIAS_BOUND[clip], (case, bias)
    if clip == "squat.mp4":
        assert d["means"].mean() <= 0.00135, (case, d["means"].mean())
        assert np.quantile(d["visible"], 0.99) <= 0.009, (case, np.quantile(d["visible"], 0.99))
        assert d["visible"].max() <= 0.1, (case, d["visible"].max())
        assert d["world"].mean() <= 0.005, (case, d["world"].mean())
        assert d["frame_one"][0] <= 0.0012 and d["frame_one"][1] <= 0.0035, (case, d["frame_one"])
    else:
        assert np.median(d["means"]) <= 0.0044, (case, np.median(d["means"]))
        assert np.quantile(d["means"], 0.9) <= 0.02, (case, np.quantile(d["means"], 0.9))
        assert np.median(d["world"]) <= 0.01, (case, np.median(d["world"]))
