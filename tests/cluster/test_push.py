"""A process that is no Jupyter server (a worker, a grader, a script) changes a shared room, or
messages its peers, over the cluster's Redis (jupyter_ycollab/cluster/push.py): every server's
peers get it, the file holds the edit once; a room no server shares is refused."""

from __future__ import annotations

import asyncio
import sys
import textwrap

import pytest

from jupyter_ycollab.cluster.push import edit, send
from jupyter_ycollab.errors import NotFound

from ..client import wait_until
from .cluster import Cluster
from .markers import everyone_sees, file_holds
from .test_metrics import scrape

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from jupyter_ycollab.cluster.push import edit, send

    async def main(url):
        async with edit(url, "lab.ipynb") as notebook:
            notebook.ycells[0]["source"].insert(0, "<pushed>")
        await send(url, "lab.ipynb", {"type": "notice", "text": "graded"})

    asyncio.run(main(sys.argv[1]))
    """
)


async def run_script(redis_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, redis_url, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()


async def test_a_script_in_another_process_edits_a_live_room_and_messages_its_peers(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2)
    cluster.write_notebook("lab.ipynb", ["x = 1", "y = 2"])
    alice = await cluster.open(first, "lab.ipynb")
    bob = await cluster.open(second, "lab.ipynb")
    alice.type("<alice>")
    await everyone_sees([alice, bob], ["<alice>"], 5)

    await run_script(cluster.redis.url)

    await everyone_sees([alice, bob], ["<pushed>", "<alice>"], 5)
    assert alice.view().startswith("<pushed>x = 1<alice>"), alice.view()
    await file_holds(cluster, "lab.ipynb", ["<pushed>", "<alice>"], 10)
    notice = {"type": "notice", "text": "graded"}
    for peer in (alice, bob):
        await wait_until(lambda p=peer: notice in p.client.received.raw, 5, "the message")
        assert peer.client.received.raw.count(notice) == 1


async def test_a_room_no_server_shares_is_refused_with_a_clear_error(cluster: Cluster) -> None:
    await cluster.start(1)
    cluster.write_notebook("lab.ipynb", ["x = 1"])
    with pytest.raises(NotFound, match=r"'lab\.ipynb' is not open on any server"):
        async with edit(cluster.redis.url, "lab.ipynb"):
            pass
    with pytest.raises(NotFound, match=r"'other\.ipynb' is not open on any server"):
        await send(cluster.redis.url, "other.ipynb", {"type": "notice"})


async def test_a_peer_joining_on_another_server_gets_no_message_sent_before_it_joined(
    cluster: Cluster,
) -> None:
    """The joining server relays the awareness it met in the stream, but reads on from where
    the stream ended: it does not go back and deliver the older message to its new peer. (Carol,
    on a third server, shows when alice's state, then the message, are in the stream.)"""
    first, second, third = await cluster.start(3)
    cluster.write_notebook("lab.ipynb", ["x = 1"])
    alice = await cluster.open(first, "lab.ipynb")
    carol = await cluster.open(third, "lab.ipynb")
    alice_state = {"user": {"name": "alice"}}
    alice.client.set_awareness(alice_state)
    await wait_until(lambda: alice_state in carol.client.awareness_states.values(), 5, "alice")
    before, after = {"type": "notice", "text": "before"}, {"type": "notice", "text": "after"}
    await send(cluster.redis.url, "lab.ipynb", before)
    await wait_until(lambda: before in carol.client.received.raw, 5, "the first message")

    bob = await cluster.open(second, "lab.ipynb")
    await wait_until(lambda: alice_state in bob.client.awareness_states.values(), 5, "alice")
    await send(cluster.redis.url, "lab.ipynb", after)
    await wait_until(lambda: after in bob.client.received.raw, 5, "the later message")
    notices = [raw for raw in bob.client.received.raw if raw.get("type") == "notice"]
    assert notices == [after]
    # Of the stream's entries, the joining server read only the later message from Redis: the
    # others came with the join (none read twice, none counted as delivered late).
    assert (await scrape(second))["entries_applied_total"] == 1
