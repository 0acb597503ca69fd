"""Table and property tests of the frame codec (pure: no server)."""

from __future__ import annotations

import pycrdt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_ycollab.errors import MalformedFrame
from jupyter_ycollab.rooms import protocol
from jupyter_ycollab.rooms.protocol import AwarenessEntry, SyncStep


def test_sync_frames_match_pycrdts_own_encoder() -> None:
    doc: pycrdt.Doc = pycrdt.Doc()
    doc.get("t", type=pycrdt.Text).insert(0, "hello")
    assert protocol.encode_sync(SyncStep.STEP1, doc.get_state()) == pycrdt.create_sync_message(doc)
    update = doc.get_update()
    assert protocol.encode_sync(SyncStep.UPDATE, update) == pycrdt.create_update_message(update)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b"\x00\x00\x01\x00", protocol.Sync(SyncStep.STEP1, b"\x00")),
        (b"\x00\x02\x02\x00\x00", protocol.Sync(SyncStep.UPDATE, b"\x00\x00")),
        (b"\x01\x01\x00", protocol.Awareness(b"\x00")),
        (b"\x02\x04save\xac\x02", protocol.SaveRequest(300)),
        (b"\x02\x02hi", protocol.Raw("hi")),
        (b"\x03", protocol.QueryAwareness()),
    ],
)
def test_decode_known_frames(frame: bytes, expected: protocol.Message) -> None:
    assert protocol.decode(frame) == expected


@pytest.mark.parametrize(
    "frame",
    [
        b"",  # empty frame
        b"\x09",  # unknown message type
        b"\x00\x07\x00",  # unknown sync step
        b"\x00\x00\x05ab",  # length past the frame
        b"\x00\x00\x80",  # truncated varint
        b"\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # varint too long
        b"\x00\x00\x01\x00\x00",  # trailing bytes
        b"\x02\x02\xff\xfe",  # RAW string not UTF-8
        b"\x02\x04save",  # save request without its id
    ],
)
def test_malformed_frames_raise(frame: bytes) -> None:
    with pytest.raises(MalformedFrame):
        protocol.decode(frame)


@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_malformed(frame: bytes) -> None:
    try:
        message = protocol.decode(frame)
    except MalformedFrame:
        return
    known = (protocol.Sync, protocol.Awareness, protocol.SaveRequest, protocol.Raw)
    assert isinstance(message, (*known, protocol.QueryAwareness))


@given(st.sampled_from(list(SyncStep)), st.binary(max_size=300))
def test_sync_roundtrip(step: SyncStep, payload: bytes) -> None:
    assert protocol.decode(protocol.encode_sync(step, payload)) == protocol.Sync(step, payload)


entries = st.builds(
    AwarenessEntry,
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**40),
    st.one_of(st.just("null"), st.text(max_size=40)),
)


@given(st.lists(entries, max_size=5))
def test_awareness_update_roundtrip(values: list[AwarenessEntry]) -> None:
    payload = protocol.encode_awareness_update(values)
    assert protocol.decode_awareness_update(payload) == values


def test_awareness_update_matches_pycrdts_awareness() -> None:
    doc: pycrdt.Doc = pycrdt.Doc()
    awareness = pycrdt.Awareness(doc)
    awareness.set_local_state({"user": {"name": "Ada"}})
    payload = awareness.encode_awareness_update([doc.client_id])
    (entry,) = protocol.decode_awareness_update(payload)
    assert entry.client_id == doc.client_id
    assert '"Ada"' in entry.state


@given(st.integers(0, 2**50))
def test_save_requests_decode_any_id(save_id: int) -> None:
    frame = b"\x02\x04save" + pycrdt.write_var_uint(save_id)  # as the front end encodes it
    assert protocol.decode(frame) == protocol.SaveRequest(save_id)
