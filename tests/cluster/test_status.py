"""The status route in a cluster (rooms/status.py): two servers with the same file open agree on
who holds its lease, and exactly one of them says it writes the file; after the writer dies, the
other takes over and says so; with Redis gone, the status still answers."""

from __future__ import annotations

import json
from typing import Any

from tornado.httpclient import AsyncHTTPClient

from ..client import wait_until
from ..process import JupyterProcess
from .cluster import Cluster

NAME = "notes.txt"


async def status_of(server: JupyterProcess) -> dict[str, Any]:
    response = await AsyncHTTPClient().fetch(
        f"{server.base_url}/api/collaboration/status", headers=server.headers
    )
    status: dict[str, Any] = json.loads(response.body)
    return status


async def rows(servers: list[JupyterProcess]) -> list[dict[str, Any]]:
    """Each server's one room, with its server's id as ``server``."""
    found = []
    for server in servers:
        status = await status_of(server)
        (room,) = status["rooms"]
        found.append({**room, "server": status["server"]["id"]})
    return found


async def test_both_servers_name_the_same_lease_holder_and_one_writes(cluster: Cluster) -> None:
    first, second = await cluster.start(2)
    cluster.write_text(NAME, "start\n")
    await cluster.open(first, NAME)
    await cluster.open(second, NAME)

    statuses = [await status_of(server) for server in (first, second)]
    ids = [status["server"]["id"] for status in statuses]
    assert all(status["server"]["cluster"] for status in statuses)
    assert len(set(ids)) == 2 and all(ids), ids

    async def one_writer() -> bool:
        found = await rows([first, second])
        writers = [row["server"] for row in found if row["writes_file"]]
        holders = {row["lease_holder"] for row in found}
        return writers in ([ids[0]], [ids[1]]) and holders == set(writers)

    await wait_until(one_writer, 10, "one writer, the lease holder both servers name")
    found = await rows([first, second])
    assert {row["path"] for row in found} == {NAME}
    assert [(row["writers"], row["readonly"]) for row in found] == [(1, 0), (1, 0)]
    # The server that opened the room first took the lease (docs/cluster.md).
    assert found[0]["writes_file"] and found[0]["lease_holder"] == ids[0]

    await cluster.sigkill(first)

    async def second_took_over() -> bool:
        (row,) = await rows([second])
        return bool(row["writes_file"]) and row["lease_holder"] == ids[1]

    await wait_until(second_took_over, 10, "the other server to take the lease over")

    # Redis gone: the status still answers, within its bound, and says the holder is unknown.
    cluster.redis.kill()
    (row,) = await rows([second])
    assert row["lease_holder"] == "?"
    assert row["path"] == NAME
