"""The few frame layouts the suite builds or parses by hand (docs/protocol.md section 4).

SYNC frames are built and applied with pycrdt's own helpers; only RAW frames (Jupyter's save
request and reply) need lib0 varString encoding, whose length is the UTF-8 byte length.
"""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Decoder, YMessageType, YSyncMessageType, write_var_uint

RAW = 2
QUERY_AWARENESS = 3
EMPTY_UPDATE = b"\x00\x00"
EMPTY_STATE_VECTOR = b"\x00"


def var_string(text: str) -> bytes:
    """lib0 varString: varUint(UTF-8 byte length) followed by the bytes."""
    data = text.encode()
    return write_var_uint(len(data)) + data


def save_request(save_id: int) -> bytes:
    """RAW frame asking the server to save now: `02 varString("save") varUint(saveId)`."""
    return bytes([RAW]) + var_string("save") + write_var_uint(save_id)


def parse_raw(frame: bytes) -> dict[str, Any] | None:
    """The JSON object carried by a RAW frame, or None when it carries something else."""
    text = Decoder(frame[1:]).read_var_string()
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def sync_frame(sub: YSyncMessageType, payload: bytes) -> bytes:
    """`00 varUint(sub) varUint8Array(payload)`."""
    return bytes([YMessageType.SYNC, sub]) + write_var_uint(len(payload)) + payload


def empty_step1() -> bytes:
    """SYNC step1 of an empty document (what a stateless relay announces)."""
    return sync_frame(YSyncMessageType.SYNC_STEP1, EMPTY_STATE_VECTOR)


def empty_step2() -> bytes:
    """SYNC step2 with an empty update: enough for a client to count as synced."""
    return sync_frame(YSyncMessageType.SYNC_STEP2, EMPTY_UPDATE)
