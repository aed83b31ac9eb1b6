"""The edited models sessions are built from, cached in the model directory.

Editing a model (`graph_edits.session_model`: digest check, pruning, uint8 input) needs the
onnx package, whose import alone takes most of a second. The result depends only on the
converted file's bytes and the edit asked for, so it is written once into
`<model dir>/.sessions/`, named by the sha256 of both and of its own content (not by where
the converted file lies: copies of one model share one entry); later runs read it back after
checking both hashes, without importing onnx. A changed or corrupted converted file has
another hash and goes through the full check again (which refuses a corrupted one); a
corrupted cache entry fails its content hash and is rebuilt. Each role keeps its KEEP most
recently used entries, so models that change or come and go do not fill the disk. A model
directory that cannot be written simply gets no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from blazepose_onnx.backend.model_form import ANY_FORM, ModelForm
from blazepose_onnx.common.errors import WriteError
from blazepose_onnx.common.fileio import write_bytes_atomic
from blazepose_onnx.converter import default_model_dir
from blazepose_onnx.converter.errors import ModelFormatError

CACHE_DIR = ".sessions"
EDITS_VERSION = "1"  # bump when graph_edits changes what it produces
KEEP = 16  # entries kept per role (3 variants x 2 precisions x edits in use); least recent go


def cached_session_model(
    path: str | os.PathLike,
    role: str,
    outputs: Sequence[str] | None = None,
    form: ModelForm = ANY_FORM,
) -> bytes:
    """`graph_edits.session_model(path, role, outputs, form)`, from the cache when it holds
    it."""
    path = Path(path)
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    kept_outputs = ",".join(sorted(outputs)) if outputs else "*"
    edit = f"{EDITS_VERSION}:{role}:{kept_outputs}{form.key}"
    edit_key = hashlib.sha256(edit.encode()).hexdigest()[:8]
    source_key = hashlib.sha256(source).hexdigest()[:16]
    prefix = f"{role}.{edit_key}.{source_key}."
    folder = default_model_dir() / CACHE_DIR
    for entry in folder.glob(f"{prefix}*.onnx"):
        data = _read_verified(entry)
        if data is not None:
            with contextlib.suppress(OSError):
                os.utime(entry)  # used now: the last to go
            return data
    from blazepose_onnx.backend.graph_edits import session_model

    data = session_model(path, role, outputs, form)
    content_key = hashlib.sha256(data).hexdigest()[:16]
    with contextlib.suppress(OSError, WriteError):  # read-only folders get no cache
        kept = write_bytes_atomic(folder / f"{prefix}{content_key}.onnx", data)
        _remove_least_recently_used(folder, role, kept)
    return data


def _remove_least_recently_used(folder: Path, role: str, kept: Path) -> None:
    """Remove `role`'s entries beyond the KEEP most recently used (`kept` stays), and other
    entries of the same edit and source (a corrupted one just replaced)."""
    entries = sorted(
        folder.glob(f"{role}.*.onnx"), key=lambda entry: entry.stat().st_mtime_ns, reverse=True
    )
    same_source = kept.name.rsplit(".", 2)[0]
    stale = [e for e in entries if e != kept and e.name.rsplit(".", 2)[0] == same_source]
    others = [e for e in entries if e != kept and e not in stale]
    for entry in stale + others[KEEP - 1 :]:
        entry.unlink(missing_ok=True)


def _read_verified(entry: Path) -> bytes | None:
    """A cache entry's bytes when they match the content hash in its name, else None."""
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    content_key = entry.name.rsplit(".", 2)[-2]
    return data if hashlib.sha256(data).hexdigest()[:16] == content_key else None
