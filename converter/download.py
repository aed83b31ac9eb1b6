"""HTTP(S) downloads with the standard library: proxies from the environment, a size check, a
progress bar on a terminal, and one-line errors that give the real reason."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from blazepose_onnx.converter.errors import SourceError

CHUNK = 1 << 20


def announce(message: str) -> None:
    """Tell the user what is being fetched (stderr: stdout may carry results)."""
    print(f"blazepose-onnx: {message}", file=sys.stderr, flush=True)


def _size_text(size: int | None) -> str:
    return f"{size / 1e6:.1f} MB" if size else "size unknown"


def download(
    url: str, target: Path, label: str, timeout: float, expected_size: int | None = None
) -> Path:
    """Stream `url` into `target` (a temporary file the caller owns), with a progress bar when
    stderr is a terminal. urllib honours http_proxy/https_proxy/no_proxy. Every failure raises
    SourceError with the reason (HTTP status, DNS, refused connection, short read)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            size = int(length) if length and length.isdigit() else expected_size
            announce(f"downloading {label} ({_size_text(size)}) from {url}")
            received = 0
            with (
                target.open("wb") as out,
                tqdm(
                    total=size,
                    unit="B",
                    unit_scale=True,
                    desc=label,
                    disable=not sys.stderr.isatty(),
                ) as progress,
            ):
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    progress.update(len(chunk))
    except urllib.error.HTTPError as exc:
        raise SourceError(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise SourceError(str(exc.reason)) from exc
    except (OSError, ValueError) as exc:  # timeouts, resets, malformed URLs
        raise SourceError(str(exc) or type(exc).__name__) from exc
    if size is not None and received != size:
        raise SourceError(f"download ended after {received:,} of {size:,} bytes")
    return target
