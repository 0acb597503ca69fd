"""Where jupyterlab-chat's chat, as rooms use it (codec/chats.py), puts a newly stamped message."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("jupyterlab_chat")  # codec/chats.py is imported once a chat is seen

from jupyter_ycollab.codec.chats import _place_among


def at(*times: float) -> list[dict[str, Any]]:
    return [{"time": when} for when in times]


@pytest.mark.parametrize(
    ("others", "stamp", "place"),
    [
        (at(), 5.0, 0),  # the first message
        (at(1.0, 2.0), 5.0, 2),  # the newest: last, one past the others (upstream lost it)
        (at(1.0, 9.0), 5.0, 1),  # between an older and a newer one
        (at(7.0, 9.0), 5.0, 0),  # older than all: first
        (at(1.0, 5.0), 5.0, 1),  # an equal time is not older: before it
        ([{}, *at(9.0)], 5.0, 1),  # no time reads as the oldest
    ],
)
def test_a_stamped_message_goes_after_the_last_older_one(
    others: list[dict[str, Any]], stamp: float, place: int
) -> None:
    assert _place_among(others, stamp) == place
