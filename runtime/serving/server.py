"""Starting and stopping the `tritonserver` binary that the nvidia-pytriton wheel ships, with the
environment its python backend needs (each fix is a failure measured in shared/SERVING.md):

- the backend stub must match this interpreter's Python version: the dist folder is copied to a
  private workspace with the matching stub in `backends/python/`;
- the stub links `libpython3.X.so` by name, and a pyenv or conda interpreter's own one must win
  over the system's (else `'_thread.RLock' object has no attribute '_recursion_count'`):
  `LD_LIBRARY_PATH` starts with this interpreter's LIBDIR, then `nvidia_pytriton.libs`;
- the python backend replaces PYTHONPATH: the serving environment's site-packages travel in
  BLAZEPOSE_SERVING_SITE_PACKAGES and the generated model.py puts them first;
- stopping waits for open sequences for `--exit-timeout-secs` (default 30 s): 5 s here.

The server listens on loopback unless told otherwise. `start()` first checks that nothing listens
on its ports (else Triton's readiness check would reach that other server); the workspace exists
only while the server runs: `stop()`, and any failed start, end the server and its stubs (one
process group), free the ports and remove it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import site
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from blazepose_onnx.common.errors import BlazePoseError
from blazepose_onnx.common.install import require
from blazepose_onnx.serving.repository import SITE_PACKAGES_ENV

EXIT_TIMEOUT_S = 5
PORT_NAMES = {"http": "HTTP", "grpc": "gRPC", "metrics": "metrics"}
ERROR_LINE = re.compile(r"E\d{4} |error: ")  # glog's error severity; the server's last word


class ServingError(BlazePoseError, RuntimeError):
    """The Triton server could not start, stopped, or cannot be reached."""


def _pytriton_dist() -> Path:
    pytriton = require("pytriton", "triton", "serving on Triton")
    return Path(next(iter(pytriton.__path__))).resolve() / "tritonserver"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _bind_probe(host: str, port: int) -> None:
    """Bind host:port as a server would (SO_REUSEADDR: closed connections in TIME_WAIT do not
    count); OSError when another socket holds it."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


@dataclass(frozen=True)
class Endpoints:
    http: str
    grpc: str
    metrics: str


class TritonServer:
    """`tritonserver` on a model repository, as a context manager (the `[triton]` extra's
    binary, run from a temporary workspace).

    Args:
        repository: a model repository (`write_repository`).
        host: the address the server listens on.
        http_port: its HTTP port (None: a free one).
        grpc_port: its gRPC port (None: a free one).
        metrics_port: its metrics port (None: a free one).
        log: the server's own log file (None: one in the workspace, which `stop()` removes;
            its path is `log_path` once started).
        verbose: Triton's verbose log.

    Raises:
        ServingError: `repository` is not a model repository.
    """

    def __init__(
        self,
        repository: str | os.PathLike,
        host: str = "127.0.0.1",
        http_port: int | None = None,
        grpc_port: int | None = None,
        metrics_port: int | None = None,
        log: str | os.PathLike | None = None,
        verbose: bool = False,
    ) -> None:
        self.repository = Path(repository).resolve()
        if not (self.repository.is_dir() and any(self.repository.glob("*/config.pbtxt"))):
            raise ServingError(f"{repository} is not a model repository (no */config.pbtxt)")
        self.host = host
        self.ports = {
            "http": http_port or free_port(host),
            "grpc": grpc_port or free_port(host),
            "metrics": metrics_port or free_port(host),
        }
        self.verbose = verbose
        self._log = Path(log) if log else None
        self.log_path: Path | None = self._log
        self._workspace: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def endpoints(self) -> Endpoints:
        """Where the server listens: HTTP and gRPC `host:port`, and the metrics URL."""
        return Endpoints(
            f"{self.host}:{self.ports['http']}",
            f"{self.host}:{self.ports['grpc']}",
            f"http://{self.host}:{self.ports['metrics']}/metrics",
        )

    def _check_ports(self) -> None:
        """Refuse ports another process holds: Triton would fail on them after its first ports
        were up, and the health check would reach the other server."""
        for name, port in self.ports.items():
            try:
                _bind_probe(self.host, port)
            except OSError as exc:
                where = f"port {port} ({PORT_NAMES[name]}) on {self.host}"
                if exc.errno != errno.EADDRINUSE:
                    raise ServingError(f"cannot listen on {where}: {exc.strerror}") from exc
                raise ServingError(
                    f"{where} is in use (another server?): stop it or pass --{name}-port"
                ) from exc

    def _prepare(self, dist: Path, workspace: Path) -> Path:
        """The dist folder copied into the workspace, with this Python's backend stub."""
        server = workspace / "tritonserver"
        shutil.copytree(dist, server, ignore=shutil.ignore_patterns("python_backend_stubs"))
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        stub = dist / "python_backend_stubs" / version / "triton_python_backend_stub"
        if not stub.is_file():
            raise ServingError(f"nvidia-pytriton has no python backend stub for Python {version}")
        shutil.copy2(stub, server / "backends" / "python" / "triton_python_backend_stub")
        return server

    def _environment(self, dist: Path) -> dict[str, str]:
        env = dict(os.environ)
        libraries = [
            sysconfig.get_config_var("LIBDIR"),
            str(dist.parent.parent / "nvidia_pytriton.libs"),
        ]
        if env.get("LD_LIBRARY_PATH"):
            libraries.append(env["LD_LIBRARY_PATH"])
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in libraries if p)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env[SITE_PACKAGES_ENV] = os.pathsep.join(site.getsitepackages())
        return env

    def start(self, timeout_s: float = 120.0) -> TritonServer:
        """Start the server and wait until every model is ready. On any failure, Ctrl-C or
        SIGTERM included, nothing is left running and the workspace is gone.

        Args:
            timeout_s: how long to wait for every model to be ready.

        Returns:
            This server, started.

        Raises:
            ServingError: a port is taken, or the server exited or was not ready in time (the
                log's error lines in the message).
            MissingExtraError: the `[triton]` extra (nvidia-pytriton) is not installed.
        """
        dist = _pytriton_dist()
        self._check_ports()
        self._workspace = workspace = Path(tempfile.mkdtemp(prefix="blazepose-triton-"))
        try:
            process = self._launch(dist, workspace)
            self._wait_ready(process, timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self, dist: Path, workspace: Path) -> subprocess.Popen:
        """Run the workspace's copy of the server, its output going to the log."""
        server = self._prepare(dist, workspace)
        command = [
            str(server / "bin" / "tritonserver"),
            f"--model-repository={self.repository}",
            f"--backend-directory={server / 'backends'}",
            f"--cache-directory={server / 'caches'}",
            f"--http-address={self.host}",
            f"--http-port={self.ports['http']}",
            f"--grpc-address={self.host}",
            f"--grpc-port={self.ports['grpc']}",
            f"--metrics-address={self.host}",
            f"--metrics-port={self.ports['metrics']}",
            f"--exit-timeout-secs={EXIT_TIMEOUT_S}",
            "--log-info=true",
            f"--log-verbose={1 if self.verbose else 0}",
        ]
        self.log_path = log_path = self._log or workspace / "tritonserver.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._environment(dist),
                start_new_session=True,  # one process group: the server and its stubs
            )
        return self.process

    def _wait_ready(self, process: subprocess.Popen, timeout_s: float) -> None:
        url = f"http://{self.endpoints.http}/v2/health/ready"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServingError(
                    f"tritonserver exited ({process.returncode}):\n{self.log_tail()}"
                )
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(url, timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise ServingError(
            f"tritonserver was not ready after {timeout_s:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 5) -> str:
        """The log's error lines and its last `lines` lines, in order (its option table, 20
        lines of 200 characters, would hide why a model failed)."""
        if self.log_path is None:
            return "(no log)"
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        last = len(text) - lines
        return "\n".join(t for i, t in enumerate(text) if i >= last or ERROR_LINE.match(t))

    def stop(self) -> None:
        """Stop the server and every stub (SIGTERM to the group, SIGKILL if it lingers or a
        second signal cuts the wait short) and remove the workspace."""
        process, self.process = self.process, None
        try:
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=EXIT_TIMEOUT_S + 10)
        finally:
            if process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # a lingering server, or its stubs
                process.wait(timeout=10)
            workspace, self._workspace = self._workspace, None
            if workspace is not None:  # binaries, stub, and a log kept there
                shutil.rmtree(workspace, ignore_errors=True)

    def wait(self) -> int:
        """Wait until the started server exits; its exit status.

        Raises:
            ServingError: the server was not started (or was stopped).
        """
        if self.process is None:
            raise ServingError("the server is not running: start() it first")
        return self.process.wait()

    def __enter__(self) -> TritonServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
