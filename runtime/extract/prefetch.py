"""Decoding that overlaps inference: an iterator's items produced by a background thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def prefetched(items: Iterable[T], depth: int = 8) -> Iterator[T]:
    """The items of `items` in order, read by a thread that stays up to `depth` ahead (OpenCV
    decodes without the GIL); an exception in it is raised here. Closing the iterator early
    stops the thread."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(ready, (item, None), stop):
                    return
            _put(ready, (_END, None), stop)
        except BaseException as exc:  # handed to the consumer, raised there
            _put(ready, (_END, exc), stop)

    thread = threading.Thread(target=produce, name="blazepose-decode", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _put(ready: queue.Queue, value: tuple, stop: threading.Event) -> bool:
    """Put `value` unless the consumer has stopped; whether it was put."""
    while not stop.is_set():
        try:
            ready.put(value, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
