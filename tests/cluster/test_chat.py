"""A jupyterlab-chat chat shared by two servers: every server's YChat sees every new message, and
each would give it its time and move it (a message two servers moved at once was there twice),
and jupyter-ai on each would answer it (codec/chats.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pycrdt import Doc

from ..client import CollabClient, wait_until
from ..test_chat import CHAT, FORMAT, TYPE, FrontEndChat, file_bodies, stamped
from ..test_jupyter_ai import ECHO, PERSONA
from .cluster import Cluster

CHAT_SERVERS = {
    "jupyterlab_chat": True,
    "jupyter_ai_router": True,
    "jupyter_ai_persona_manager": True,
}


async def chat_users(cluster: Cluster) -> list[CollabClient[FrontEndChat]]:
    """Alice on one server, Bob on another, in one chat (a new one: the file is empty)."""
    personas = cluster.root / ".jupyter" / "personas"
    personas.mkdir(parents=True)
    (personas / "echo_persona.py").write_text(PERSONA)
    cluster.path(CHAT).write_text("")
    users = []
    for server in await cluster.start(2, extensions=CHAT_SERVERS):
        session = await server.put_session(CHAT, FORMAT, TYPE)
        user = CollabClient(FrontEndChat(Doc()), server.room_url(session), server.headers)
        await user.sync(10)
        users.append(user)
    return users


@pytest.mark.alone
async def test_messages_sent_on_two_servers_at_once_are_each_kept_once(cluster: Cluster) -> None:
    alice, bob = await chat_users(cluster)
    sent: list[str] = []
    for turn in range(10):
        for name, user in (("alice", alice), ("bob", bob)):
            for burst in range(2):
                user.document.send(name, f"{name} {turn}.{burst}", time.time() - 5)
                sent.append(f"{name} {turn}.{burst}")
        await alice.wait_for(lambda: len(alice.document.bodies()) >= len(sent), 10, "the turn")

    def settled() -> bool:
        return stamped(alice) and bob.document.shown() == alice.document.shown()

    await wait_until(settled, 10, "every message stamped, the same on both servers")
    shown = alice.document.shown()
    # Their order is the one both servers agree on; times from two clocks, stamped at once on
    # each, may be a few milliseconds out of it.
    assert sorted(body for body, _ in shown) == sorted(sent), "a message lost or doubled"
    bodies = [body for body, _ in shown]
    await wait_until(lambda: file_bodies(cluster.path(CHAT)) == bodies, 10, "the file")


async def test_a_jupyter_ai_persona_answers_once_though_two_servers_hold_the_chat(
    cluster: Cluster,
) -> None:
    alice, bob = await chat_users(cluster)
    alice.document.send("alice", "hello there", time.time(), metadata={"to_persona": ECHO})

    def answers(user: CollabClient[FrontEndChat]) -> list[dict[str, Any]]:
        return [message for message in user.document.get() if message["sender"] == ECHO]

    def answered() -> bool:
        return [m["body"] for m in answers(bob)] == ["echo: hello there "] and stamped(bob)

    await wait_until(answered, 20, "the persona's answer")
    # A second answer would come from the other server's persona as soon as the first does:
    # Bob's own question is answered after it, and by then any other answer is there too.
    bob.document.send("bob", "again there", time.time(), metadata={"to_persona": ECHO})

    def answered_again() -> bool:
        return answers(alice)[-1]["body"] == "echo: again there " and stamped(alice)

    await wait_until(answered_again, 20, "the second answer")
    assert [m["body"] for m in answers(alice)] == ["echo: hello there ", "echo: again there "]
