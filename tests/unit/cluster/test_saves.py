"""Ctrl-S forwarded to the writer (cluster/saves.py): a request no writer heard is sent again
at the next turn but one of the keeper, until it is answered, and answered once."""

from __future__ import annotations

import json

from jupyter_ycollab.cluster.saves import ForwardedSaves


async def test_an_unanswered_request_is_sent_again_until_answered_and_answered_once() -> None:
    sent: list[dict[str, str]] = []
    replies: list[str] = []
    saves = ForwardedSaves(lambda message: sent.append(json.loads(message)))
    saves.forward(replies.append)
    request = sent[0]["save"]

    saves.remind()  # the first turn: it was just sent
    assert sent == [{"save": request}]
    saves.remind()  # a turn later, still unanswered (no writer heard it): asked again
    assert sent == [{"save": request}, {"save": request}]

    # The new writer heard both and answered both; the user gets one reply.
    saves.heard({"saved": request, "status": "success"}, writer=None)
    saves.heard({"saved": request, "status": "success"}, writer=None)
    assert replies == ["success"]
    saves.remind()
    saves.remind()
    assert len(sent) == 2  # answered: never asked again
