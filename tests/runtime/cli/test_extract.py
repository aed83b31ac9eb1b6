"""`blazepose extract` from the command line (the engine: tests/runtime/extract/): a person
detector, and --retry-failed suggested only where a source failed."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest


def test_retry_failed_is_suggested_only_where_a_source_failed(cli, data_dir, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "bad.jpg").write_bytes(b"not a jpeg")
    done = cli("extract", str(photos), "--out", str(tmp_path / "d"), "--model", "lite")
    assert done.returncode == 4, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "blazepose: 1 of 1 source failed (exit code 4; --retry-failed redoes the failed ones)"
    )
    # a truncated video only: nothing --retry-failed would redo (tests/runtime/extract/
    # test_truncated_videos.py checks that line)


@pytest.mark.slow
def test_extract_takes_it_too(cli, data_dir, tmp_path, ssd_model):
    dataset = tmp_path / "dataset"
    command = ("extract", str(data_dir / "zidane.jpg"), "--out", str(dataset))
    done = cli(*command, "--person-detector", "ssd")
    assert done.returncode == 0, done.stderr
    table = pq.read_table(next((dataset / "poses").rglob("*.parquet")))
    assert table.num_rows == 2
    refused = cli(*command)  # the same folder without the detector: other rows, refused
    assert refused.returncode != 0 and "options" in refused.stderr, refused.stderr
