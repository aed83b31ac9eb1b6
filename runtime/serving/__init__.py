"""Serving on NVIDIA Triton Inference Server: Triton is the engine; this package writes the
model repository (`write_repository`), starts the `tritonserver` binary with its environment
fixed up (`TritonServer`), and talks to it (`TritonPoseClient`). Needs the `[triton]` extra for
the server and the client; writing a repository needs nothing more than the base package.
"""

from blazepose_onnx.serving.repository import RepositoryOptions, write_repository

__all__ = ["RepositoryOptions", "write_repository"]
