"""One model's session as the pipeline runs it: placement, batch sizes, IO binding.

- `placement`: where ONNX Runtime put the model's nodes (`placement.Placement`).
- Batch sizes: a provider that compiles fixed shapes (CoreML) gets a model of one batch size,
  and a TensorRT engine is built for batches up to its profile's maximum. A run with more
  items is split into runs of that size; on a fixed-size model the last one is filled up by
  repeating its last item, and the extra results are dropped.
- Inputs are given as the pipeline makes them (uint8 pixels); a model that takes float32
  pixels (CoreML's) gets them cast on the host, exactly.
- IO binding (`io_binding=True`): the input is bound from the host array and each output to a
  host array allocated for the run, so ONNX Runtime writes results (on a GPU: copies them off
  the device) straight into the arrays returned, with no intermediate copy. The default on
  CUDA and TensorRT; the CPU runs the same code when asked (`("cpu", {"io_binding": True})`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnxruntime as ort

from blazepose_onnx.backend.placement import Placement

OUTPUT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
INPUT_DTYPES = {**OUTPUT_DTYPES, "tensor(uint8)": np.uint8}


class ModelSession:
    """An InferenceSession with its placement and batch rules; `run` takes any batch size."""

    def __init__(
        self,
        session: ort.InferenceSession,
        placement: Placement,
        fixed_batch: int | None = None,
        max_batch: int | None = None,
        io_binding: bool = False,
    ) -> None:
        self.session = session
        self.placement = placement
        self.fixed_batch = fixed_batch
        self.max_batch = fixed_batch or max_batch
        self.io_binding = io_binding
        self._outputs = {value.name: value for value in session.get_outputs()}
        self._input_dtypes = {v.name: INPUT_DTYPES.get(v.type) for v in session.get_inputs()}

    def get_providers(self) -> list[str]:
        return self.session.get_providers()

    def get_inputs(self) -> list:
        return self.session.get_inputs()

    def get_outputs(self) -> list:
        return self.session.get_outputs()

    def get_modelmeta(self) -> ort.ModelMetadata:
        return self.session.get_modelmeta()

    def run(
        self, output_names: Sequence[str] | None, feeds: Mapping[str, np.ndarray]
    ) -> list[np.ndarray]:
        """The outputs for `feeds` (every input batched on axis 0), in the order asked."""
        names = list(output_names) if output_names else list(self._outputs)
        feeds = {name: self._as_input(name, array) for name, array in feeds.items()}
        batch = len(next(iter(feeds.values())))
        limit = self.max_batch
        if limit is None or (batch <= limit and self.fixed_batch in (None, batch)):
            return self._run_once(names, feeds)
        parts = [
            self._run_once(names, self._chunk(feeds, start, start + limit))
            for start in range(0, batch, limit)
        ]
        return [np.concatenate(outputs)[:batch] for outputs in zip(*parts, strict=True)]

    def _as_input(self, name: str, array: np.ndarray) -> np.ndarray:
        """`array` as the model's input `name` takes it: uint8 pixels become float32 where the
        model takes float32 (an exact cast); anything else is passed as it is."""
        dtype = self._input_dtypes.get(name)
        if dtype == np.float32 and array.dtype == np.uint8:
            return array.astype(np.float32)
        return array

    def _chunk(self, feeds: Mapping[str, np.ndarray], start: int, stop: int) -> dict:
        """Items start:stop of every input, filled up to the fixed batch by repeating the last."""
        chunk = {}
        for name, array in feeds.items():
            part = array[start:stop]
            missing = (self.fixed_batch or 0) - len(part)
            if missing > 0:
                part = np.concatenate([part, np.repeat(part[-1:], missing, axis=0)])
            chunk[name] = part
        return chunk

    def _run_once(self, names: list[str], feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        if not self.io_binding:
            return self.session.run(names, dict(feeds))
        binding = self.session.io_binding()
        for name, array in feeds.items():
            binding.bind_cpu_input(name, np.ascontiguousarray(array))
        batch = len(next(iter(feeds.values())))
        results: list[np.ndarray | None] = []
        for name in names:
            host = self._host_output(name, batch)
            if host is None:
                binding.bind_output(name, "cpu")
            else:
                binding.bind_output(name, "cpu", 0, host.dtype, list(host.shape), host.ctypes.data)
            results.append(host)
        self.session.run_with_iobinding(binding)
        allocated = binding.copy_outputs_to_cpu() if any(a is None for a in results) else []
        return [a if a is not None else allocated[k] for k, a in enumerate(results)]

    def _host_output(self, name: str, batch: int) -> np.ndarray | None:
        """A new host array for output `name` at this batch size (None where its shape or type
        is not known before the run: ONNX Runtime then allocates it)."""
        value = self._outputs[name]
        dtype = OUTPUT_DTYPES.get(value.type)
        shape = [batch, *value.shape[1:]]
        if dtype is None or not all(isinstance(d, int) for d in shape):
            return None
        return np.empty(shape, dtype)
