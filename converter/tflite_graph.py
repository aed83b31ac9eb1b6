"""Read a TFLite flatbuffer into plain Python objects.

The `tflite` package gives raw flatbuffer accessors; this module turns one subgraph into
`TFLiteGraph` (tensors with their constant data, operators with their options) and decodes
sparse (DENSIFY) weights. Nothing here knows about ONNX.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tflite
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.DimensionType import DimensionType
from tflite.SparseIndexVector import SparseIndexVector
from tflite.TensorType import TensorType

from blazepose_onnx.converter.errors import ModelFormatError

TFLITE_FILE_IDENTIFIER = b"TFL3"

_OPERATOR_NAMES = {
    value: name for name, value in vars(BuiltinOperator).items() if not name.startswith("_")
}
_OPTION_CLASS_NAMES = {
    value: name for name, value in vars(BuiltinOptions).items() if not name.startswith("_")
}
_DTYPES: dict[int, np.dtype] = {
    TensorType.FLOAT32: np.dtype(np.float32),
    TensorType.FLOAT16: np.dtype(np.float16),
    TensorType.INT32: np.dtype(np.int32),
    TensorType.UINT8: np.dtype(np.uint8),
    TensorType.INT64: np.dtype(np.int64),
    TensorType.INT8: np.dtype(np.int8),
    TensorType.INT16: np.dtype(np.int16),
    TensorType.BOOL: np.dtype(np.bool_),
}
_INDEX_VECTOR_CLASSES = {
    SparseIndexVector.Int32Vector: tflite.Int32Vector,
    SparseIndexVector.Uint16Vector: tflite.Uint16Vector,
    SparseIndexVector.Uint8Vector: tflite.Uint8Vector,
}


@dataclass(frozen=True)
class Sparsity:
    """TFLite sparsity parameters of one tensor (per-dimension format in traversal order)."""

    traversal_order: tuple[int, ...]
    block_map: tuple[int, ...]
    dim_formats: tuple[int, ...]
    dense_sizes: tuple[int, ...]
    segments: tuple[np.ndarray | None, ...]
    indices: tuple[np.ndarray | None, ...]


@dataclass
class Tensor:
    """One tensor of the subgraph; `data` holds a constant's buffer (values only if sparse)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    data: np.ndarray | None = None
    sparsity: Sparsity | None = None


@dataclass
class Operator:
    """One operator: its builtin name, tensor indices (-1 = omitted input) and decoded options."""

    index: int
    kind: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Any = None


@dataclass
class TFLiteGraph:
    """The single subgraph of a TFLite model."""

    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    metadata_names: tuple[str, ...] = field(default_factory=tuple)


def _buffer_bytes(model: tflite.Model, data: bytes, buffer_index: int) -> bytes:
    buffer = model.Buffers(buffer_index)
    if buffer is None:
        return b""
    offset = buffer.Offset()
    if offset > 1:  # large models keep buffers after the flatbuffer, addressed by offset/size
        return data[offset : offset + buffer.Size()]
    if buffer.DataLength() == 0:
        return b""
    return buffer.DataAsNumpy().tobytes()


def _index_vector(dim_metadata: Any, which: str) -> np.ndarray | None:
    vector_type = getattr(dim_metadata, f"{which}Type")()
    if vector_type == SparseIndexVector.NONE:
        return None
    table = getattr(dim_metadata, which)()
    vector = _INDEX_VECTOR_CLASSES[vector_type]()
    vector.Init(table.Bytes, table.Pos)
    return vector.ValuesAsNumpy().astype(np.int64)


def _read_sparsity(tensor: tflite.Tensor) -> Sparsity | None:
    sparsity = tensor.Sparsity()
    if sparsity is None:
        return None
    dims = [sparsity.DimMetadata(d) for d in range(sparsity.DimMetadataLength())]
    return Sparsity(
        traversal_order=tuple(int(v) for v in sparsity.TraversalOrderAsNumpy()),
        block_map=tuple(int(v) for v in sparsity.BlockMapAsNumpy())
        if sparsity.BlockMapLength()
        else (),
        dim_formats=tuple(d.Format() for d in dims),
        dense_sizes=tuple(d.DenseSize() for d in dims),
        segments=tuple(_index_vector(d, "ArraySegments") for d in dims),
        indices=tuple(_index_vector(d, "ArrayIndices") for d in dims),
    )


def _read_options(operator: tflite.Operator) -> Any:
    options_type = operator.BuiltinOptionsType()
    if options_type == BuiltinOptions.NONE:
        return None
    table = operator.BuiltinOptions()
    options = getattr(tflite, _OPTION_CLASS_NAMES[options_type])()
    options.Init(table.Bytes, table.Pos)
    return options


def _load_model(data: bytes, model_name: str) -> tflite.Model:
    if len(data) < 8 or data[4:8] != TFLITE_FILE_IDENTIFIER:
        raise ModelFormatError(f"{model_name}: not a TFLite flatbuffer (missing 'TFL3' identifier)")
    try:
        model = tflite.Model.GetRootAs(data, 0)
        if model.SubgraphsLength() != 1:
            raise ModelFormatError(
                f"{model_name}: expected one subgraph, found {model.SubgraphsLength()}"
            )
        return model
    except ModelFormatError:
        raise
    except Exception as exc:  # the flatbuffer accessors raise anything on corrupt data
        raise ModelFormatError(f"{model_name}: corrupt TFLite flatbuffer ({exc})") from exc


def read_tflite(data: bytes, model_name: str = "model") -> TFLiteGraph:
    """Parse TFLite flatbuffer bytes into a `TFLiteGraph` (constants as numpy arrays)."""
    model = _load_model(data, model_name)
    try:
        graph = model.Subgraphs(0)
        tensors = []
        for i in range(graph.TensorsLength()):
            raw = graph.Tensors(i)
            if raw.Type() not in _DTYPES:
                raise ModelFormatError(
                    f"{model_name}: tensor #{i} has unsupported type {raw.Type()}"
                )
            dtype = _DTYPES[raw.Type()]
            buffer = _buffer_bytes(model, data, raw.Buffer())
            sparsity = _read_sparsity(raw)
            shape = tuple(int(v) for v in raw.ShapeAsNumpy()) if raw.ShapeLength() else ()
            values = None
            if buffer:
                values = np.frombuffer(buffer, dtype=dtype)
                if sparsity is None:
                    values = values.reshape(shape)
            tensors.append(Tensor(i, raw.Name().decode(), shape, dtype, values, sparsity))
        operators = []
        for i in range(graph.OperatorsLength()):
            raw = graph.Operators(i)
            code = model.OperatorCodes(raw.OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            kind = _OPERATOR_NAMES.get(builtin, f"BUILTIN_{builtin}")
            if kind == "CUSTOM":
                kind = f"CUSTOM:{code.CustomCode().decode()}"
            operators.append(
                Operator(
                    i,
                    kind,
                    tuple(int(v) for v in raw.InputsAsNumpy()),
                    tuple(int(v) for v in raw.OutputsAsNumpy()),
                    _read_options(raw),
                )
            )
        metadata = tuple(model.Metadata(i).Name().decode() for i in range(model.MetadataLength()))
        return TFLiteGraph(
            tensors,
            operators,
            tuple(int(v) for v in graph.InputsAsNumpy()),
            tuple(int(v) for v in graph.OutputsAsNumpy()),
            metadata,
        )
    except ModelFormatError:
        raise
    except Exception as exc:
        raise ModelFormatError(f"{model_name}: corrupt TFLite flatbuffer ({exc})") from exc


def densify(tensor: Tensor) -> np.ndarray:
    """Decode a sparse constant (dense and CSR dimensions, no block map) into a dense array."""
    sparsity = tensor.sparsity
    if sparsity is None or tensor.data is None:
        raise ModelFormatError(f"tensor {tensor.name!r} is not a sparse constant")
    if sparsity.block_map:
        raise ModelFormatError(f"tensor {tensor.name!r}: block-sparse weights are not supported")
    order = sparsity.traversal_order
    if sorted(order) != list(range(len(tensor.shape))):
        raise ModelFormatError(f"tensor {tensor.name!r}: bad traversal order {order}")
    # Walk the traversal dimensions: each dense dimension multiplies the set of positions,
    # each CSR dimension expands every position into its listed (segment) indices.
    positions = np.zeros((1, 0), dtype=np.int64)  # rows: one traversal coordinate tuple each
    for level, dim in enumerate(order):
        parent = np.arange(positions.shape[0])
        if sparsity.dim_formats[level] == DimensionType.DENSE:
            size = sparsity.dense_sizes[level]
            coords = np.tile(np.arange(size), positions.shape[0])
            parent = np.repeat(parent, size)
        else:
            segments, indices = sparsity.segments[level], sparsity.indices[level]
            if segments is None or indices is None or len(segments) != positions.shape[0] + 1:
                raise ModelFormatError(f"tensor {tensor.name!r}: malformed CSR dimension {dim}")
            counts = np.diff(segments)
            parent = np.repeat(parent, counts)
            coords = indices[segments[0] : segments[-1]]
        positions = np.concatenate([positions[parent], coords[:, None]], axis=1)
    if positions.shape[0] != tensor.data.size:
        raise ModelFormatError(
            f"tensor {tensor.name!r}: {tensor.data.size} values for {positions.shape[0]} positions"
        )
    dense = np.zeros(tensor.shape, dtype=tensor.dtype)
    axes_in_shape_order = positions[:, np.argsort(order)]
    dense[tuple(axes_in_shape_order.T)] = tensor.data
    return dense


def weights_fingerprint(data: bytes, model_name: str = "model") -> str:
    """sha256 over the tensors' data buffers only (independent of metadata), hex encoded.

    Each buffer is prefixed with its length so that different splits never collide.
    """
    model = _load_model(data, model_name)
    graph = model.Subgraphs(0)
    digest = hashlib.sha256()
    for i in range(graph.TensorsLength()):
        buffer = _buffer_bytes(model, data, graph.Tensors(i).Buffer())
        if buffer:
            digest.update(len(buffer).to_bytes(8, "little"))
            digest.update(buffer)
    return digest.hexdigest()
