"""A cluster under test: one real redis-server, several real Jupyter servers in subprocesses that
serve ONE shared folder, each with its own home (config, data, runtime: its own file-id database
and its own update logs, as one pod per user has), and protocol clients on them.

Each client does the session PUT on its own server, so its room id carries that server's file id:
what a browser behind a load balancer gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Doc, Text
from tornado.httpclient import HTTPClientError

from jupyter_ycollab.hooks import GLOBAL_AWARENESS

from ..client import CollabClient, wait_until
from ..harness import append, make_notebook, sources_on_disk
from ..process import JupyterProcess
from ..redisserver import RedisProcess
from ..servers import successor

REPO = Path(__file__).resolve().parents[2]  # so that servers import test modules by name

#: Every server's YCollabApp settings (``redis_url`` aside): short delays, so that saves, polls,
#: room cleanup and a dead server's lease expiry all happen within a second or two.
CLUSTER_SETTINGS: dict[str, Any] = {
    "save_delay": 0.1,
    "max_save_delay": 1.0,
    "poll_interval": 0.2,
    "cleanup_delay": 0.5,
    "cluster_lease_ttl": 1.0,
}

#: ``config`` for servers whose users are named by a header (authorizers.py ``USER``), and
#: read-only with ``READ_ONLY``: one user on every server, as behind a hub's single sign-on.
NAMED_USERS = {
    "ServerApp": {
        "identity_provider_class": "tests.authorizers.HeaderIdentityProvider",
        "authorizer_class": "tests.authorizers.HeaderAuthorizer",
    }
}


@dataclass(eq=False)
class Peer:
    """One user: a document, the connection that syncs it, the server and session it got."""

    client: CollabClient[Any]
    server: JupyterProcess
    session: dict[str, Any]

    @property
    def is_notebook(self) -> bool:
        return isinstance(self.client.document, YNotebook)

    def view(self) -> str:
        """What this user sees: the text, or the notebook's cell sources one per line."""
        document = self.client.document
        if isinstance(document, YNotebook):
            return "\n".join(str(cell["source"]) for cell in document.ycells)
        return str(document.ydoc.get("source", type=Text))

    async def save(self, save_id: int, timeout: float = 10.0) -> str:
        """Ctrl-S: return the reply's status; an unanswered request fails, naming the server."""
        try:
            reply = await self.client.save(save_id, timeout)
        except AssertionError:
            raise AssertionError(
                f"Ctrl-S (save {save_id}) on the server at port {self.server.port} was never "
                f"answered within {timeout} s"
            ) from None
        return str(reply.get("status"))

    def type(self, text: str, cell: int = 0) -> None:
        """Type at the end of the text (or of cell ``cell``'s source), as a keyboard does."""
        document = self.client.document
        if isinstance(document, YNotebook):
            append(document.ycells[cell]["source"], text)
        else:
            append(document.ydoc.get("source", type=Text), text)


class Cluster:
    """Servers over ``base / "shared"``, all talking to ``redis``; torn down by ``close``."""

    def __init__(self, base: Path, redis: RedisProcess) -> None:
        self.base = base
        self.redis = redis
        self.root = base / "shared"
        self.root.mkdir(parents=True, exist_ok=True)
        self.servers: list[JupyterProcess] = []
        self.peers: list[Peer] = []

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {**CLUSTER_SETTINGS, "redis_url": self.redis.url, **overrides}

    # -- servers -----------------------------------------------------------------------------

    async def start(
        self,
        count: int = 2,
        *,
        debug: bool = False,
        extensions: dict[str, bool] | None = None,
        config: dict[str, dict[str, Any]] | None = None,
        root: Path | None = None,
        **overrides: Any,
    ) -> list[JupyterProcess]:
        """Start ``count`` servers at once (settings: CLUSTER_SETTINGS with ``overrides``);
        ``debug``: their logs have every save too; ``extensions``: more server extensions;
        ``config``: more sections of their config (another contents manager's); ``root``: the
        shared folder as they see it (a read-only view of it)."""
        started = []
        for _ in range(count):
            home = self.base / f"home-{len(self.servers)}"
            settings = self.settings(**overrides, **({"log_level": "DEBUG"} if debug else {}))
            where = root or self.root
            server = JupyterProcess(
                home, where, extensions, ycollab=settings, pythonpath=[REPO], config=config
            )
            self.servers.append(server)
            started.append(server)
            server.start()
        await asyncio.gather(*(server.wait_ready(60) for server in started))
        return started

    async def sigkill(self, server: JupyterProcess) -> None:
        """Kill a server as a crash would (no shutdown, no flush) and wait until it is gone."""
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        await server.wait_exit(10)

    # -- files -------------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        return self.root / name

    def write_text(self, name: str, content: str) -> None:
        self.path(name).write_text(content)

    def write_notebook(self, name: str, sources: list[str]) -> None:
        nbformat.write(make_notebook(sources), self.path(name))

    def on_disk(self, name: str) -> str:
        """The file as a user would read it: the text, or the cell sources one per line ("" while
        a notebook is half written)."""
        path = self.path(name)
        if name.endswith(".ipynb"):
            return "\n".join(sources_on_disk(path) or [])
        return path.read_text() if path.exists() else ""

    # -- clients -----------------------------------------------------------------------------

    async def open(
        self, server: JupyterProcess, name: str, headers: dict[str, str] | None = None
    ) -> Peer:
        """A user opening ``name`` on ``server``: session PUT there, connect, wait for sync
        (``headers``: more for the connection, a user's or a read-only one's)."""
        notebook = name.endswith(".ipynb")
        if notebook:
            session = await server.put_session(name, "json", "notebook")
            document: Any = YNotebook(Doc())
        else:
            session = await server.put_session(name, "text", "file")
            document = YUnicode(Doc())
        url, headers = server.room_url(session), {**server.headers, **(headers or {})}
        peer = Peer(CollabClient(document, url, headers), server, session)
        self.peers.append(peer)
        await connect(peer)
        return peer

    async def online(
        self, server: JupyterProcess, state: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Peer:
        """A JupyterLab page on ``server``, in the global awareness room (who is online, and on
        which document), announcing ``state`` as the front end's rtcGlobalAwareness plugin does
        (``headers``: more for the connection, a user's)."""
        url = f"ws://127.0.0.1:{server.port}/api/collaboration/room/{GLOBAL_AWARENESS}"
        headers = {**server.headers, **(headers or {})}
        peer = Peer(CollabClient(YUnicode(Doc()), url, headers), server, {})
        self.peers.append(peer)
        await connect(peer)
        peer.client.set_awareness(state)
        return peer

    async def move(self, peer: Peer, server: JupyterProcess) -> Peer:
        """The front end reconnecting to another server (its own died, the load balancer sent it
        elsewhere): the same document, the SAME session id and room id (the old server's file
        id), only the host changes."""
        await wait_until(lambda: not peer.client.connected, 10, "the old socket to close")
        peer.client = successor(peer.client, server.room_url(peer.session))
        peer.server = server
        await connect(peer)
        return peer

    async def close(self) -> None:
        """Drop every client, then stop every server (teardown)."""
        for peer in self.peers:
            # A teardown must reach the servers whatever a client did.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(peer.client.drop(), 5)
        for server in self.servers:
            server.ask_to_stop()  # all at once, not one after the other
        for server in self.servers:
            server.kill()

    def log_tails(self, lines: int = 60) -> dict[str, str]:
        """The end of each server's log, for the report of a failed test."""
        tails = {}
        for index, server in enumerate(self.servers):
            if server.log_path.exists():
                text = server.log().splitlines()[-lines:]
                tails[f"server {index} (port {server.port})"] = "\n".join(text)
        return tails


async def connect(peer: Peer) -> None:
    """Connect and sync; a refused upgrade (404 for an unknown room id...) fails as an assertion
    naming the server, not as a harness error."""
    try:
        await peer.client.sync(10)
    except HTTPClientError as error:
        raise AssertionError(f"{peer.server.base_url} refused {peer.client.url}: {error}") from None
