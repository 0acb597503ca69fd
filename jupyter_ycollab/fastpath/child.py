"""The render process itself: serves render and read jobs from its stdin, one at a time, until
the server closes that pipe (process.py starts and stops it); and how the two talk, over a pair
of pipes, one message at a time, each a pickle with byte strings beside it.

It runs below the server in priority: on a busy machine a save may take longer, but the server
(and its event loop) keeps its share of the CPU.

Why beside: the big byte strings (snapshots, file contents: 20 MB each for a notebook of images)
would be copied into the pickle, and copying them on the event loop stalled it for ~70 ms per
save. Why 1 MiB pipe buffers: Linux's default, 64 KiB, made a 20 MB transfer take ~28 ms of
back-and-forth between the two processes; 1 MiB: ~7 ms.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import select
import struct
import sys
from typing import IO, Any

from ..memory import give_back_freed_memory
from .read import ReadJob, read_notebook_file
from .serialise import FastJob, RenderedBytes, render

#: The child's first line, written once its imports are done.
HELLO = b"ready\n"
_COUNT = struct.Struct("<Q")
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux's fcntl command (Python 3.10+ names it, on Linux only)
#: Freed memory goes back to the system once no job came for this long, not after every job:
#: each job would then fault its pages in again (a save of a 20 MB notebook: ~35 ms of trimming
#: and page faults in a ~100 ms save).
_IDLE_SECONDS = 0.25


def widen(pipe: IO[bytes] | None) -> None:
    """Give ``pipe`` a 1 MiB buffer where the system allows it (Linux; else keep its own)."""
    if pipe is None or not sys.platform.startswith("linux"):
        return
    import fcntl

    with contextlib.suppress(OSError):  # above the system's limit: the default stays
        fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)


def send(stream: IO[bytes], value: object, parts: list[bytes]) -> None:
    """A pickle, then byte strings beside it (never copied into it)."""
    message = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    lengths = [len(message), *map(len, parts)]
    stream.write(_COUNT.pack(len(lengths)) + struct.pack(f"<{len(lengths)}Q", *lengths))
    for part in (message, *parts):
        stream.write(part)  # big parts go straight to the pipe, not through a buffer
    stream.flush()


def receive(stream: IO[bytes]) -> tuple[Any, list[bytes]]:
    (count,) = _COUNT.unpack(read_exactly(stream, _COUNT.size))
    lengths = struct.unpack(f"<{count}Q", read_exactly(stream, 8 * count))
    message, *parts = [read_exactly(stream, length) for length in lengths]
    return pickle.loads(message), parts


def read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the other side closed the pipe")
    return data


def readable(pipe: IO[bytes], timeout: float) -> bool:
    """Whether ``pipe`` has bytes to read (or is closed) within ``timeout`` seconds. ``poll``,
    not ``select``: a server with over 1,024 files open (its peers' sockets) has descriptors
    that ``select`` refuses."""
    poller = select.poll()
    poller.register(pipe, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


def serve(jobs: IO[bytes], results: IO[bytes]) -> None:
    while True:
        # The parent sends a job only once it has the last one's reply, so nothing is buffered:
        # an empty pipe means no job is on its way.
        if not readable(jobs, _IDLE_SECONDS):
            give_back_freed_memory()  # the last jobs' parses and documents: ~90 MB at 10k
        try:
            (meta, has_base), parts = receive(jobs)
        except EOFError:
            return
        try:
            if isinstance(meta, ReadJob):
                send(results, (True, read_notebook_file(meta)), [])
            else:
                send(results, *_rendered(meta, has_base, parts))
        except Exception as error:  # reported to the parent, which works in a thread instead
            send(results, (False, repr(error)), [])
        del meta, parts


def _rendered(meta: FastJob, has_base: bool, parts: list[bytes]) -> tuple[object, list[bytes]]:
    base = parts.pop(0) if has_base else None
    job = dataclasses.replace(meta, parts=tuple(parts), base=base)
    rendered = render(job)
    snapshot = rendered.snapshot if len(job.parts) > 1 else b""
    if isinstance(rendered, RenderedBytes):  # the bytes go apart, not pickled
        reply = dataclasses.replace(rendered, snapshot=b"", data=b"")
        return (True, reply), [snapshot, rendered.data]
    return (True, dataclasses.replace(rendered, snapshot=b"")), [snapshot]


if __name__ == "__main__":
    os.nice(5)
    results = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by a library may corrupt the results
    results.write(HELLO)  # everything is imported: jobs are answered at once from now on
    results.flush()
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        serve(sys.stdin.buffer, results)
