"""The update log's format: what is not in the file yet survives a crash (logfile.py writes it).

Layout: a sequence of records ``u32 length | u32 crc32 | u8 kind | payload`` (little endian).

- ``HEADER``: JSON ``{"version", "lineage", "room"}``, always first;
- ``CHECKPOINT``: the full Yjs state of the document at the last load or save (the *base*);
- ``UPDATE``: one Yjs update applied after the checkpoint;
- ``SAVING``: JSON ``{"seq"}``: a save of the checkpoint plus the first ``seq`` updates is about
  to be written (made durable before the file is touched, so a crash in the middle of a save can
  tell our own half-recorded save from someone else's change);
- ``SAVED``: JSON ``{"hash", "seq", "digest"?}``: the file now holds the checkpoint plus the first
  ``seq`` updates, and has this content hash (and this digest of its content: codec/content.py's
  ``digest_of``, kept so that a reopened room need not render its base to know it);
- ``TIME``: a little-endian double, epoch seconds: the records after it were written then (one
  per commit; the document timeline shows them).

A torn record at the end (a crash in the middle of a write) is ignored; a record that is damaged
anywhere else, or an unknown version, makes the whole log untrusted (``UnreadableLog``).
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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
    saved_digest: str | None = None
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
    return _FRAME.pack(len(payload), _crc(kind, payload), kind) + payload


def _crc(kind: int, payload: bytes | memoryview) -> int:
    """CRC-32 of the kind byte then the payload, without copying the payload (a checkpoint is
    the whole document: 20 MB for a notebook of images)."""
    return zlib.crc32(payload, zlib.crc32(bytes((kind,))))


def _json_record(kind: int, value: dict[str, Any]) -> bytes:
    return encode_record(kind, json.dumps(value).encode())


def header_record(lineage: str, room_id: str, path: str = "") -> bytes:
    """The first record: what the log is, whose history, and the file's path when written."""
    header = {"version": VERSION, "lineage": lineage, "room": room_id, "path": path}
    return _json_record(HEADER, header)


def saved_record(file_hash: str | None, seq: int, digest: str | None = None) -> bytes:
    fields: dict[str, Any] = {"hash": file_hash, "seq": seq}
    if digest is not None:
        fields["digest"] = digest
    return _json_record(SAVED, fields)


def saving_record(seq: int) -> bytes:
    return _json_record(SAVING, {"seq": seq})


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
        if _crc(kind, payload) != crc:
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
        contents.saved_digest = None
    elif kind == UPDATE:
        contents.updates.append(payload)
        contents.times.append(contents.time)
    elif kind == TIME:
        (contents.time,) = _TIME.unpack(payload)
    elif kind == SAVED:
        saved = json.loads(payload)
        contents.saved_hash, contents.saved_seq = saved["hash"], int(saved["seq"])
        contents.saved_digest = saved.get("digest")
        contents.saving_seq = None
    elif kind == SAVING:
        contents.saving_seq = int(json.loads(payload)["seq"])
    else:
        raise UnreadableLog(f"unknown record kind {kind}")
