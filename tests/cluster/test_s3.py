"""Servers behind a load balancer whose files are kept in S3 (s3contents' manager, over the S3
endpoint of tests/s3server.py) instead of a shared folder: people on two servers co-edit live,
the bucket gets every edit once, and when the server writing the file dies the other takes over
and saves what it had not. The manager's ``get`` takes no ``require_hash`` and gives no hash
(document/files.py asks without it and hashes the content, the same way on every server)."""

from __future__ import annotations

from typing import Any

from jupyter_ycollab.document.document import TOOK_OVER

from ..client import wait_until
from ..s3server import S3Folder
from .cluster import Cluster
from .markers import describe, everyone_sees, markers, sees, type_interleaved, wrong_counts

NAME = "notes.txt"


def in_s3(s3: S3Folder) -> dict[str, dict[str, Any]]:
    return {
        "ServerApp": {"contents_manager_class": "s3contents.S3ContentsManager"},
        "S3ContentsManager": s3.manager_config,
    }


async def bucket_holds(s3: S3Folder, expected: list[str], timeout: float) -> None:
    """The file in the bucket holds each of ``expected`` exactly once."""
    try:
        await wait_until(lambda: not wrong_counts(s3.text(NAME), expected), timeout, "the bucket")
    except AssertionError:
        raise AssertionError(f"the bucket: {describe(s3.text(NAME), expected)}") from None


async def test_two_servers_over_s3_co_edit_and_a_takeover_saves_what_the_writer_had_not(
    cluster: Cluster, s3: S3Folder
) -> None:
    s3.put(NAME, b"start\n")
    first, second = await cluster.start(2, config=in_s3(s3), save_delay=3.0, max_save_delay=6.0)
    alice = await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)

    both = markers("a", 5) + markers("b", 5)
    type_interleaved((alice, both[:5]), (bob, both[5:]))
    await everyone_sees([alice, bob], both, 5)
    await bucket_holds(s3, both, 8)

    unsaved = markers("c", 5)
    type_interleaved((alice, unsaved))
    await sees(bob, unsaved, 2, "Bob's view (other server) to show Alice's edits live")
    await cluster.sigkill(first)  # the writer (it opened the room first), with them unsaved

    await bucket_holds(s3, both + unsaved, 10)
    assert s3.text(NAME) == bob.view()
    assert TOOK_OVER in second.log(), "the server that took over says so in its log"
