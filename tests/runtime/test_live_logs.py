"""`blazepose video --live` on a live stream: what the LIVE_STREAM worker logs while the main
thread waits in a frame read reaches stderr (reads there leave stderr alone, issue 26)."""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import pytest

SCRIPT = Path(sys.executable).with_name("blazepose")
STREAM_SECONDS = 3.0  # how long the server takes to send the whole clip


def transport_stream(source: Path, out: Path) -> bytes:
    """The clip re-encoded as MPEG-TS (readable as it arrives, unlike MP4)."""
    capture = cv2.VideoCapture(str(source))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30, size)
    while (frame := capture.read()[1]) is not None:
        writer.write(frame)
    writer.release()
    return out.read_bytes()


@pytest.fixture()
def live_stream(data_dir, tmp_path):
    """An HTTP URL that sends squat.mp4 (as MPEG-TS) over STREAM_SECONDS, like a camera."""
    payload = transport_stream(data_dir / "squat.mp4", tmp_path / "squat.ts")

    class Paced(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            chunks = 60
            step = -(-len(payload) // chunks)
            for start in range(0, len(payload), step):
                self.wfile.write(payload[start : start + step])
                self.wfile.flush()
                time.sleep(STREAM_SECONDS / chunks)

        def log_message(self, *args) -> None:  # the test reads the CLI's stderr only
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Paced)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/squat.ts"
    server.shutdown()
    server.server_close()
    thread.join()


def test_live_worker_logs_reach_stderr_while_frames_are_read(cli_env, live_stream):
    """JSONL to a full disk (/dev/full, unbuffered): every delivered frame's write fails in the
    result callback, on the worker thread, and the worker logs it while the main thread waits
    for the stream's next frame. Every one of those lines is on stderr."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [str(SCRIPT), "video", live_stream, "--live", "--model", "lite", "--jsonl", "-"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=300,
            env={**cli_env, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    summary = [line for line in done.stderr.splitlines() if line.startswith("frames: ")]
    assert len(summary) == 1, done.stderr
    delivered = int(re.match(r"frames: (\d+),", summary[0]).group(1))
    logged = re.findall(r"^ERROR: result_callback raised on the frame at (\d+) ms; the stream "
                        r"goes on$", done.stderr, re.M)  # fmt: skip
    assert "No space left on device" in done.stderr
    assert len(logged) == delivered, f"{len(logged)} lines logged for {delivered} frames"
    assert delivered >= 30, summary  # measured 60-76 on 2 shared cores
