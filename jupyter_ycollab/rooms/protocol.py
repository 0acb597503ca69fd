"""Frames of the y-websocket protocol <-> typed messages. Pure: no I/O, no pycrdt.

Layouts (lib0 encoding) are in docs/protocol.md section 4. Decoding is strict: anything that does
not parse exactly raises :class:`MalformedFrame`, so a hostile frame never reaches a document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ..errors import MalformedFrame

_MAX_VARUINT_BYTES = 8  # 56 bits: far beyond any length or id we accept


class MessageType(IntEnum):
    SYNC = 0
    AWARENESS = 1
    RAW = 2
    QUERY_AWARENESS = 3


class SyncStep(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


@dataclass(frozen=True, slots=True)
class Sync:
    step: SyncStep
    payload: bytes


@dataclass(frozen=True, slots=True)
class Awareness:
    payload: bytes


@dataclass(frozen=True, slots=True)
class SaveRequest:
    save_id: int


@dataclass(frozen=True, slots=True)
class Raw:
    """A RAW message we do not act on: dropped, never relayed."""

    text: str


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    pass


Message = Sync | Awareness | SaveRequest | Raw | QueryAwareness


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: str  # JSON text; "null" means the client is gone


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def var_uint(self) -> int:
        value = shift = 0
        for _ in range(_MAX_VARUINT_BYTES):
            if self.pos >= len(self.data):
                raise MalformedFrame("truncated varint")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise MalformedFrame("varint too long")

    def var_bytes(self) -> bytes:
        length = self.var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise MalformedFrame("length past the end of the frame")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def var_string(self) -> str:
        try:
            return self.var_bytes().decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedFrame("string is not UTF-8") from error

    def end(self) -> None:
        if self.pos != len(self.data):
            raise MalformedFrame("trailing bytes after the message")


def decode(frame: bytes) -> Message:
    """Parse one binary frame; raise :class:`MalformedFrame` on anything unexpected."""
    reader = _Reader(frame)
    kind = reader.var_uint()
    message: Message
    if kind == MessageType.SYNC:
        step = reader.var_uint()
        if step not in (SyncStep.STEP1, SyncStep.STEP2, SyncStep.UPDATE):
            raise MalformedFrame(f"unknown sync step {step}")
        message = Sync(SyncStep(step), reader.var_bytes())
    elif kind == MessageType.AWARENESS:
        message = Awareness(reader.var_bytes())
    elif kind == MessageType.RAW:
        text = reader.var_string()
        message = SaveRequest(reader.var_uint()) if text == "save" else Raw(text)
    elif kind == MessageType.QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise MalformedFrame(f"unknown message type {kind}")
    reader.end()
    return message


def _var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _var_bytes(data: bytes) -> bytes:
    return _var_uint(len(data)) + data


def encode_sync(step: SyncStep, payload: bytes) -> bytes:
    # One copy of the payload: ``head + _var_bytes(payload)`` made two, the first a temporary
    # as large as the payload (a 100 MB update's broadcast peaked at 300 MB, now 200).
    return b"".join((bytes((MessageType.SYNC, step)), _var_uint(len(payload)), payload))


def encode_awareness(payload: bytes) -> bytes:
    return bytes((MessageType.AWARENESS,)) + _var_bytes(payload)


def encode_raw(data: dict[str, Any]) -> bytes:
    return bytes((MessageType.RAW,)) + _var_bytes(json.dumps(data).encode())


def encode_file_status(deleted_from: str | None) -> bytes:
    """jupyter-docprovider 3.1's "external-change" status: the notice it shows over a document
    whose file was deleted (``deleted_from``, its path), and none once it is back (``None``)."""
    change = None if deleted_from is None else {"originalPath": deleted_from, "reason": "deleted"}
    return encode_raw({"type": "external-change", "change": change})


def decode_awareness_update(payload: bytes) -> list[AwarenessEntry]:
    reader = _Reader(payload)
    entries = [  # the fields in wire order: arguments are read left to right
        AwarenessEntry(reader.var_uint(), reader.var_uint(), reader.var_string())
        for _ in range(reader.var_uint())
    ]
    reader.end()
    return entries


def read_state_vector(data: bytes) -> dict[int, int]:
    """A Yjs state vector: ``varUint(n)`` then n x ``varUint(client) varUint(clock)``."""
    reader = _Reader(data)
    state = {}
    for _ in range(reader.var_uint()):
        client = reader.var_uint()
        state[client] = reader.var_uint()
    reader.end()
    return state


def read_delete_set(update: bytes) -> list[tuple[int, int, int]] | None:
    """The delete set of a v1 update without structs, as (client, clock, length) ranges;
    None when the update still holds structs (this reader does not parse those)."""
    reader = _Reader(update)
    if reader.var_uint() != 0:
        return None
    ranges = []
    for _ in range(reader.var_uint()):
        client = reader.var_uint()
        for _ in range(reader.var_uint()):
            clock = reader.var_uint()
            ranges.append((client, clock, reader.var_uint()))
    reader.end()
    return ranges


def encode_awareness_update(entries: list[AwarenessEntry]) -> bytes:
    parts = [_var_uint(len(entries))]
    for entry in entries:
        parts += [_var_uint(entry.client_id), _var_uint(entry.clock)]
        parts.append(_var_bytes(entry.state.encode()))
    return b"".join(parts)
