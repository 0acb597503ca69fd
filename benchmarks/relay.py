"""A bare Tornado websocket relay: the floor under any fan-out a collaboration server can do.

Each websocket joins the room named by its URL (`/room/{name}`) and every binary frame it sends is
forwarded to the other peers of that room. It keeps no document: it answers a client's SYNC step1
with an empty step2 (so the client counts as synced) and announces an empty step1 on connect.

    python benchmarks/relay.py --port 8899
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections import defaultdict

from pycrdt import YMessageType, YSyncMessageType
from tornado.web import Application
from tornado.websocket import WebSocketClosedError, WebSocketHandler
from ycbench import frames

MAX_FRAME = 1 << 30
ROOMS: defaultdict[str, set[RelayHandler]] = defaultdict(set)


class RelayHandler(WebSocketHandler):
    """One peer: joins a room on open, forwards its frames, leaves on close."""

    room = ""

    def check_origin(self, origin: str) -> bool:
        return True

    def open(self, *args: str, **kwargs: str) -> None:
        self.room = args[0] if args else kwargs.get("name", "")
        ROOMS[self.room].add(self)
        self.write_message(frames.empty_step1(), binary=True)

    def on_message(self, message: str | bytes) -> None:
        if isinstance(message, str) or not message:
            return
        if message[0] == YMessageType.SYNC and message[1] == YSyncMessageType.SYNC_STEP1:
            self.write_message(frames.empty_step2(), binary=True)
            return
        for peer in ROOMS[self.room]:
            if peer is not self:
                with contextlib.suppress(WebSocketClosedError):  # leaving; on_close removes it
                    peer.write_message(message, binary=True)

    def on_close(self) -> None:
        peers = ROOMS.get(self.room)
        if peers is not None:
            peers.discard(self)
            if not peers:
                del ROOMS[self.room]


async def serve(port: int) -> None:
    """Serve on 127.0.0.1:`port` until the process is terminated."""
    app = Application([(r"/room/(.+)", RelayHandler)], websocket_max_message_size=MAX_FRAME)
    app.listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
