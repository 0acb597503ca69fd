"""Ctrl-S forwarded to the writer (cluster/saves.py): a request no writer heard is sent again
at the next turn but one of the keeper, until it is answered, and answered once."""

from __future__ import annotations

import asyncio
import json

from jupyter_ycollab.cluster.saves import ForwardedSaves

from ...client import wait_until


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


async def test_a_closing_room_waits_for_an_answer_and_fails_without_one() -> None:
    """``answered`` (a closing room, settle): the writer's answer, or ``failed`` at the end."""
    sent: list[dict[str, str]] = []
    saves = ForwardedSaves(lambda message: sent.append(json.loads(message)))
    assert await saves.answered(0.05) == "failed"  # nobody answered

    answer = asyncio.ensure_future(saves.answered(5))
    await wait_until(lambda: len(sent) == 2, 5, "the second request")
    saves.heard({"saved": sent[1]["save"], "status": "success"}, writer=None)
    assert await answer == "success"


async def test_a_room_that_leaves_the_cluster_fails_every_request_still_waiting() -> None:
    """Its Ctrl-S must not hang: the front end needs an answer to each."""
    sent: list[dict[str, str]] = []
    replies: list[str] = []
    saves = ForwardedSaves(lambda message: sent.append(json.loads(message)))
    saves.forward(replies.append)
    saves.forward(replies.append)
    saves.fail_all()
    assert replies == ["failed", "failed"]
    saves.heard({"saved": sent[0]["save"], "status": "success"}, writer=None)  # too late
    assert replies == ["failed", "failed"]  # answered once each
