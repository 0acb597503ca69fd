"""How the server and its render process talk (process.py, child.py): over a pair of
pipes, one message at a time, each a pickle with byte strings beside it.

Why beside: the big byte strings (snapshots, file contents: 20 MB each for a notebook of images)
would be copied into the pickle, and copying them on the event loop stalled it for ~70 ms per
save. Why 1 MiB pipe buffers: Linux's default, 64 KiB, made a 20 MB transfer take ~28 ms of
back-and-forth between the two processes; 1 MiB: ~7 ms.
"""

from __future__ import annotations

import contextlib
import pickle
import struct
import sys
from typing import IO, Any

#: The child's first line, written once its imports are done.
HELLO = b"ready\n"
_COUNT = struct.Struct("<Q")
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux's fcntl command (Python 3.10+ names it, on Linux only)


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
