"""Serving on a real tritonserver (the nvidia-pytriton wheel's binary), started by the tests on
127.0.0.1 and always stopped: served results equal in-process ones exactly."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from blazepose_onnx import PoseLandmarker, RunningMode
from blazepose_onnx.serving import RepositoryOptions, write_repository
from blazepose_onnx.serving.client import (
    OUTPUTS,
    TritonPoseClient,
    TritonPoseStream,
    result_from_outputs,
)
from blazepose_onnx.serving.server import ServingError, TritonServer, free_port

pytestmark = pytest.mark.triton

OPTIONS = RepositoryOptions(variant="lite", num_poses=2, instances=2, idle_timeout_s=3.0)
IMAGES = ("messi5", "bus", "astronaut", "zidane")


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    repository = write_repository(tmp_path_factory.mktemp("repo"), OPTIONS)
    with TritonServer(repository) as running:
        yield running


@pytest.fixture(scope="module")
def local(model_dir):
    """In-process landmarkers with the served options."""
    options = OPTIONS.landmarker_options()
    with PoseLandmarker.create_from_options(options) as image_mode:
        yield image_mode


def video_results(frames, timestamps, boxes: dict | None = None) -> list:
    """Local VIDEO-mode results with the served options (`boxes`: frame index -> boxes)."""
    options = OPTIONS.landmarker_options()
    options.running_mode = RunningMode.VIDEO
    boxes = boxes or {}
    with PoseLandmarker.create_from_options(options) as landmarker:
        return [
            landmarker.detect_for_video(f, t, person_boxes=boxes.get(i))
            for i, (f, t) in enumerate(zip(frames, timestamps, strict=True))
        ]


def video_reference(frames, timestamps) -> list[np.ndarray]:
    return [result.as_arrays()[0] for result in video_results(frames, timestamps)]


def assert_same(served, expected) -> None:
    for got, want in zip(served.as_arrays(), expected.as_arrays(), strict=True):
        np.testing.assert_array_equal(got, want)


def metric(server: TritonServer, name: str, model: str) -> float:
    text = urllib.request.urlopen(server.endpoints.metrics, timeout=10).read().decode()
    match = re.search(rf'^{name}{{model="{model}",version="1"}} (\S+)$', text, re.M)
    return float(match.group(1))


def test_image_results_equal_in_process_with_mixed_sizes_batched(server, local, images):
    """16 concurrent requests of 4 image sizes: ragged batches, each result exactly local."""
    expected = {name: local.detect(images[name]) for name in IMAGES}
    before = metric(server, "nv_inference_exec_count", "pose_image")
    got: dict[int, object] = {}

    def work(k: int) -> None:
        with TritonPoseClient(server.endpoints.grpc) as client:
            got[k] = client.detect(images[IMAGES[k % 4]])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k, result in got.items():
        assert_same(result, expected[IMAGES[k % 4]])
    executions = metric(server, "nv_inference_exec_count", "pose_image") - before
    assert len(got) == 16 and executions < 16  # the dynamic batcher grouped different sizes


@pytest.mark.parametrize(("protocol", "shared_memory"), [("http", False), ("grpc", True)])
def test_http_and_shared_memory_give_the_same_results(
    server, local, images, protocol, shared_memory
):
    url = server.endpoints.http if protocol == "http" else server.endpoints.grpc
    with TritonPoseClient(url, protocol, shared_memory=shared_memory) as client:
        for name in IMAGES:
            assert_same(client.detect(images[name]), local.detect(images[name]))
        rotated = client.detect(np.ascontiguousarray(np.rot90(images["messi5"])), 270)
        assert_same(rotated, local.detect(np.ascontiguousarray(np.rot90(images["messi5"])), 270))


def test_four_streams_over_two_instances_equal_local_video_mode(server, clips):
    frames = {0: clips["squat.mp4"][:30], 1: clips["dance.mp4"][:30],
              2: clips["squat.mp4"][40:70], 3: clips["dance.mp4"][50:80]}  # fmt: skip
    served: dict[int, list] = {}

    def work(k: int) -> None:
        with TritonPoseClient(server.endpoints.grpc) as client, client.open_stream() as stream:
            served[k] = [stream.detect(f, i * 33) for i, f in enumerate(frames[k])]

    threads = [threading.Thread(target=work, args=(k,)) for k in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k, stream_frames in frames.items():
        expected = video_results(stream_frames, [i * 33 for i in range(len(stream_frames))])
        for got, want in zip(served[k], expected, strict=True):
            assert_same(got, want)
            assert got.pose_ids == want.pose_ids  # the track ids travel too


def test_reused_correlation_id_starts_fresh(server, clips):
    frames = clips["squat.mp4"][60:70]
    with TritonPoseClient(server.endpoints.grpc) as client:
        first = client.open_stream()
        for i, frame in enumerate(clips["dance.mp4"][:5]):
            first.detect(frame, i * 33)
        first.close()
        again = TritonPoseStream(client, first.sequence_id)  # Triton reuses ids after END
        served = [again.detect(f, 5000 + i * 33).as_arrays()[0] for i, f in enumerate(frames)]
        again.close()
    expected = video_reference(frames, [5000 + i * 33 for i in range(len(frames))])
    for got, want in zip(served, expected, strict=True):
        np.testing.assert_array_equal(got, want)


class RawStream:
    """pose_video requests on one gRPC stream: sent in order, answered asynchronously."""

    def __init__(self, url: str) -> None:
        import tritonclient.grpc as grpc

        self.grpc, self.answers, self.sent = grpc, queue.Queue(), 0
        self.results: dict[str, object] = {}  # by request id
        self.errors: list[str] = []
        self.client = grpc.InferenceServerClient(url)
        self.client.start_stream(callback=lambda result, error: self.answers.put((result, error)))

    def send(self, corrid: int, frame: np.ndarray, timestamp_ms: int, **control: bool) -> str:
        """Queue one request (`sequence_start=True` / `sequence_end=True`); its request id."""
        inputs = [self.grpc.InferInput("frame", [1, *frame.shape], "UINT8"),
                  self.grpc.InferInput("timestamp_ms", [1, 1], "INT64")]  # fmt: skip
        inputs[0].set_data_from_numpy(frame[None])
        inputs[1].set_data_from_numpy(np.array([[timestamp_ms]], np.int64))
        self.sent += 1
        self.client.async_stream_infer(
            "pose_video", inputs, request_id=str(self.sent), sequence_id=corrid,
            outputs=[self.grpc.InferRequestedOutput(name) for name in OUTPUTS], **control,
        )  # fmt: skip
        return str(self.sent)

    def receive(self, count: int) -> None:
        """Wait for `count` more answers: into `results`, or the server's into `errors`."""
        for _ in range(count):
            result, error = self.answers.get(timeout=60)
            if error is not None:
                self.errors.append(str(error))
            else:
                outputs = {name: result.as_numpy(name) for name in OUTPUTS}
                self.results[result.get_response().id] = result_from_outputs(outputs)

    def batch_sizes(self, since: Counter | None = None, inferences: int = 0) -> Counter:
        """How many times pose_video ran each batch size (after `since`), once the statistics
        count `inferences` more items (they are updated after the answers are sent)."""
        deadline = time.monotonic() + 10
        while True:
            stats = self.client.get_inference_statistics("pose_video", as_json=True)
            sizes = Counter({int(b["batch_size"]): int(b["compute_infer"]["count"])
                             for b in stats["model_stats"][0].get("batch_stats", [])})  # fmt: skip
            sizes -= since or Counter()
            if sum(k * n for k, n in sizes.items()) >= inferences or time.monotonic() > deadline:
                return sizes
            time.sleep(0.05)

    def close(self) -> None:
        self.client.stop_stream()
        self.client.close()


def test_a_start_reusing_an_id_in_one_batch_fails_nothing(model_dir, tmp_path, clips):
    """Stream 7 sends its last frame with END and the client reuses id 7 at once, while streams
    8 and 9 start. Triton (one instance, a 300 ms batching window) runs 7's last frame, 9's and
    the new 7's first frames as one batch of three (8 takes 7's freed slot: the next batch).
    Every request is served: the old stream to its end, the new stream 7 from a fresh start,
    each as in-process VIDEO mode."""
    options = RepositoryOptions(
        variant="lite", num_poses=2, video_queue_delay_us=300_000, models=("pose_video",)
    )
    squat, dance, ms = clips["squat.mp4"], clips["dance.mp4"], [33 * i for i in range(6)]
    with TritonServer(write_repository(tmp_path / "repo", options)) as server:
        stream = RawStream(server.endpoints.grpc)
        try:
            old = [stream.send(7, squat[0], 0, sequence_start=True)]
            stream.receive(1)
            old.append(stream.send(7, squat[1], 33))
            stream.receive(1)
            before = stream.batch_sizes(inferences=2)  # frames 0 and 1 counted: stats lag
            old.append(stream.send(7, squat[2], 66, sequence_end=True))
            first = {8: stream.send(8, dance[0], 0, sequence_start=True),
                     9: stream.send(9, dance[50], 0, sequence_start=True)}  # fmt: skip
            new = [stream.send(7, squat[60], 0, sequence_start=True)]  # the id again
            stream.receive(4)
            batches = stream.batch_sizes(since=before, inferences=4)
            for i in range(1, 6):  # the new stream 7 goes on, one frame at a time
                new.append(stream.send(7, squat[60 + i], ms[i]))
                stream.receive(1)
            for corrid in (7, 8, 9):
                stream.send(corrid, np.zeros((0, 0, 3), np.uint8), 999, sequence_end=True)
            stream.receive(3)
        finally:
            stream.close()
    assert stream.errors == []
    assert batches == {3: 1, 1: 1}
    got = stream.results
    assert_same(got[first[8]], video_results([dance[0]], [0])[0])
    assert_same(got[first[9]], video_results([dance[50]], [0])[0])
    for requests, frames in ((old, squat[:3]), (new, squat[60:66])):
        for request, want in zip(requests, video_results(frames, ms[: len(frames)]), strict=True):
            assert_same(got[request], want)
            assert got[request].pose_ids == want.pose_ids


def test_abandoned_stream_is_freed_after_the_idle_timeout(server, clips):
    with TritonPoseClient(server.endpoints.grpc) as client:
        abandoned = client.open_stream()
        abandoned.detect(clips["squat.mp4"][0], 0)
        time.sleep(OPTIONS.idle_timeout_s + 1.5)
        with client.open_stream() as other:  # the next request on the model frees it
            other.detect(clips["squat.mp4"][1], 0)
        with pytest.raises(ValueError, match=r"START|start"):
            abandoned.detect(clips["squat.mp4"][2], 66)  # its slot and state are gone
    assert (
        f"freed idle stream (correlation id {abandoned.sequence_id})" in server.log_path.read_text()
    )


def test_bad_requests_get_errors_while_others_are_served(server, clips, images, local):
    import tritonclient.grpc as grpc

    done: list = []

    def steady() -> None:  # another client, served all along
        with TritonPoseClient(server.endpoints.grpc) as client:
            done.extend(client.detect(images["bus"]) for _ in range(6))

    worker = threading.Thread(target=steady)
    worker.start()
    raw = grpc.InferenceServerClient(server.endpoints.grpc)
    wrong_dtype = grpc.InferInput("image", [1, 64, 64, 3], "FP32")
    wrong_dtype.set_data_from_numpy(np.zeros((1, 64, 64, 3), np.float32))
    with pytest.raises(Exception, match=r"image.*(FP32|data type)"):
        raw.infer("pose_image", [wrong_dtype])
    wrong_shape = grpc.InferInput("image", [1, 64, 64], "UINT8")
    wrong_shape.set_data_from_numpy(np.zeros((1, 64, 64), np.uint8))
    with pytest.raises(Exception, match="image"):
        raw.infer("pose_image", [wrong_shape])
    with TritonPoseClient(server.endpoints.grpc) as client:
        with pytest.raises(ValueError, match="too small"):
            client.detect(np.zeros((4, 400, 3), np.uint8)[:, :4].copy())
        never_started = TritonPoseStream(client, 987654321)
        never_started._started = True  # send a frame without START
        with pytest.raises(ValueError, match="START"):
            never_started.detect(clips["squat.mp4"][0], 0)
        with client.open_stream() as stream:
            stream.detect(clips["squat.mp4"][0], 100)
            with pytest.raises(ValueError, match="timestamp"):
                stream.detect(clips["squat.mp4"][1], 50)
            stream.detect(clips["squat.mp4"][1], 133)  # the stream goes on
    worker.join()
    assert len(done) == 6
    for result in done:
        assert_same(result, local.detect(images["bus"]))


def test_person_boxes_through_pose_image_and_pose_video(server, local, images, clips):
    """Boxes as a user sends them: the served poses equal in-process `person_boxes=` ones."""
    people = np.array([[48, 398, 245, 902, 0.9], [221, 405, 344, 857, 0.8]])  # bus.jpg
    dancers = np.array([[0, 240, 140, 560], [215, 225, 360, 560]])  # dance.mp4, frame 0
    with TritonPoseClient(server.endpoints.grpc) as client:
        served = client.detect(images["bus"], person_boxes=people)
        assert len(served.pose_landmarks) == 2 > len(client.detect(images["bus"]).pose_landmarks)
        assert_same(served, local.detect(images["bus"], person_boxes=people))
        assert client.detect(images["bus"], person_boxes=[]).pose_landmarks == []  # nobody
    # A bad box fails its own request only, also when the batcher groups it with good ones.
    outcomes: dict[int, object] = {}

    def send(k: int) -> None:
        with TritonPoseClient(server.endpoints.grpc) as client:
            try:
                outcomes[k] = client.detect(images["bus"], person_boxes=people[:1] if k else bad)
            except ValueError as exc:
                outcomes[k] = exc

    bad = [[900, 0, 950, 50]]  # outside the 810x1080 image
    threads = [threading.Thread(target=send, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "person_boxes must overlap" in str(outcomes[0])
    for k in range(1, 8):
        assert_same(outcomes[k], local.detect(images["bus"], person_boxes=people[:1]))
    with TritonPoseClient(server.endpoints.grpc) as client:
        frames, seeds = clips["dance.mp4"][:10], {0: dancers}
        with client.open_stream() as stream:
            got = [
                stream.detect(f, 33 * i, person_boxes=seeds.get(i)) for i, f in enumerate(frames)
            ]
    want = video_results(frames, [33 * i for i in range(len(frames))], seeds)
    assert len(got[0].pose_landmarks) == 2
    for served_frame, local_frame in zip(got, want, strict=True):
        assert_same(served_frame, local_frame)
        assert served_frame.pose_ids == local_frame.pose_ids


def test_the_built_in_person_detector_is_served_from_the_repository(
    model_dir, ssd_model, tmp_path, images, cli
):
    """`serve write-repo --person-detector ssd`: its model is copied in, and the served poses of
    bus.jpg (all four people) and zidane.jpg (both men) equal in-process ones exactly."""
    repository = tmp_path / "repo"
    written = cli(
        "serve", "write-repo", str(repository), "--model", "full", "--num-poses", "4",
        "--person-detector", "ssd", "--models", "pose_image",
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    copied = repository / "pose_image" / "1" / "models" / "person_detectors" / "ssd.onnx"
    assert copied.read_bytes() == ssd_model.read_bytes()
    options = RepositoryOptions(variant="full", num_poses=4, person_detector="ssd")
    with (
        TritonServer(repository) as running,
        TritonPoseClient(running.endpoints.grpc) as client,
        PoseLandmarker.create_from_options(options.landmarker_options()) as local,
    ):
        for name, people in (("bus", 4), ("zidane", 2)):
            served = client.detect(images[name])
            assert len(served.pose_landmarks) == people
            assert_same(served, local.detect(images[name]))
    with pytest.raises(ValueError, match="must name a built-in person detector"):
        RepositoryOptions(person_detector=str(ssd_model)).checked()


def test_pose_video_tracks_people_as_in_process(model_dir, ssd_model, tmp_path, data_dir):
    """`pose_video` with the ssd person detector: two streams (two people crossing; one
    hidden behind another) stepped together keep the ids and poses of in-process VIDEO mode
    with the same options, the crossing person's one id each."""
    from blazepose_onnx.bench.composed_clips import SCENES, compose
    from blazepose_onnx.io.video_reader import read_frames

    source = read_frames(str(data_dir / "squat.mp4"))
    lengths = {"passing": 80, "occlusion": 60}  # through the crossing; into the hiding
    frames = {name: compose(source, SCENES[name]).frames[:n] for name, n in lengths.items()}
    options = RepositoryOptions(
        variant="lite", num_poses=2, person_detector="ssd", person_detection_interval=5,
        models=("pose_video",),
    )  # fmt: skip
    repository = write_repository(tmp_path / "repo", options)
    served: dict[str, list] = {}

    def work(name: str) -> None:
        with TritonPoseClient(running.endpoints.grpc) as client, client.open_stream() as stream:
            served[name] = [stream.detect(f, 33 * i) for i, f in enumerate(frames[name])]

    with TritonServer(repository) as running:
        threads = [threading.Thread(target=work, args=(name,)) for name in frames]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    local_options = options.landmarker_options()
    local_options.running_mode = RunningMode.VIDEO
    for name, stream_frames in frames.items():
        with PoseLandmarker.create_from_options(local_options) as landmarker:
            want = [landmarker.detect_for_video(f, 33 * i) for i, f in enumerate(stream_frames)]
        for got, expected in zip(served[name], want, strict=True):
            assert_same(got, expected)
            assert got.pose_ids == expected.pose_ids
    assert {i for result in served["passing"] for i in result.pose_ids} == {0, 1}


def test_a_client_whose_server_went_away_gets_a_clear_error(model_dir, tmp_path, images):
    repository = write_repository(
        tmp_path / "repo", RepositoryOptions(variant="lite", models=("pose_image",))
    )
    with TritonServer(repository) as gone:
        url = gone.endpoints.grpc
        client = TritonPoseClient(url, timeout_s=10)
        assert len(client.detect(images["messi5"]).pose_landmarks) == 1
    start = time.monotonic()
    with pytest.raises(ServingError, match="not reachable"):
        client.detect(images["messi5"])
    assert time.monotonic() - start < 15


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def serve_args(repository: Path, ports: list[int]) -> list[str]:
    """`serve triton` arguments for a repository on these HTTP, gRPC and metrics ports."""
    flags = ("--http-port", "--grpc-port", "--metrics-port")
    return ["serve", "triton", str(repository)] + [
        item for flag, port in zip(flags, ports, strict=True) for item in (flag, str(port))
    ]


@pytest.fixture()
def launch():
    """Start `blazepose serve triton` on given HTTP, gRPC and metrics ports; what a failed test
    leaves running gets SIGTERM (the launcher then stops its server)."""
    started: list[subprocess.Popen] = []

    def start(repository: Path, ports: list[int], env: dict, **popen) -> subprocess.Popen:
        started.append(subprocess.Popen(
            [str(Path(sys.executable).with_name("blazepose")), *serve_args(repository, ports)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen,
        ))  # fmt: skip
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.communicate(timeout=60)


def workspaces(temp: Path) -> list[Path]:
    return list(temp.glob("blazepose-triton-*"))


@pytest.fixture()
def temp_env(cli_env, tmp_path) -> tuple[dict, Path]:
    """A CLI environment whose TMPDIR is a fresh folder (where the launcher's workspace goes)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    return {**cli_env, "TMPDIR": str(temp)}, temp


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
def test_launcher_prints_endpoints_and_stops_cleanly_on_a_signal(
    model_dir, tmp_path, temp_env, launch, signum, code, said
):
    repository = write_repository(tmp_path / "repo", RepositoryOptions(variant="lite"))
    ports = [free_port() for _ in range(3)]
    env, temp = temp_env
    # SIGINT: started as `blazepose serve triton repo/ &` in a script is, with SIGINT ignored
    started = {"preexec_fn": ignore_sigint} if signum == signal.SIGINT else {}
    process = launch(repository, ports, env, **started)
    first = process.stdout.readline()
    assert first.startswith(f"ready: HTTP 127.0.0.1:{ports[0]}, gRPC 127.0.0.1:{ports[1]}"), first
    with TritonPoseClient(f"127.0.0.1:{ports[1]}") as client:
        assert client.is_ready()
    assert len(workspaces(temp)) == 1
    start = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert stderr.strip() == f"blazepose: {said}"
    assert "stopped" in stdout and time.monotonic() - start < 15
    assert workspaces(temp) == []
    leftovers = subprocess.run(["pgrep", "-f", str(repository)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""  # no server, no stub left
    for port in ports:  # nobody listens any more, and a new server can listen there
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
            probe.bind(("127.0.0.1", port))
            probe.listen()


@pytest.mark.parametrize(("busy", "name"), [(0, "HTTP"), (1, "gRPC"), (2, "metrics")])
def test_a_second_launcher_on_busy_ports_fails_in_one_line(
    server, temp_env, cli, one_line_error, busy, name
):
    """A server already listens on one of the ports: one error line naming it, nothing else."""
    ports = [free_port() for _ in range(3)]
    ports[busy] = list(server.ports.values())[busy]
    env, temp = temp_env
    done = cli(*serve_args(server.repository, ports), env=env, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    one_line_error(done, f"port {ports[busy]} ({name}) on 127.0.0.1 is in use")
    assert workspaces(temp) == []
    assert TritonPoseClient(server.endpoints.grpc).is_ready()  # the first one serves on


def broken_repository(folder: Path, initialize: str) -> Path:
    """A one-model repository whose python model runs `initialize` when it loads."""
    version = folder / "broken" / "1"
    version.mkdir(parents=True)
    (folder / "broken" / "config.pbtxt").write_text(
        'backend: "python"\nmax_batch_size: 0\n'
        'input [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]\n'
        'output [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]\n'
    )
    (version / "model.py").write_text(
        f"class TritonPythonModel:\n    def initialize(self, args):\n        {initialize}\n"
    )
    return folder


def test_a_server_that_exits_while_starting_reports_its_log_on_stderr(tmp_path, temp_env, cli):
    repository = broken_repository(tmp_path / "repo", "raise RuntimeError('broken on purpose')")
    env, temp = temp_env
    done = cli(*serve_args(repository, [free_port() for _ in range(3)]), env=env, timeout=120)
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert done.stderr.startswith("blazepose: error: tritonserver exited (1):\n"), done.stderr
    assert "broken on purpose" in done.stderr
    assert workspaces(temp) == []


def test_a_server_not_ready_in_time_reports_its_log_and_is_stopped(tmp_path, monkeypatch):
    repository = broken_repository(tmp_path / "repo", "import time; time.sleep(120)")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    server = TritonServer(repository)
    with pytest.raises(ServingError, match="not ready after 3 s") as raised:
        server.start(timeout_s=3)
    assert "loading: broken:1" in str(raised.value)
    assert workspaces(tmp_path) == [] and server.process is None
    leftovers = subprocess.run(["pgrep", "-f", str(repository)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""


def test_write_repo_command(cli, tmp_path):
    done = cli("serve", "write-repo", str(tmp_path / "repo"), "--model", "lite", "--kind", "gpu",
               "--instances", "2", "--gpus", "0,1", "--num-poses", "3", "--masks")  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = (tmp_path / "repo" / "pose_video" / "config.pbtxt").read_text()
    assert "instance_group [ { count: 2 kind: KIND_GPU gpus: [0, 1] } ]" in config
    assert "dims: [ 3, 33, 5 ]" in config and 'name: "masks"' in config
    for model in ("pose_image", "pose_video"):
        version = tmp_path / "repo" / model / "1"
        assert sorted(p.name for p in (version / "models").iterdir()) == [
            "detector.onnx",
            "landmarker.onnx",
        ]
        assert "TritonPythonModel" in (version / "model.py").read_text()


def test_write_repo_needs_num_poses_with_a_person_detector(cli, tmp_path, ssd_model):
    """The outputs have a fixed slot per pose: without a person detector an unset num_poses is
    1 (as in-process); with one, where in-process it means everyone (up to 64), the writer asks
    for it rather than serve 64 slots (and masks) per frame, and writes nothing."""
    refused = cli("serve", "write-repo", str(tmp_path / "refused"), "--person-detector", "ssd")
    assert refused.returncode == 2
    assert "num_poses (--num-poses) must be set with a person detector" in refused.stderr
    assert not (tmp_path / "refused").exists()
    with pytest.raises(ValueError, match="num_poses"):
        RepositoryOptions(person_detector="ssd").checked()
    done = cli("serve", "write-repo", str(tmp_path / "repo"), "--model", "lite")
    assert done.returncode == 0, done.stderr
    config = (tmp_path / "repo" / "pose_image" / "config.pbtxt").read_text()
    assert "dims: [ 1, 33, 5 ]" in config
    assert RepositoryOptions().checked().landmarker.num_poses == 1
