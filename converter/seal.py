"""A digest of a converted model's graph (nodes and weights), recorded in its metadata.

The digest is sha256 over the bytes of the serialised `graph` field (ModelProto field 7) exactly
as they lie in the file, so checking a file needs no re-serialisation: one scan of the top-level
protobuf fields finds that slice (about 15 ms for the heavy landmarker's 27 MB). Any changed
byte of a node, an attribute or a weight changes it; metadata (where the digest itself lives)
does not take part.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import onnx

from blazepose_onnx.converter.errors import ModelFormatError, StaleModelError
from blazepose_onnx.converter.interface import read_metadata

GRAPH_DIGEST_KEY = "blazepose.graph_sha256"
GRAPH_FIELD = 7  # ModelProto.graph
LENGTH_DELIMITED = 2


def _varint(data: bytes | memoryview, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ModelFormatError("truncated or malformed protobuf varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _graph_slice(data: bytes) -> memoryview:
    """The serialised graph field of a serialised ModelProto."""
    view, at = memoryview(data), 0
    while at < len(view):
        key, at = _varint(view, at)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, at = _varint(view, at)
        elif wire == LENGTH_DELIMITED:
            length, at = _varint(view, at)
            if at + length > len(view):
                raise ModelFormatError("truncated protobuf field")
            if field == GRAPH_FIELD:
                return view[at : at + length]
            at += length
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise ModelFormatError(f"unexpected protobuf wire type {wire}")
    raise ModelFormatError("no graph in the model")


def graph_digest(data: bytes) -> str:
    """sha256 (hex) of the graph field of a serialised model."""
    return hashlib.sha256(_graph_slice(data)).hexdigest()


def sealed_bytes(model: onnx.ModelProto) -> bytes:
    """The serialised model with its graph digest recorded in metadata_props."""
    digest = graph_digest(model.SerializeToString())
    props = {p.key: p.value for p in model.metadata_props}
    onnx.helper.set_model_props(model, {**props, GRAPH_DIGEST_KEY: digest})
    data = model.SerializeToString()
    if graph_digest(data) != digest:  # the graph serialises the same both times
        raise ModelFormatError("the model's graph did not serialise reproducibly")
    return data


def load_converted(path: str | os.PathLike, role: str) -> onnx.ModelProto:
    """The converted `role` model at `path`, checked against the graph digest recorded when it
    was converted.

    Raises:
        ModelFormatError: (a ValueError) the file cannot be read, is not ONNX, is not a
            blazepose-onnx model of `role`, or its graph no longer matches its digest.
        StaleModelError: it was converted before digests were recorded.
    """
    try:
        data = Path(path).read_bytes()
        model = onnx.load_from_string(data)
    except OSError as exc:
        raise ModelFormatError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    except Exception as exc:  # protobuf's DecodeError, onnx's own errors
        raise ModelFormatError(f"{path} is not a readable ONNX model: {exc}") from exc
    meta = read_metadata(model)
    if meta.get("blazepose.input_layout") == "NHWC":
        raise ModelFormatError(
            f"{path} is a model as a session gets it (uint8 NHWC input: blazepose-convert "
            "export), for other runtimes; give blazepose-onnx the converted models (a variant, a "
            ".task bundle, or a folder written by blazepose-convert convert)"
        )
    found = meta.get("blazepose.role")
    if found != role:
        raise ModelFormatError(
            f"{path} is not a blazepose-onnx {role} model (its blazepose.role metadata is "
            f"{found!r}; convert models with blazepose-convert)"
        )
    recorded = meta.get(GRAPH_DIGEST_KEY)
    if recorded is None:
        raise StaleModelError(
            f"{path} was converted by an older blazepose-onnx (no graph digest); convert it "
            "again with blazepose-convert convert"
        )
    if graph_digest(data) != recorded:
        raise ModelFormatError(
            f"{path} is corrupted: its graph or weights do not match the digest recorded when it "
            "was converted; convert it again with blazepose-convert convert"
        )
    return model
