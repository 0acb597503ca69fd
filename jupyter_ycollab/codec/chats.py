"""jupyterlab-chat's document class (``YChat``) as rooms use it: no message lost or doubled when
two arrive at once, and in a cluster, each new message acted on by one server.

A server's YChat gives each new message the server's time and moves it after the messages older
than it (the browser's clock is not trusted), a moment later (``loop.call_soon``), by the index
the message had when it arrived. When another message arrived meanwhile (two users pressing
Enter at the same moment), jupyterlab-chat 0.25 (``YChat._set_timestamp``) deleted the first to
move it after the second, then failed to insert it (an index one past the end): gone for
everyone, and from the file at the next save. jupyter-collaboration loses it too: two users
sending one message each at the same moment, 10 times, lost half of them on both servers.

Here a message is stamped by its id, and its place is counted among the others, so it is
always in range; moved, it stays a map (YChat put back a plain value, which pages cannot
edit). A message from another server of a cluster (cluster/) is that server's to stamp: a
message two servers moved at once was there twice. Likewise only its server tells who
observes new messages (jupyter-ai's router): on every server, each would answer it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from jupyterlab_chat.ychat import YChat
from pycrdt import Map

from .listeners import UpdateListeners


def _place_among(others: list[dict[str, Any]], timestamp: float) -> int:
    """Where a message stamped ``timestamp`` goes among ``others``: after the last older one."""
    for back, message in enumerate(reversed(others)):
        if message.get("time", 0) < timestamp:
            return len(others) - back
    return 0


#: The jupyterlab-chat releases whose YChat the methods below were read from and tested with
#: (they replace private ones): another keeps its own class, and tests/test_chat.py says if it
#: still loses messages.
CORRECTED = "0.25."


class RoomChat(YChat):
    def _schedule_callback(self, callback: Callable[..., Any], *args: Any) -> None:  # type: ignore[override]
        """Schedule a message's stamp by its id, not its index (which may be another's by
        then), and none for a message from another server: that server stamps it."""
        if callback == self._set_timestamp:
            if UpdateListeners.of(self._ydoc).from_another_server():
                return
            index, timestamp = args
            args = (self._ymessages[index]["id"], timestamp)
        super()._schedule_callback(callback, *args)

    def _dispatch_message_event(self, callback: Callable[..., Any], event: Any) -> None:
        if not UpdateListeners.of(self._ydoc).from_another_server():
            super()._dispatch_message_event(callback, event)

    def _set_timestamp(self, message_id: str, timestamp: float) -> None:  # type: ignore[override]
        """Give the message the server's time, and its place among the others."""
        with self._ydoc.transaction():
            messages = self._get_messages()
            ids = [message.get("id") for message in messages]
            if message_id not in ids:
                return  # deleted meanwhile
            index = ids.index(message_id)
            if messages[index].get("raw_time") is False:
                return  # stamped by another view of this room (a deployment's)
            self._ymessages[index].update({"time": timestamp, "raw_time": False})
            place = _place_among(messages[:index] + messages[index + 1 :], timestamp)
            if place == index:
                return
            # As a map again: ``pop`` gives a plain value, which the page cannot edit.
            self._ymessages.insert(place, Map(self._ymessages.pop(index)))
        # YChat takes a move (one out, one in) for an edit, and keeps the index it looks a
        # message up by (``update_message``: a persona's answer, streamed) as it was.
        self._indexes_by_id = {m["id"]: at for at, m in enumerate(self._get_messages())}


#: What rooms view chats with (codec/kinds.py ``for_rooms``).
ROOM_CHAT: type[YChat] = RoomChat if version("jupyterlab-chat").startswith(CORRECTED) else YChat
