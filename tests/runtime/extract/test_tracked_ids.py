"""`blazepose extract --person-detector ssd`: the rows carry the pose ids the API gives, one per
person through a crossing (tests/conftest.py's `crossing` clip)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyarrow")


@pytest.mark.slow
def test_extract_rows_carry_the_tracked_ids(cli, crossing, tmp_path, read_dataset):
    path, _, want = crossing
    out = tmp_path / "dataset"
    done = cli(
        "extract", str(path), "--out", str(out), "--model", "lite", "--person-detector", "ssd",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _, rows = read_dataset(out)
    got = rows[str(path)]
    expected = sorted((k, i) for k, w in enumerate(want) for i in w.pose_ids)
    assert sorted(zip(got["frame"].tolist(), got["pose_id"].tolist(), strict=True)) == expected
    assert set(got["pose_id"].tolist()) == {0, 1}
    landmarks = [
        w.as_arrays()[0][np.argsort(w.pose_ids)] for w in want if len(w)
    ]  # rows come by frame, then pose id
    assert np.abs(got["landmarks"] - np.concatenate(landmarks)).max() <= 1e-6
