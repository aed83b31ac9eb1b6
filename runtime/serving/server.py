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

The server listens on loopback unless told otherwise; `stop()` ends it and its stubs (one process
group) and frees the ports.
"""

from __future__ import annotations

import contextlib
import os
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

from blazepose_onnx.converter.errors import MissingDependencyError
from blazepose_onnx.serving.repository import SITE_PACKAGES_ENV

EXIT_TIMEOUT_S = 5


class ServingError(RuntimeError):
    """The Triton server could not start, stopped, or cannot be reached."""


def _pytriton_dist() -> Path:
    try:
        import pytriton
    except ImportError as exc:
        raise MissingDependencyError(
            "serving on Triton needs the triton extra: pip install 'blazepose-onnx[triton]'"
        ) from exc
    return Path(pytriton.__file__).resolve().parent / "tritonserver"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Endpoints:
    http: str
    grpc: str
    metrics: str


class TritonServer:
    """`tritonserver` on a model repository, as a context manager.

    `ports` default to free ones; `log` is the server's own log file (in the workspace when
    not given; its path is `log_path`).
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
        self._workspace = Path(tempfile.mkdtemp(prefix="blazepose-triton-"))
        self.log_path = Path(log) if log else self._workspace / "tritonserver.log"
        self.process: subprocess.Popen | None = None

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            f"{self.host}:{self.ports['http']}",
            f"{self.host}:{self.ports['grpc']}",
            f"http://{self.host}:{self.ports['metrics']}/metrics",
        )

    def _prepare(self) -> Path:
        dist = _pytriton_dist()
        server = self._workspace / "tritonserver"
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
        """Start the server and wait until every model is ready."""
        server = self._prepare()
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
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self._environment(_pytriton_dist()),
            start_new_session=True,  # one process group: the server and its stubs
        )
        log.close()
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        url = f"http://{self.endpoints.http}/v2/health/ready"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServingError(
                    f"tritonserver exited ({self.process.returncode}):\n{self.log_tail()}"
                )
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(url, timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise ServingError(
            f"tritonserver was not ready after {timeout_s:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server and every stub (SIGTERM to the group, SIGKILL if it lingers)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=EXIT_TIMEOUT_S + 10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # stubs that outlived the server
        shutil.rmtree(self._workspace, ignore_errors=True)  # binaries, stub, and a log kept there

    def __enter__(self) -> TritonServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
