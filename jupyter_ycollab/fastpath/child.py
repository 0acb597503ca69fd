"""The render process itself: serves render and read jobs from its stdin, one at a time, until
the server closes that pipe (process.py starts and stops it).

It runs below the server in priority: on a busy machine a save may take longer, but the server
(and its event loop) keeps its share of the CPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import sys
from typing import IO

from ..memory import give_back_freed_memory
from .pipe import HELLO, receive, send
from .read import ReadJob, read_notebook_file
from .serialise import FastJob, RenderedBytes, render

#: Freed memory goes back to the system once no job came for this long, not after every job:
#: each job would then fault its pages in again (a save of a 20 MB notebook: ~35 ms of trimming
#: and page faults in a ~100 ms save).
_IDLE_SECONDS = 0.25


def serve(jobs: IO[bytes], results: IO[bytes]) -> None:
    while True:
        # The parent sends a job only once it has the last one's reply, so nothing is buffered:
        # an empty pipe means no job is on its way.
        if not select.select([jobs], [], [], _IDLE_SECONDS)[0]:
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
