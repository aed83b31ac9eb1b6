"""The models Triton's python backend runs (imported by the generated model.py files).

`PoseImageModel`: each execute() gets the requests the dynamic batcher grouped (ragged: images
of any size), runs one `detect_batch` per rotation value (and with or without person boxes),
and answers each request with fixed-size outputs (`num_poses` slots) plus `pose_count`. A bad
request gets its own error; the others in the batch are still served. Both models take optional
`person_boxes` (n, 4 or 5), pixels of the image as sent, as `person_boxes=` in-process.

`PoseVideoModel`: Triton's sequence batcher (oldest strategy) sends frames of many streams with
START/END/CORRID control inputs. START maps the correlation id to a fresh internal stream (Triton
reuses ids after END), END closes it (a request whose frame is empty only closes), a stream idle
longer than the configured timeout is freed, and a batch holding two frames of one stream is
split into ordered `MultiStreamPoseLandmarker.process` steps.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from blazepose_onnx import (
    MultiStreamPoseLandmarker,
    PoseLandmarker,
    PoseLandmarkerOptions,
    PoseLandmarkerResult,
    RunningMode,
)
from blazepose_onnx.backend.providers import on_device
from blazepose_onnx.common.errors import InvalidValueError
from blazepose_onnx.io.image import check_rotation
from blazepose_onnx.pipeline.person_boxes import check_person_boxes
from blazepose_onnx.serving.repository import MODEL_FILES_DIR, options_from_config
from blazepose_onnx.typing import ProviderSpec


def _pb_utils():
    import triton_python_backend_utils as pb_utils  # provided by the python backend's stub

    return pb_utils


def _landmarker_options(args: dict[str, str], video: bool):
    """The repository's options and the landmarker's, from the model config: the models copied
    into the repository; a GPU instance's first provider on that instance's GPU."""
    config = json.loads(args["model_config"])
    options = options_from_config(config)
    folder = Path(args["model_repository"]) / args["model_version"] / MODEL_FILES_DIR
    landmarker = options.landmarker_options(str(folder))
    if args.get("model_instance_kind") == "GPU":
        device = int(args["model_instance_device_id"])
        first = on_device(landmarker.providers[0], device)
        landmarker.providers = [cast(ProviderSpec, first)]  # one that `validated()` checks
    if video:
        landmarker.running_mode = RunningMode.VIDEO
    return options, landmarker.validated()


def result_tensors(result: PoseLandmarkerResult, served: PoseLandmarkerOptions) -> dict:
    """Fixed-size output arrays (batch dimension 1) for one result of a model serving these
    options: `num_poses` slots, and masks when they are computed."""
    num_poses, masks = served.resolved_num_poses, served.output_segmentation_masks
    landmarks, world = result.as_arrays()
    count = len(landmarks)
    out: dict[str, np.ndarray] = {
        "pose_count": np.array([[count]], np.int32),
        "pose_ids": np.full((1, num_poses), -1, np.int64),
        "landmarks": np.zeros((1, num_poses, 33, 5), np.float32),
        "world_landmarks": np.zeros((1, num_poses, 33, 3), np.float32),
    }
    out["pose_ids"][0, :count] = result.pose_ids
    out["landmarks"][0, :count] = landmarks
    out["world_landmarks"][0, :count] = world
    if masks:
        found = result.segmentation_masks or []
        shape = found[0].shape if found else (0, 0)
        stacked = np.zeros((1, num_poses, *shape), np.float32)
        for k, mask in enumerate(found):
            stacked[0, k] = mask
        out["masks"] = stacked
    return out


def _response(pb_utils, tensors: dict):
    return pb_utils.InferenceResponse(
        output_tensors=[pb_utils.Tensor(name, value) for name, value in tensors.items()]
    )


def _error(pb_utils, message: str):
    return pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message))


def _input(pb_utils, request, name: str) -> np.ndarray | None:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()


def _boxes(pb_utils, request, image: np.ndarray, limit: int) -> np.ndarray | None:
    """A request's optional person boxes, checked against its image (None without them)."""
    boxes = _input(pb_utils, request, "person_boxes")
    if boxes is None:
        return None
    return check_person_boxes(_single(boxes, "person_boxes"), image.shape[1], image.shape[0], limit)


def _single(array: np.ndarray | None, name: str) -> np.ndarray:
    """The one item of a request whose batch dimension must be 1."""
    if array is None:  # Triton refuses a request without a required input before this
        raise InvalidValueError(f"{name}: missing")
    if array.shape[0] != 1:
        raise InvalidValueError(
            f"{name}: send one item per request (batch dimension {array.shape[0]})"
        )
    return array[0]


class PoseImageModel:
    """IMAGE mode behind Triton's dynamic batcher."""

    def initialize(self, args: dict[str, str]) -> None:
        self.pb_utils = _pb_utils()
        self.options, self.served = _landmarker_options(args, video=False)
        self.landmarker = PoseLandmarker.create_from_options(self.served)

    def execute(self, requests: list) -> list:
        pb = self.pb_utils
        responses: list = [None] * len(requests)
        groups: dict[tuple[int, bool], list[tuple[int, np.ndarray, np.ndarray | None]]] = {}
        for k, request in enumerate(requests):
            try:  # the tensors' shapes; the API checks the image and boxes themselves
                image = _single(_input(pb, request, "image"), "image")
                rotation = _input(pb, request, "rotation_degrees")
                degrees = 0 if rotation is None else int(_single(rotation, "rotation_degrees")[0])
                check_rotation(degrees)
                boxes = _input(pb, request, "person_boxes")
                boxes = None if boxes is None else _single(boxes, "person_boxes")
                groups.setdefault((degrees, boxes is not None), []).append((k, image, boxes))
            except (ValueError, TypeError) as exc:
                responses[k] = _error(pb, f"pose_image: {exc}")
        for (degrees, boxed), members in groups.items():
            outcomes = self.landmarker.detect_batch(
                [image for _, image, _ in members],
                degrees,
                person_boxes=[b for _, _, b in members if b is not None] if boxed else None,
                errors="return",  # a bad image or box fails only its own request
            )
            for (k, _, _), outcome in zip(members, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    responses[k] = _error(pb, f"pose_image: {outcome}")
                else:
                    tensors = result_tensors(outcome, self.served)
                    responses[k] = _response(pb, tensors)
        return responses

    def finalize(self) -> None:
        self.landmarker.close()


@dataclass
class _Frame:
    index: int
    key: int
    corrid: int
    frame: np.ndarray
    timestamp_ms: int
    end: bool
    boxes: np.ndarray | None


class PoseVideoModel:
    """Stateful streams behind Triton's sequence batcher."""

    def initialize(self, args: dict[str, str]) -> None:
        self.pb_utils = _pb_utils()
        self.options, self.served = _landmarker_options(args, video=True)
        self.streams = MultiStreamPoseLandmarker(self.served)
        self.keys: dict[int, int] = {}  # correlation id -> internal stream key
        self.last_seen: dict[int, float] = {}  # internal stream key -> time of its last frame
        self.new_key = itertools.count()
        self.retiring: list[int] = []  # streams ended in this batch, closed once it is done
        # Triton frees an idle sequence's slot without telling the model, and the next request
        # may go to another instance: a sweeper frees this instance's idle streams by itself.
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sweeper = threading.Thread(target=self._sweep, name="pose_video-idle", daemon=True)
        self.sweeper.start()

    def _sweep(self) -> None:
        interval = max(0.1, self.options.idle_timeout_s / 4)
        while not self.stopping.wait(interval):
            with self.lock:
                self._free_idle()

    def _log(self, message: str) -> None:
        self.pb_utils.Logger.log_info(f"pose_video: {message}")

    def _free_idle(self) -> None:
        now = time.monotonic()
        for corrid, key in list(self.keys.items()):
            if now - self.last_seen[key] > self.options.idle_timeout_s:
                self._close(corrid)
                self._log(f"freed idle stream (correlation id {corrid})")

    def _close(self, corrid: int) -> None:
        self._close_key(self.keys.pop(corrid))

    def _close_key(self, key: int) -> None:
        del self.last_seen[key]
        self.streams.close_stream(key)

    def _retire(self, corrid: int, in_batch: dict[int, int]) -> None:
        """End a correlation id's stream: now, or after this batch when it has frames in it."""
        key = self.keys.pop(corrid)
        if key in in_batch:
            self.retiring.append(key)
        else:
            self._close_key(key)

    def _frame(self, index: int, request: Any, in_batch: dict[int, int]) -> _Frame | None:
        """Parse one request and apply START; None when it only ends its stream. A START that
        reuses the id of a stream with frames earlier in this batch (`in_batch`) leaves that
        stream open until the batch is done (in `self.retiring`)."""
        pb = self.pb_utils
        corrid = int(_single(_input(pb, request, "CORRID"), "CORRID").reshape(-1)[0])
        start = bool(_single(_input(pb, request, "START"), "START").reshape(-1)[0])
        end = bool(_single(_input(pb, request, "END"), "END").reshape(-1)[0])
        frame = _single(_input(pb, request, "frame"), "frame")
        timestamp_ms = int(_single(_input(pb, request, "timestamp_ms"), "timestamp_ms")[0])
        if start and corrid in self.keys:  # a reused id, or a stream that never sent END
            self._retire(corrid, in_batch)
        if start:
            key = next(self.new_key)
            self.streams.open_stream(key)
            self.keys[corrid] = key
        if corrid not in self.keys:
            raise InvalidValueError(
                f"correlation id {corrid} has no open stream: its first frame must carry START"
            )
        key = self.keys[corrid]
        self.last_seen[key] = time.monotonic()
        if end and frame.size == 0:
            self._retire(corrid, in_batch)
            return None
        self.streams.check_frame(key, frame, timestamp_ms)
        boxes = _boxes(pb, request, frame, self.served.num_poses)
        return _Frame(index, key, corrid, frame, timestamp_ms, end, boxes)

    def execute(self, requests: list) -> list:
        with self.lock:
            return self._execute(requests)

    def _execute(self, requests: list) -> list:
        pb = self.pb_utils
        self._free_idle()
        self.retiring = []
        responses: list = [None] * len(requests)
        steps: list[dict[int, _Frame]] = []  # the n-th frame of each stream goes to step n
        pending: dict[int, int] = {}  # stream key -> timestamp of its last frame in this batch
        for k, request in enumerate(requests):
            try:
                parsed = self._frame(k, request, pending)
                if parsed is not None and parsed.timestamp_ms <= pending.get(parsed.key, -1):
                    raise InvalidValueError(
                        f"timestamp_ms must increase within a stream: {parsed.timestamp_ms} after "
                        f"{pending[parsed.key]}"
                    )
            except (ValueError, TypeError) as exc:
                responses[k] = _error(pb, f"pose_video: {exc}")
                continue
            if parsed is None:
                empty = result_tensors(_EMPTY, self.served)
                responses[k] = _response(pb, empty)
                continue
            pending[parsed.key] = parsed.timestamp_ms
            position = sum(parsed.key in step for step in steps)
            if position == len(steps):
                steps.append({})
            steps[position][parsed.key] = parsed
        for step in steps:
            results = self.streams.process(
                {key: (f.frame, f.timestamp_ms) for key, f in step.items()},
                person_boxes={key: f.boxes for key, f in step.items() if f.boxes is not None},
            )
            for key, frame in step.items():
                tensors = result_tensors(results[key], self.served)
                responses[frame.index] = _response(pb, tensors)
                if frame.end and self.keys.get(frame.corrid) == key:
                    self._close(frame.corrid)
        for key in self.retiring:  # streams replaced by a START in this batch
            self._close_key(key)
        return responses

    def finalize(self) -> None:
        self.stopping.set()
        self.sweeper.join()
        self.streams.close()


_EMPTY = PoseLandmarkerResult(np.zeros((0, 33, 5), np.float32), np.zeros((0, 33, 5), np.float32))
