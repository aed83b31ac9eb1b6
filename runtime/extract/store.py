"""An extracted dataset's folder on any `pyarrow.fs` filesystem: one poses file per source,
written atomically with its manifest entry in its metadata, the run's options, the manifest.

    DIR/config.json        options and model hashes every row of DIR was made with
    DIR/poses/<key>.parquet  one source's rows (no rows: failed, or no pose); key = its path's hash
    DIR/manifest.parquet   one row per source, rebuilt from the poses files after each run

A poses file appears under its name complete or not at all (on the local filesystem a hidden
part file is renamed into place), so a source is either done, with its rows and its entry
together, or not done at all, whenever the writer is killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from blazepose_onnx.common.fileio import atomic_path, write_bytes_atomic
from blazepose_onnx.errors import InputError
from blazepose_onnx.extract.schema import ENTRY_KEY, Entry, manifest_table

CONFIG, MANIFEST, POSES = "config.json", "manifest.parquet", "poses"


@dataclass(frozen=True)
class Store:
    """The dataset at `uri` (a local path or any URI `pyarrow.fs` opens, e.g. s3://...)."""

    uri: str

    @classmethod
    def at(cls, out: str | os.PathLike) -> Store:
        """A store for an output path (made absolute) or URI."""
        out = os.fspath(out)
        return cls(out if "://" in out else os.path.abspath(out))

    @property
    def _fs(self) -> tuple[pafs.FileSystem, str]:
        return pafs.FileSystem.from_uri(self.uri)

    def _local(self) -> bool:
        return isinstance(self._fs[0], pafs.LocalFileSystem)

    def path(self, *names: str) -> str:
        return "/".join([self._fs[1].rstrip("/"), *names])

    def poses_path(self, source: str) -> str:
        key = hashlib.sha256(source.encode()).hexdigest()[:24]
        return self.path(POSES, f"{key}.parquet")

    def write_source(self, table) -> None:
        """Commit one source: its rows and entry (in `table`'s metadata) in one atomic step."""
        entry = Entry.from_json(table.schema.metadata[ENTRY_KEY])
        target = self.poses_path(entry.source)
        fs = self._fs[0]
        fs.create_dir(self.path(POSES), recursive=True)  # shared by every worker: never removed
        if self._local():
            with atomic_path(target, suffix=".parquet.part") as temp:
                pq.write_table(table, str(temp))
            return
        part = f"{self.path(POSES)}/.{uuid.uuid4().hex}.part"
        pq.write_table(table, part, filesystem=fs)
        fs.move(part, target)

    def entries(self) -> dict[str, Entry]:
        """The manifest entries of the sources done, from their poses files, by source."""
        fs = self._fs[0]
        selector = pafs.FileSelector(self.path(POSES), allow_not_found=True)
        found = {}
        for info in fs.get_file_info(selector):
            if info.base_name.startswith(".") or not info.base_name.endswith(".parquet"):
                continue
            schema = pq.read_schema(info.path, filesystem=fs)
            entry = Entry.from_json(schema.metadata[ENTRY_KEY])
            found[entry.source] = entry
        return found

    def write_manifest(self, entries: list[Entry]) -> None:
        table = manifest_table(entries)
        if self._local():
            with atomic_path(self.path(MANIFEST), suffix=".parquet.part") as temp:
                pq.write_table(table, str(temp))
        else:
            pq.write_table(table, self.path(MANIFEST), filesystem=self._fs[0])

    def check_config(self, config: dict) -> None:
        """Record `config` for a new dataset; refuse one made with other options or models."""
        fs, path = self._fs[0], self.path(CONFIG)
        if fs.get_file_info(path).type == pafs.FileType.File:
            with fs.open_input_stream(path) as stream:
                existing = json.loads(stream.read())
            if existing != config:
                changed = sorted(
                    k for k in {**existing, **config} if existing.get(k) != config.get(k)
                )
                raise InputError(
                    f"{self.uri} holds poses made with other options or models "
                    f"({', '.join(changed)} differ); use another --out, or --overwrite to "
                    "start over"
                )
            return
        data = json.dumps(config, indent=2, sort_keys=True).encode()
        if self._local():
            write_bytes_atomic(path, data)
        else:
            fs.create_dir(self._fs[1], recursive=True)
            with fs.open_output_stream(path) as stream:
                stream.write(data)

    def clear(self) -> None:
        """Remove what a run wrote (poses files, manifest, config); nothing else."""
        fs = self._fs[0]
        selector = pafs.FileSelector(self.path(POSES), allow_not_found=True)
        for info in fs.get_file_info(selector):
            if info.base_name.endswith((".parquet", ".part")):
                fs.delete_file(info.path)
        for name in (MANIFEST, CONFIG):
            if fs.get_file_info(self.path(name)).type == pafs.FileType.File:
                fs.delete_file(self.path(name))
