"""A client for the served models that returns the same `PoseLandmarkerResult` as in-process.

    with TritonPoseClient("127.0.0.1:8001") as client:          # gRPC; protocol="http" too
        result = client.detect(rgb)                               # pose_image
        with client.open_stream() as stream:                      # pose_video, one sequence
            for i, frame in enumerate(frames):
                result = stream.detect(frame, i * 33)

`shared_memory=True` sends frames through system shared memory (same host as the server): a
region per client, grown when a larger frame comes, unregistered on close. A server that is
gone raises `ServingError` within `timeout_s`, never hangs.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.common.install import require
from blazepose_onnx.io.image import to_rgb_uint8
from blazepose_onnx.results import PoseLandmarkerResult
from blazepose_onnx.serving.server import ServingError
from blazepose_onnx.typing import ImageLike, TritonProtocol

OUTPUTS = ("pose_count", "pose_ids", "landmarks", "world_landmarks")
_correlation_ids = itertools.count(1 + (os.getpid() << 20))
_ids_lock = threading.Lock()


def _next_correlation_id() -> int:
    with _ids_lock:
        return next(_correlation_ids)


def _tritonclient(protocol: str):
    if protocol not in ("grpc", "http"):
        raise InvalidValueError(f"protocol must be 'grpc' or 'http', got {protocol!r}")
    module = require(f"tritonclient.{protocol}", "triton", "the Triton client")
    from tritonclient.utils import InferenceServerException

    return module, InferenceServerException


def _boxes_input(person_boxes: ArrayLike | None) -> dict[str, np.ndarray]:
    """The optional `person_boxes` input (batch dimension 1), float64 as in-process."""
    if person_boxes is None:
        return {}
    boxes = np.asarray(person_boxes, np.float64)
    return {"person_boxes": (boxes if boxes.size else np.zeros((0, 4)))[None]}


def result_from_outputs(outputs: dict[str, np.ndarray]) -> PoseLandmarkerResult:
    """The PoseLandmarkerResult a served response stands for."""
    count = int(outputs["pose_count"].reshape(-1)[0])
    landmarks = outputs["landmarks"][0, :count]
    world = np.concatenate([outputs["world_landmarks"][0, :count], landmarks[..., 3:]], axis=2)
    masks = None
    if "masks" in outputs:
        masks = [np.ascontiguousarray(mask) for mask in outputs["masks"][0, :count]]
    return PoseLandmarkerResult(landmarks, world, masks, outputs["pose_ids"][0, :count].tolist())


class TritonPoseClient:
    """Calls `pose_image` and `pose_video` on a Triton server (thread-safe for `detect`; use a
    stream from one thread at a time). Needs the `[triton]` extra.

    Args:
        url: the server's `host:port` for `protocol` (gRPC's or HTTP's port).
        protocol: 'grpc' (default) or 'http'.
        shared_memory: send frames through system shared memory (the server on this host): a
            region per client, grown when a larger frame comes, unregistered on `close()`.
        masks: ask for the segmentation masks (a repository written with masks).
        timeout_s: a server that does not answer within this raises `ServingError`.
        image_model: the name of the IMAGE-mode model in the repository.
        video_model: the name of the VIDEO-mode model in the repository.

    Raises:
        InvalidValueError: `protocol` is not 'grpc' or 'http'.
        MissingExtraError: the `[triton]` extra (tritonclient) is not installed.
    """

    def __init__(
        self,
        url: str,
        protocol: TritonProtocol = "grpc",
        *,
        shared_memory: bool = False,
        masks: bool = False,
        timeout_s: float = 60.0,
        image_model: str = "pose_image",
        video_model: str = "pose_video",
    ) -> None:
        self._module, self._server_error = _tritonclient(protocol)
        self.protocol, self.url, self.timeout_s = protocol, url, timeout_s
        self.outputs = (*OUTPUTS, "masks") if masks else OUTPUTS
        self.image_model, self.video_model = image_model, video_model
        if protocol == "http":
            self._client = self._module.InferenceServerClient(
                url, connection_timeout=timeout_s, network_timeout=timeout_s, concurrency=4
            )
        else:
            self._client = self._module.InferenceServerClient(url)
        self._shm = _SharedFrames(self) if shared_memory else None
        self._lock = threading.Lock()

    def _call(self, what: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except self._server_error as exc:
            message = exc.message() if hasattr(exc, "message") else str(exc)
            status = exc.status() if hasattr(exc, "status") else None
            unreachable = status in ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED")
            if (
                unreachable
                or "failed to connect" in str(message).lower()
                or "Connection" in str(message)
            ):
                raise ServingError(
                    f"Triton server at {self.url} is not reachable ({what}): {message}"
                ) from exc
            raise InvalidValueError(f"{what} refused by the server: {message}") from exc
        except (ConnectionError, OSError) as exc:
            raise ServingError(
                f"Triton server at {self.url} is not reachable ({what}): {exc}"
            ) from exc

    def is_ready(self) -> bool:
        """Whether the server answers that it is ready (False on any transport error)."""
        try:
            return bool(self._client.is_server_ready())
        except Exception:  # any transport error means not ready
            return False

    def _inputs(self, name: str, frame: np.ndarray, extra: dict[str, np.ndarray]) -> list:
        batch = frame[None]
        inputs = [self._module.InferInput(name, list(batch.shape), "UINT8")]
        if self._shm is not None and frame.size:
            self._shm.put(inputs[0], batch)
        else:
            inputs[0].set_data_from_numpy(batch)
        for key, value in extra.items():
            dtype = {np.int32: "INT32", np.int64: "INT64", np.float64: "FP64"}[value.dtype.type]
            tensor = self._module.InferInput(key, list(value.shape), dtype)
            tensor.set_data_from_numpy(value)
            inputs.append(tensor)
        return inputs

    def _infer(self, model: str, inputs: list, **sequence: Any) -> PoseLandmarkerResult:
        outputs = [self._module.InferRequestedOutput(name) for name in self.outputs]
        kwargs = {"client_timeout": self.timeout_s} if self.protocol == "grpc" else {}
        response = self._call(
            model, self._client.infer, model, inputs, outputs=outputs, **sequence, **kwargs
        )
        return result_from_outputs({name: response.as_numpy(name) for name in self.outputs})

    def request(
        self,
        model: str,
        input_name: str,
        frame: np.ndarray,
        extra: dict[str, np.ndarray],
        **sequence: Any,
    ) -> PoseLandmarkerResult:
        """One inference of `model` on an RGB `frame` (its input `input_name`, through shared
        memory when the client has it) and the `extra` inputs.

        Args:
            model: the served model's name.
            input_name: the model's image input ('image' or 'frame').
            frame: an RGB uint8 HxWx3 array.
            extra: the model's other inputs, each with its batch dimension of 1.
            **sequence: Triton's `sequence_id`, `sequence_start` and `sequence_end`, for a
                stream's frames.

        Returns:
            The result the response stands for.

        Raises:
            InvalidValueError: the server refused the request (its message says why).
            ServingError: the server cannot be reached or did not answer within `timeout_s`.
        """
        with self._shm.lock if self._shm else contextlib.nullcontext():
            return self._infer(model, self._inputs(input_name, frame, extra), **sequence)

    def detect(
        self, image: ImageLike, rotation_degrees: int = 0, *, person_boxes: ArrayLike | None = None
    ) -> PoseLandmarkerResult:
        """Poses in one image (pose_image), as `PoseLandmarker.detect` returns them.

        Args:
            image: an RGB image, as `PoseLandmarker.detect` takes it.
            rotation_degrees: as in `PoseLandmarker.detect`.
            person_boxes: as in `PoseLandmarker.detect` (checked by the server).

        Returns:
            The poses the server found.

        Raises:
            InvalidValueError: an image the client cannot read, or a request the server
                refused (a bad rotation or boxes).
            InvalidTypeError: an image of the wrong type.
            ServingError: the server cannot be reached or did not answer within `timeout_s`.
        """
        rgb = to_rgb_uint8(image)
        extra = {
            "rotation_degrees": np.array([[rotation_degrees]], np.int32),
            **_boxes_input(person_boxes),
        }
        return self.request(self.image_model, "image", rgb, extra)

    def open_stream(self) -> TritonPoseStream:
        """A new video stream (its own sequence id): START goes with its first frame.

        Returns:
            The stream; close it (or use it as a context manager) to free the server's state.
        """
        return TritonPoseStream(self, _next_correlation_id())

    def close(self) -> None:
        """Unregister the shared memory (when used) and close the connection."""
        if self._shm is not None:
            self._shm.close()
        with contextlib.suppress(Exception):
            self._client.close()

    def __enter__(self) -> TritonPoseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class TritonPoseStream:
    """One video stream through `pose_video` (VIDEO-mode semantics: timestamps increase)."""

    def __init__(self, client: TritonPoseClient, sequence_id: int) -> None:
        self.client, self.sequence_id = client, sequence_id
        self._started = self._closed = False
        self._last_ms = -1

    def detect(
        self, frame: ImageLike, timestamp_ms: int, *, person_boxes: ArrayLike | None = None
    ) -> PoseLandmarkerResult:
        """Poses in the next frame of this stream, as `detect_for_video` returns them.

        Args:
            frame: an RGB image, as `PoseLandmarker.detect_for_video` takes it.
            timestamp_ms: the frame's time, above the previous frame's (checked by the server).
            person_boxes: seed or refresh tracks, as in `detect_for_video`.

        Returns:
            The frame's poses, with their tracked ids.

        Raises:
            InvalidValueError: a call on a closed stream, an image the client cannot read, or
                a request the server refused (a timestamp that does not increase, bad boxes).
            ServingError: the server cannot be reached or did not answer within `timeout_s`.
        """
        if self._closed:
            raise InvalidValueError("detect() on a closed stream")
        rgb = to_rgb_uint8(frame)
        extra = {
            "timestamp_ms": np.array([[int(timestamp_ms)]], np.int64),
            **_boxes_input(person_boxes),
        }
        result = self.client.request(
            self.client.video_model,
            "frame",
            rgb,
            extra,
            sequence_id=self.sequence_id,
            sequence_start=not self._started,
        )
        self._started = True
        self._last_ms = int(timestamp_ms)
        return result

    def close(self) -> None:
        """End the stream (END with an empty frame); the server frees its state.

        Raises:
            ServingError: the server cannot be reached.
        """
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        extra = {"timestamp_ms": np.array([[self._last_ms + 1]], np.int64)}
        empty = np.zeros((0, 0, 3), np.uint8)
        self.client.request(
            self.client.video_model,
            "frame",
            empty,
            extra,
            sequence_id=self.sequence_id,
            sequence_end=True,
        )

    def __enter__(self) -> TritonPoseStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _SharedFrames:
    """One system shared-memory region per client for frames, registered with the server."""

    def __init__(self, client: TritonPoseClient) -> None:
        import tritonclient.utils.shared_memory as shm

        self._shm, self._client = shm, client
        self.name = f"blazepose_{os.getpid()}_{id(self)}"
        self.handle, self.size = None, 0
        self.lock = threading.Lock()  # one frame in the region at a time

    def put(self, tensor, batch: np.ndarray) -> None:
        if batch.nbytes > self.size:
            self._release()
            size = max(batch.nbytes, 1 << 20)
            self.handle = self._shm.create_shared_memory_region(self.name, f"/{self.name}", size)
            self.size = size
            self._client._call(
                "register shared memory",
                self._client._client.register_system_shared_memory,
                self.name,
                f"/{self.name}",
                size,
            )
        self._shm.set_shared_memory_region(self.handle, [np.ascontiguousarray(batch)])
        tensor.set_shared_memory(self.name, batch.nbytes)

    def _release(self) -> None:
        if self.handle is None:
            return
        with contextlib.suppress(Exception):
            self._client._client.unregister_system_shared_memory(self.name)
        self._shm.destroy_shared_memory_region(self.handle)
        self.handle, self.size = None, 0

    def close(self) -> None:
        self._release()
