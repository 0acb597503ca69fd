"""Ctrl-S on a server that does not write the file: asked of the writer through the room's
stream, answered when the writer saved (or ``failed`` after ``SAVE_TIMEOUT``). The front end
needs a real answer: ``success`` only once the file holds the document. So is a checkpoint
restored there: the writer makes the file the document again (no answer is awaited). The other
way, the writer, which alone looks at the file, tells the others when it goes or comes back.

If the writer dies first, the server that takes over saves and answers instead (``save_here``).
A request that reached the stream while no server held the lease (between a writer and the
next, or after Redis came back empty) is heard by no writer: the asking server sends it again
at each turn of its keeper (``remind``) until it is answered. A writer may then hear it twice
and save twice (the second finds the file up to date); it is answered once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

from ..document.document import Document
from ..document.sharing import SaveReply

#: Seconds a forwarded Ctrl-S waits for the writer's answer.
SAVE_TIMEOUT = 30.0
#: Seconds a closing room waits for a writer's save beyond two lease terms (a takeover's).
SETTLE_MARGIN = 5.0


class ForwardedSaves:
    def __init__(self, send: Callable[[bytes], None]) -> None:
        """``send`` puts a control message on the room's stream."""
        self._send = send
        self._awaiting: dict[str, SaveReply] = {}  # by request id
        self._reminded: set[str] = set()  # sent before the last ``remind``: due again at the next

    def forward(self, reply: SaveReply) -> None:
        request = uuid.uuid4().hex
        self._awaiting[request] = reply
        self._send(json.dumps({"save": request}).encode())
        loop = asyncio.get_running_loop()
        timeout = f"the server writing the file did not save it within {SAVE_TIMEOUT:.0f} s"
        loop.call_later(SAVE_TIMEOUT, lambda: self._answer(request, "failed", timeout))

    async def answered(self, timeout: float) -> str:
        """Ask the writer to save and wait for its answer: ``failed`` after ``timeout``."""
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def reply(status: str, reason: str) -> None:
            if not answer.done():
                answer.set_result(status)

        self.forward(reply)
        try:
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            return "failed"

    def forward_take_file(self) -> None:
        self._send(json.dumps({"take_file": True}).encode())

    def tell_file_gone(self, gone: bool, writes: bool) -> None:
        if writes:  # a look begun before this server stopped writing the file is stale
            self._send(json.dumps({"gone": gone}).encode())

    def remind(self) -> None:
        """Send again the requests still unanswered since the last call (each waited a turn)."""
        for request in self._reminded & self._awaiting.keys():
            self._send(json.dumps({"save": request}).encode())
        self._reminded = set(self._awaiting)

    def heard(self, message: dict[str, Any], document: Document | None, writes: bool) -> None:
        """A control message from another server; ``document`` is ours once its room is made,
        and ``writes``, whether we write its file."""
        writer = document if writes else None
        if "save" in message and writer is not None:
            request = str(message["save"])
            writer.request_save(lambda status, reason: self._saved(request, status, reason))
        elif "saved" in message:
            status, reason = message.get("status", "failed"), message.get("reason", "")
            self._answer(str(message["saved"]), str(status), str(reason))
        elif "take_file" in message and writer is not None:
            writer.request_take_file()
        elif "gone" in message and document is not None and not writes:
            document.heard_file_gone(bool(message["gone"]))

    def save_here(self, document: Document) -> None:
        """This server took over writing the file: it saves what was asked of the old writer."""
        awaiting, self._awaiting = self._awaiting, {}
        for reply in awaiting.values():
            document.request_save(reply)

    def fail_all(self) -> None:
        for request in list(self._awaiting):
            self._answer(request, "failed", "the room closed before the file was saved")

    def _saved(self, request: str, status: str, reason: str) -> None:
        self._send(json.dumps({"saved": request, "status": status, "reason": reason}).encode())

    def _answer(self, request: str, status: str, reason: str) -> None:
        reply = self._awaiting.pop(request, None)
        if reply is not None:
            reply(status, reason)
