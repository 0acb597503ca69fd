"""cluster/awareness.py: an awareness entry of a stream says who announced it (``Announced``), and
the server that reads it (``RemoteAwareness.heard``) applies it as that peer's: a client id is
its user's, a read-only peer's autosave wish is not heard, what the server itself said (no user)
is taken. An entry that does not read is left out, logged, and changes nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from jupyter_ycollab.cluster.awareness import Announced, RemoteAwareness
from jupyter_ycollab.cluster.entries import Entry
from jupyter_ycollab.rooms.protocol import AwarenessEntry, encode_awareness_update
from jupyter_ycollab.rooms.room import Room

YU_PAGE, XI_PAGE = 11, 22


@pytest.fixture
def expected_errors(expected_errors: list[str]) -> list[str]:
    return [*expected_errors, r"Stream entry b'1-2' from c is no awareness update: left out"]


def update(client_id: int, clock: int, state: Any) -> bytes:
    return encode_awareness_update([AwarenessEntry(client_id, clock, json.dumps(state))])


@pytest.mark.parametrize(
    "said",
    [
        Announced(update(YU_PAGE, 1, {"user": {"name": "Yu"}}), "yu", True),
        Announced(update(YU_PAGE, 1, {"autosave": True}), "reader", False),
        Announced(update(YU_PAGE, 2, None), None, True),  # the server's removal of a page
        Announced(update(10, 1, {"c": 1}), 'Zoë\n"quoted"\\', True),  # no newline in its JSON
        Announced(b"\n\x00\n\xff", "yu", True),  # the update's bytes are kept as they are
        Announced(b"", "", False),
    ],
)
def test_an_announcement_reads_back_as_written(said: Announced) -> None:
    assert Announced.decode(said.encode()) == said


@pytest.mark.parametrize(
    "payload",
    [
        update(YU_PAGE, 1, {}),  # a bare update, no announcer
        b"",
        b'{"user": "yu", "saves": true}',  # no newline: no update after it
        b"not json\n" + update(YU_PAGE, 1, {}),
        b"\xff\xfe\n" + update(YU_PAGE, 1, {}),
        b'["yu", true]\n' + update(YU_PAGE, 1, {}),
        b'{"user": "yu"}\n' + update(YU_PAGE, 1, {}),
        b'{"user": "yu", "saves": true, "more": 1}\n' + update(YU_PAGE, 1, {}),
        b'{"user": 7, "saves": true}\n' + update(YU_PAGE, 1, {}),
        b'{"user": "yu", "saves": 1}\n' + update(YU_PAGE, 1, {}),
    ],
)
def test_a_payload_naming_no_announcer_does_not_read(payload: bytes) -> None:
    with pytest.raises(ValueError):
        Announced.decode(payload)


def relay() -> tuple[Room, RemoteAwareness]:
    """A room (the global awareness room's kind: no document) hearing the other servers."""
    remote = RemoteAwareness()
    remote.room = Room("JupyterLab:globalAwareness")
    return remote.room, remote


def entry(said: Announced, server: str = "b", number: int = 1) -> Entry:
    return Entry(f"1-{number}".encode(), server, "a", said.encode())


def test_a_client_id_is_its_users_across_servers() -> None:
    """Yu's page announced its client id on server b; what xi then says under it, renaming or
    removing Yu's cursor, is left out whichever server relays it; Yu may say it again."""
    room, remote = relay()
    yu = {"user": {"name": "Yu"}}
    remote.heard(entry(Announced(update(YU_PAGE, 1, yu), "yu")))
    remote.heard(entry(Announced(update(YU_PAGE, 2, {"user": {"name": "not Yu"}}), "xi")))
    remote.heard(entry(Announced(update(YU_PAGE, 3, None), "xi"), server="c"))
    assert room.awareness.states()[YU_PAGE] == yu

    remote.heard(entry(Announced(update(YU_PAGE, 4, {"user": {"name": "Yu", "back": 1}}), "yu")))
    assert room.awareness.states()[YU_PAGE] == {"user": {"name": "Yu", "back": 1}}


def test_what_a_server_says_itself_is_taken() -> None:
    """A removal a server makes when its peer leaves names no user: taken as before."""
    room, remote = relay()
    remote.heard(entry(Announced(update(YU_PAGE, 1, {"user": {"name": "Yu"}}), "yu")))
    remote.heard(entry(Announced(update(YU_PAGE, 2, None), None)))
    assert YU_PAGE not in room.awareness.states()


def test_a_relayed_read_only_wish_is_not_heard() -> None:
    room, remote = relay()
    remote.heard(entry(Announced(update(YU_PAGE, 1, {"autosave": False}), "yu")))
    remote.heard(entry(Announced(update(XI_PAGE, 1, {"autosave": True}), "xi", saves=False)))
    assert XI_PAGE in room.awareness.states()  # shown to everyone, as a peer's own
    assert room.awareness.autosave() is False

    remote.heard(entry(Announced(update(XI_PAGE, 2, {"autosave": True}), "xi", saves=True)))
    assert room.awareness.autosave() is True  # an editor's wish is heard


@pytest.mark.parametrize(
    "payload",
    [
        update(YU_PAGE, 2, {"user": "bare"}),  # no announcer
        Announced(b"\x05\x01", "yu").encode(),  # an update that does not decode
        Announced(b"\x01\x0b\x02\x05{bad}", "yu").encode(),  # a state that is not JSON
    ],
)
def test_an_entry_that_does_not_read_is_left_out_and_logged(
    payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    room, remote = relay()
    remote.heard(entry(Announced(update(YU_PAGE, 1, {"user": "Yu"}), "yu")))
    before = room.awareness.snapshot()

    with caplog.at_level(logging.ERROR, "jupyter_ycollab.cluster.awareness"):
        remote.heard(Entry(b"1-2", "c", "a", payload))

    assert room.awareness.snapshot() == before
    assert remote.servers == {"b"}  # "c" holds no state here
    assert "1-2" in caplog.text and "left out" in caplog.text
