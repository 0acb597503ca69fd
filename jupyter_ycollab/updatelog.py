"""A crash-safe, append-only log per document: what is not in the file yet survives a crash.

Layout: a sequence of records ``u32 length | u32 crc32 | u8 kind | payload`` (little endian).

- ``HEADER``: JSON ``{"version", "lineage", "room"}``, always first;
- ``CHECKPOINT``: the full Yjs state of the document at the last load or save (the *base*);
- ``UPDATE``: one Yjs update applied after the checkpoint;
- ``SAVING``: JSON ``{"seq"}``: a save of the checkpoint plus the first ``seq`` updates is about
  to be written (made durable before the file is touched, so a crash in the middle of a save can
  tell our own half-recorded save from someone else's change);
- ``SAVED``: JSON ``{"hash", "seq"}``: the file now holds the checkpoint plus the first ``seq``
  updates, and has this content hash;
- ``TIME``: a little-endian double, epoch seconds: the records after it were written then (one
  per commit; the document timeline shows them).

Appends are buffered and written with one ``write`` + ``fsync`` at most ``commit_delay`` after they
were made (group commit), in a worker thread, off the path that relays updates to peers. A torn
record at the end (a crash in the middle of a write) is cut off on open; a record that is damaged
anywhere else, or an unknown version, makes the whole log untrusted: it is moved aside.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1
HEADER, CHECKPOINT, UPDATE, SAVED, SAVING, TIME = 1, 2, 3, 4, 5, 6
_FRAME = struct.Struct("<IIB")
_TIME = struct.Struct("<d")


class UnreadableLog(Exception):
    """The log exists but cannot be trusted (damaged, unknown version)."""


@dataclass
class LogContents:
    """Everything a log says, in order."""

    lineage: str
    checkpoint: bytes
    room_id: str = ""
    path: str = ""
    updates: list[bytes] = field(default_factory=list)
    checkpoint_time: float = 0.0
    times: list[float] = field(default_factory=list)  # when each update was written
    time: float = 0.0  # of the last TIME record read
    valid_length: int = 0  # bytes of whole records: a torn tail after them is cut off on reuse
    saved_hash: str | None = None
    saved_seq: int = 0
    saving_seq: int | None = None  # a save that started and has no SAVED record (yet)

    def base_updates(self) -> list[bytes]:
        """The updates that make up what the file held at the last save."""
        return [self.checkpoint, *self.updates[: self.saved_seq]]

    def saving_updates(self) -> list[bytes] | None:
        """The updates of a save that started but was not recorded as done, if any."""
        if self.saving_seq is None:
            return None
        return [self.checkpoint, *self.updates[: self.saving_seq]]


def encode_record(kind: int, payload: bytes) -> bytes:
    body = bytes((kind,)) + payload
    return _FRAME.pack(len(payload), zlib.crc32(body), kind) + payload


def _json_record(kind: int, value: dict[str, Any]) -> bytes:
    return encode_record(kind, json.dumps(value).encode())


def header_record(lineage: str, room_id: str, path: str = "") -> bytes:
    """The first record: what the log is, whose history, and the file's path when written."""
    header = {"version": VERSION, "lineage": lineage, "room": room_id, "path": path}
    return _json_record(HEADER, header)


def saved_record(file_hash: str | None, seq: int) -> bytes:
    return _json_record(SAVED, {"hash": file_hash, "seq": seq})


def time_record(when: float | None = None) -> bytes:
    return encode_record(TIME, _TIME.pack(time.time() if when is None else when))


def _records(data: bytes) -> Iterator[tuple[int, bytes, int]]:
    """(kind, payload, end offset) of each whole record; stops at a torn tail."""
    offset = 0
    while offset + _FRAME.size <= len(data):
        length, crc, kind = _FRAME.unpack_from(data, offset)
        end = offset + _FRAME.size + length
        if end > len(data):
            return  # torn tail: the last write did not finish
        payload = data[offset + _FRAME.size : end]
        if zlib.crc32(bytes((kind,)) + payload) != crc:
            if end == len(data):
                return  # torn tail whose length field made it to disk
            raise UnreadableLog(f"damaged record at byte {offset}")
        yield kind, payload, end
        offset = end


def parse_log(data: bytes) -> LogContents:
    records = _records(data)
    first = next(records, None)
    if first is None or first[0] != HEADER:
        raise UnreadableLog("no header")
    header = json.loads(first[1])
    if header.get("version") != VERSION:
        raise UnreadableLog(f"unknown log version {header.get('version')!r}")
    contents = LogContents(
        lineage=str(header["lineage"]),
        checkpoint=b"",
        room_id=str(header.get("room", "")),
        path=str(header.get("path", "")),
    )
    contents.valid_length = first[2]
    for kind, payload, end in records:
        _apply_record(contents, kind, payload)
        contents.valid_length = end
    if not contents.checkpoint:
        raise UnreadableLog("no checkpoint")
    return contents


def _apply_record(contents: LogContents, kind: int, payload: bytes) -> None:
    if kind == CHECKPOINT:
        contents.checkpoint, contents.updates, contents.times = payload, [], []
        contents.checkpoint_time = contents.time
        contents.saved_hash, contents.saved_seq, contents.saving_seq = None, 0, None
    elif kind == UPDATE:
        contents.updates.append(payload)
        contents.times.append(contents.time)
    elif kind == TIME:
        (contents.time,) = _TIME.unpack(payload)
    elif kind == SAVED:
        saved = json.loads(payload)
        contents.saved_hash, contents.saved_seq = saved["hash"], int(saved["seq"])
        contents.saving_seq = None
    elif kind == SAVING:
        contents.saving_seq = int(json.loads(payload)["seq"])
    else:
        raise UnreadableLog(f"unknown record kind {kind}")


def read_log(path: Path) -> LogContents | None:
    """The log at ``path``; None when there is none. A damaged log is moved aside first."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return parse_log(data)
    except (UnreadableLog, ValueError, KeyError) as error:
        aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
        os.replace(path, aside)
        log.warning("Moved unreadable update log %s aside to %s: %s", path, aside, error)
        return None


def write_fresh(path: Path, records: list[bytes]) -> None:
    """Replace the log at ``path`` atomically with ``records`` (durable before the rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        file.write(b"".join(records))
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass(frozen=True)
class _Rewrite:
    records: list[bytes]


class UpdateLog:
    """The open log of one document: buffered appends, group commit, compaction."""

    def __init__(self, path: Path, commit_delay: float, size: int) -> None:
        self.path = path
        self.commit_delay = commit_delay
        self.size = size  # bytes on disk once everything buffered is written
        self.seq = 0  # updates since the checkpoint
        self._pending: list[bytes | _Rewrite] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._closed = False
        #: Set when a rewrite will be queued on the next turn of the loop: flushing waits for it,
        #: so the records that asked for it never grow the old file past its bound.
        self.rewrite_requested = False

    def append_update(self, update: bytes) -> None:
        self.seq += 1
        self._enqueue(encode_record(UPDATE, update))

    def mark_saved(self, file_hash: str | None, seq: int) -> None:
        self._enqueue(saved_record(file_hash, seq))

    def mark_saving(self, seq: int) -> None:
        self._enqueue(_json_record(SAVING, {"seq": seq}))

    def rewrite(self, records: list[bytes], seq: int) -> None:
        """Replace the whole log (compaction): ordered after everything appended so far."""
        self.seq = seq
        self.size = sum(map(len, records))
        self.rewrite_requested = False
        self._pending.append(_Rewrite(records))
        self._schedule()

    def _enqueue(self, record: bytes) -> None:
        self.size += len(record)
        self._pending.append(record)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and self._flushing is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.commit_delay, self._start_flush)

    def _start_flush(self) -> None:
        self._timer = None
        self._flushing = asyncio.create_task(self._flush(), name=f"log {self.path.name}")

    async def _flush(self) -> None:
        try:
            while self._pending:
                while self.rewrite_requested:
                    await asyncio.sleep(0)  # one turn of the loop: the rewrite is queued then
                batch, self._pending = self._pending, []
                await asyncio.to_thread(self._write, batch)
        finally:
            self._flushing = None

    def _write(self, batch: list[bytes | _Rewrite]) -> None:
        # A rewrite holds everything queued before it: those records need not touch the disk
        # (and the old file never grows past the bound that asked for the rewrite).
        rewrites = [index for index, item in enumerate(batch) if isinstance(item, _Rewrite)]
        if rewrites:
            last = batch[rewrites[-1]]
            assert isinstance(last, _Rewrite)
            write_fresh(self.path, last.records)
            batch = batch[rewrites[-1] + 1 :]
        self._append_durably([item for item in batch if isinstance(item, bytes)])

    def _append_durably(self, records: list[bytes]) -> None:
        if not records:
            return
        with open(self.path, "ab") as file:
            file.write(time_record() + b"".join(records))
            file.flush()
            os.fsync(file.fileno())

    async def flush(self) -> None:
        """Write everything appended so far, now."""
        if self._timer is not None:
            self._timer.cancel()
            self._start_flush()
        while self._flushing is not None:
            await self._flushing
            if self._pending and self._flushing is None:
                self._start_flush()

    async def close(self) -> None:
        await self.flush()
        self._closed = True
