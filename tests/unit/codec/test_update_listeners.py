"""Who hears a Doc's update, in which order, and from where it came (codec/listeners.py,
codec/origins.py): the one subscription that replaced the room's author, the document's quiet
flag and the history's unhurried flag."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc, Text

from jupyter_ycollab.codec.listeners import Hears, UpdateListeners
from jupyter_ycollab.codec.origins import NOT_EDITS, FromPeer, Origin, TransactionOrigin
from jupyter_ycollab.document.state import write_state


def _edit(doc: Doc[Any], text: str = "x") -> None:
    source = doc.get("source", type=Text)
    source.insert(len(source), text)


def _an_update(text: str = "y") -> bytes:
    other: Doc[Any] = Doc()
    _edit(other, text)
    return other.get_update()


def test_listeners_hear_in_their_places_order_not_in_the_order_they_came() -> None:
    doc: Doc[Any] = Doc()
    listeners = UpdateListeners.of(doc)
    heard: list[Hears] = []
    for place in (Hears.FORKS, Hears.RELAY, Hears.LOG, Hears.FORKS, Hears.SNAPSHOTS):
        listeners.listen(place, lambda _update, _origin, place=place: heard.append(place))
    _edit(doc)
    assert heard == [Hears.LOG, Hears.SNAPSHOTS, Hears.RELAY, Hears.FORKS, Hears.FORKS]


def test_one_set_of_listeners_per_doc() -> None:
    doc: Doc[Any] = Doc()
    assert UpdateListeners.of(doc) is UpdateListeners.of(doc)
    assert UpdateListeners.of(doc) is not UpdateListeners.of(Doc())


def test_an_update_carries_its_origin_and_an_unnamed_change_is_server_code() -> None:
    doc: Doc[Any] = Doc()
    listeners = UpdateListeners.of(doc)
    origins: list[TransactionOrigin] = []
    listeners.listen(Hears.RELAY, lambda _update, origin: origins.append(origin))
    alice = object()
    listeners.apply(_an_update("a"), FromPeer(alice))
    _edit(doc)  # a hook writing to the document directly: nobody named the origin
    listeners.apply(_an_update("b"), Origin.DISK)
    assert origins == [FromPeer(alice), Origin.SERVER_API, Origin.DISK]
    assert listeners.origin is Origin.SERVER_API  # each origin lasted its own update only


def test_the_servers_state_values_are_no_edit_and_a_load_neither() -> None:
    doc: Doc[Any] = Doc()
    listeners = UpdateListeners.of(doc)
    origins: list[TransactionOrigin] = []
    listeners.listen(Hears.LOG, lambda _update, origin: origins.append(origin))
    write_state(doc, dirty=False, path="a.txt")
    listeners.apply(_an_update(), Origin.LOAD)
    assert origins == [Origin.SERVER_STATE, Origin.LOAD]
    assert set(origins) <= NOT_EDITS
    assert FromPeer(object()) not in NOT_EDITS and Origin.SERVER_API not in NOT_EDITS


def test_a_listener_that_raises_does_not_keep_the_later_ones_from_hearing() -> None:
    doc: Doc[Any] = Doc()
    listeners = UpdateListeners.of(doc)
    heard: list[bytes] = []

    def broken(_update: bytes, _origin: TransactionOrigin) -> None:
        raise ValueError("broken listener")

    listeners.listen(Hears.LOG, broken)
    listeners.listen(Hears.RELAY, lambda update, _origin: heard.append(update))
    with pytest.raises(Exception):  # noqa: B017  # pycrdt raises it (grouped in 0.14)
        _edit(doc)
    assert len(heard) == 1


def test_a_stopped_listener_hears_nothing_more() -> None:
    doc: Doc[Any] = Doc()
    listeners = UpdateListeners.of(doc)
    heard: list[str] = []
    stop_log = listeners.listen(Hears.LOG, lambda _u, _o: heard.append("log"))
    stop_relay = listeners.listen(Hears.RELAY, lambda _u, _o: heard.append("relay"))
    stop_log()
    _edit(doc)
    stop_relay()
    _edit(doc)
    assert heard == ["relay"]


def test_changes_made_as_one_update_are_heard_once_even_when_their_maker_raises() -> None:
    """``as_one_update``: listeners hear one update from the origin said, with every change made
    inside; and hear it when the code that made them raised, or peers would never get them."""
    doc: Doc[Any] = Doc()
    listeners = UpdateListeners.of(doc)
    heard: list[tuple[bytes, TransactionOrigin]] = []
    listeners.listen(Hears.RELAY, lambda update, origin: heard.append((update, origin)))
    with pytest.raises(ValueError), listeners.as_one_update(Origin.SERVER_STATE):
        _edit(doc, "a")
        _edit(doc, "b")
        raise ValueError("the view's making failed")
    _edit(doc, "c")
    assert [origin for _, origin in heard] == [Origin.SERVER_STATE, Origin.SERVER_API]
    replica: Doc[Any] = Doc()
    replica.apply_update(heard[0][0])
    assert str(replica.get("source", type=Text)) == "ab"
