"""Ctrl-S forwarded to the writer (cluster/saves.py): a request no writer heard is sent again
at the next turn but one of the keeper, until it is answered, and answered once, with why it
failed when it did."""

from __future__ import annotations

import asyncio
import json

from jupyter_ycollab.cluster.saves import ForwardedSaves
from jupyter_ycollab.document.sharing import SaveReply

from ...client import wait_until


def hearing(replies: list[tuple[str, str]]) -> SaveReply:
    return lambda status, reason: replies.append((status, reason))


async def test_an_unanswered_request_is_sent_again_until_answered_and_answered_once() -> None:
    sent: list[dict[str, str]] = []
    replies: list[tuple[str, str]] = []
    saves = ForwardedSaves(lambda message: sent.append(json.loads(message)))
    saves.forward(hearing(replies))
    request = sent[0]["save"]

    saves.remind()  # the first turn: it was just sent
    assert sent == [{"save": request}]
    saves.remind()  # a turn later, still unanswered (no writer heard it): asked again
    assert sent == [{"save": request}, {"save": request}]

    # The new writer heard both and answered both; the user gets one reply.
    saves.heard({"saved": request, "status": "success"}, None, writes=False)
    saves.heard({"saved": request, "status": "success"}, None, writes=False)
    assert replies == [("success", "")]
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
    saves.heard({"saved": sent[1]["save"], "status": "success"}, None, writes=False)
    assert await answer == "success"


async def test_a_room_that_leaves_the_cluster_fails_every_request_still_waiting() -> None:
    """Its Ctrl-S must not hang: the front end needs an answer to each."""
    sent: list[dict[str, str]] = []
    replies: list[tuple[str, str]] = []
    saves = ForwardedSaves(lambda message: sent.append(json.loads(message)))
    saves.forward(hearing(replies))
    saves.forward(hearing(replies))
    saves.fail_all()
    closed = ("failed", "the room closed before the file was saved")
    assert replies == [closed, closed]
    saves.heard({"saved": sent[0]["save"], "status": "success"}, None, writes=False)  # too late
    assert replies == [closed, closed]  # answered once each


class FailingWriter:
    """A writer's document whose save fails (its ``request_save`` answers at once)."""

    def request_save(self, reply: SaveReply) -> None:
        reply("failed", "Permission denied: nb.ipynb")


async def test_why_the_writers_save_failed_reaches_the_server_that_asked() -> None:
    """The front end (jupyter-docprovider 3.1) shows it in JupyterLab's "File Save Error" dialog."""
    asked: list[dict[str, str]] = []
    replies: list[tuple[str, str]] = []
    asking = ForwardedSaves(lambda message: asked.append(json.loads(message)))
    answered: list[dict[str, str]] = []
    writing = ForwardedSaves(lambda message: answered.append(json.loads(message)))
    asking.forward(hearing(replies))
    writing.heard(asked[0], FailingWriter(), writes=True)  # type: ignore[arg-type]
    asking.heard(answered[0], None, writes=False)
    assert replies == [("failed", "Permission denied: nb.ipynb")]


class Hearing:
    """A document that records what it heard of its file from the writer."""

    def __init__(self) -> None:
        self.heard: list[bool] = []

    def heard_file_gone(self, gone: bool) -> None:
        self.heard.append(gone)


def test_only_the_writer_says_its_file_went_and_only_the_others_listen() -> None:
    """The writer alone looks at the file: a look begun before a server stopped writing it says
    nothing, and the writer does not take another's word over its own look."""
    sent: list[dict[str, bool]] = []
    saves = ForwardedSaves(lambda message: sent.append(json.loads(message)))
    saves.tell_file_gone(True, writes=False)
    saves.tell_file_gone(True, writes=True)
    assert sent == [{"gone": True}]

    other, writer = Hearing(), Hearing()
    saves.heard(sent[0], other, writes=False)  # type: ignore[arg-type]
    saves.heard(sent[0], writer, writes=True)  # type: ignore[arg-type]
    assert (other.heard, writer.heard) == ([True], [])
