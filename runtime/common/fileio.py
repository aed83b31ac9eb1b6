"""Atomic file writing: a file either appears complete under its final name or not at all.

- A target that exists and is not a regular file (a character device such as /dev/null, a FIFO,
  a socket, or anything under /dev or /proc) is written in place, never renamed over.
- A symbolic link is followed: the file it points to is replaced atomically, the link stays.
- Temporary files are named `.<name>.blazepose-<pid>-<random><suffix>` beside the target and
  fsynced before the rename. A process killed outright (SIGKILL) cannot clean up, so each write
  first removes the temporaries of the same target left by processes that no longer run.
- Folders created for an output that then fails are removed again.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from blazepose_onnx.common.errors import WriteError

TEMP_MARK = ".blazepose-"
IN_PLACE_ROOTS = (Path("/dev"), Path("/proc"))


def writes_in_place(path: Path) -> bool:
    """Whether `path` is written directly: it exists and is not a regular file (after links)."""
    if any(path.is_relative_to(root) for root in IN_PLACE_ROOTS):
        return True
    try:
        mode = path.stat().st_mode
    except OSError:  # missing, or under a non-folder: the atomic write reports it
        return False
    if stat.S_ISDIR(mode):
        raise WriteError(f"cannot write {path}: it is a directory")
    return not stat.S_ISREG(mode)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete temporaries of `target` whose writing process is gone; return what was removed."""
    removed = []
    prefix = f".{target.name}{TEMP_MARK}"
    with contextlib.suppress(OSError):
        for candidate in target.parent.iterdir():
            name = candidate.name
            if not name.startswith(prefix):
                continue
            pid = name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not _process_alive(int(pid)) and candidate.is_file():
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
    return removed


def make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those this call created, deepest first.

    Safe against another process creating the same folders at the same time: a folder that
    appears meanwhile is used, not reported as an error, and not counted as ours. (A writer
    that fails removes the empty folders it created, which another writer may be about to use:
    shared output folders such as extract's poses/ are made once, up front.)
    """
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    created = []
    for candidate in reversed(missing):
        try:
            candidate.mkdir()
        except FileExistsError:
            if not candidate.is_dir():
                raise
            continue
        created.append(candidate)
    return created[::-1]


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove the folders of `folders` (deepest first) that are empty; leave the others."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it to `path` only if the block succeeds.

    `suffix` ends the temporary name (a video writer needs a real extension, e.g. ".part.mp4").
    Devices, FIFOs and sockets are yielded as they are, to be written in place.
    """
    target = Path(path)
    if writes_in_place(target):
        yield target
        return
    target = Path(os.path.realpath(target))
    try:
        created = make_parents(target.parent)
        remove_stale_temporaries(target)
        fd, temp = tempfile.mkstemp(
            prefix=f".{target.name}{TEMP_MARK}{os.getpid()}-", suffix=suffix, dir=target.parent
        )
    except OSError as exc:
        raise WriteError(f"cannot write to {target.parent}: {exc.strerror or exc}") from exc
    os.close(fd)
    temp_path = Path(temp)
    try:
        yield temp_path
        with open(temp_path, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(temp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(temp_path, target)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        remove_empty_folders(created)
        raise
    finally:
        temp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically and return the path."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)
    return Path(path)
