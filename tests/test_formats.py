"""Rooms only for a format and type their file can be read in faithfully.

A room's document is built from what the contents manager returns for the room's format and type,
and its first save writes that document back over the file. A pair the document class cannot read
(``json:chat``: the stock manager answers a file asked for as ``json`` with base64, YChat.set turns
what it cannot parse into an empty chat) used to open a room that did not hold the file's content,
and a client's first edit then replaced the file with it. Such pairs are refused: ``400`` at the
session PUT, close code ``4400`` (before any sync) at a room id built by hand, and the file is
never written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YBlob, YNotebook, YUnicode
from jupyter_ydoc.ybasedoc import YBaseDoc
from jupyterlab_chat.ychat import YChat
from pycrdt import Array, Doc, Map, Text

from jupyter_ycollab import cli
from jupyter_ycollab.history.logfile import log_path
from jupyter_ycollab.history.records import CHECKPOINT, encode_record, header_record

from .client import CollabClient, wait_until
from .harness import Collab, make_notebook

CHAT_CONTENT = {
    "messages": [
        {"type": "msg", "id": "m1", "body": "keep me", "time": 1.0, "sender": "ann"},
        {"type": "msg", "id": "m2", "body": "and me", "time": 2.0, "sender": "bob"},
    ],
    "users": {"ann": {"username": "ann"}, "bob": {"username": "bob"}},
}
CHAT_BYTES = json.dumps(CHAT_CONTENT, indent=2).encode()
TEXT_BYTES = b"first line\nsecond line\n"
NOTEBOOK_BYTES = json.dumps(make_notebook(["x = 1"]), indent=1).encode()


def add_message(doc: Doc[Any]) -> None:
    """What jupyterlab-chat's page does when its user sends a message."""
    doc.get("messages", type=Array).append(Map({"type": "msg", "id": "m3", "body": "new"}))


def type_text(doc: Doc[Any]) -> None:
    """What a text editor does when its user types."""
    doc.get("source", type=Text).insert(0, "typed ")


def add_cell(doc: Doc[Any]) -> None:
    """What a notebook page does when its user adds a cell."""
    cell = {"cell_type": "code", "id": "new", "source": Text("y = 2"), "metadata": Map()}
    cell.update(execution_count=None, outputs=Array())
    doc.get("cells", type=Array).append(Map(cell))


def leave_as_is(doc: Doc[Any]) -> None:
    """No edit: a client's new bytes in a blob are refused (pycrdt gives them back as a
    ``bytearray``, which the update guard does not take for bytes)."""


def replace_bytes(doc: Doc[Any]) -> None:
    """What a client of a binary file does: new bytes."""
    doc.get("source", type=Map)["bytes"] = b"replaced"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    file_format: str
    file_type: str
    edit: Callable[[Doc[Any]], None]
    page: type[YBaseDoc] = YUnicode  # the client's document class: its roots' types

    def __str__(self) -> str:
        return f"{self.file_format}:{self.file_type}"


#: Pairs no front end sends and no document class reads faithfully (see the module docstring
#: and ``DocumentKind.parse``). Before, the first three opened a room not holding the file
#: (json:chat an empty chat, json:file the file's base64, base64:chat a blob), text:notebook a
#: second notebook room, base64:notebook and text:blob failed with an uncaught 500, and the
#: unknown format was refused at the websocket with HTTP 400 (the front end retries that
#: forever) instead of 4400.
REFUSED = [
    Case("talk.chat", CHAT_BYTES, "json", "chat", add_message),
    Case("notes.txt", TEXT_BYTES, "json", "file", type_text),
    Case("talk.chat", CHAT_BYTES, "base64", "chat", add_message),
    Case("nb.ipynb", NOTEBOOK_BYTES, "text", "notebook", add_cell, YNotebook),
    Case("nb.ipynb", NOTEBOOK_BYTES, "base64", "notebook", replace_bytes, YBlob),
    Case("notes.txt", TEXT_BYTES, "text", "blob", replace_bytes, YBlob),
    Case("notes.txt", TEXT_BYTES, "xml", "file", type_text),
]


async def put_session(collab: Collab, case: Case) -> tuple[int, Any]:
    body = json.dumps({"format": case.file_format, "type": case.file_type})
    return await collab.request("PUT", f"session/{case.name}", body=body)


async def attempt(collab: Collab, case: Case, session_id: str) -> CollabClient[YBaseDoc]:
    """A client of the room id built by hand: it edits and asks for a save if it gets in."""
    file_id = collab.serverapp.web_app.settings["file_id_manager"].index(case.name)
    room_id = f"{case.file_format}:{case.file_type}:{file_id}"
    url = collab.room_url(room_id, f"sessionId={session_id}")
    client: CollabClient[YBaseDoc] = collab.client(case.page(Doc()), url)
    await client.connect()
    await wait_until(lambda: client.synced or not client.connected, 10, "synced or closed")
    if client.synced:  # let in: do what its page would, and wait for the save it asks for
        case.edit(client.ydoc)
        await client.save(1)
    return client


@pytest.mark.also_other_managers
@pytest.mark.parametrize("case", REFUSED, ids=str)
async def test_a_pair_the_file_cannot_be_read_in_is_refused_and_the_file_never_changes(
    collab: Collab, case: Case
) -> None:
    path = collab.write_bytes(case.name, case.data)
    status, body = await put_session(collab, case)
    session_id = body.get("sessionId", "") if isinstance(body, dict) else ""
    client = await attempt(collab, case, session_id)

    assert path.read_bytes() == case.data, "the file was written"
    assert status == 400, body
    assert "format" in body["message"], body
    assert (client.close_code, client.synced) == (4400, False)
    assert collab.document_rooms == []


async def test_the_refusal_says_which_format_the_type_is_read_in(collab: Collab) -> None:
    """The message names the pair and the format to use, so the mistake can be fixed."""
    collab.write_bytes("talk.chat", CHAT_BYTES)
    status, body = await put_session(collab, REFUSED[0])
    assert status == 400
    assert "'json'" in body["message"] and "'chat'" in body["message"], body
    assert "'text'" in body["message"], body


ACCEPTED = [
    Case("talk.chat", CHAT_BYTES, "text", "chat", add_message),
    Case("notes.txt", TEXT_BYTES, "text", "file", type_text),
    Case("notes.txt", TEXT_BYTES, "base64", "file", leave_as_is, YBlob),
    Case("nb.ipynb", NOTEBOOK_BYTES, "json", "notebook", add_cell, YNotebook),
]


@pytest.mark.parametrize("case", ACCEPTED, ids=str)
async def test_the_pairs_front_ends_use_still_open(collab: Collab, case: Case) -> None:
    """What JupyterLab (and jupyterlab-chat) ask for: a room holding the file's content."""
    collab.write_bytes(case.name, case.data)
    status, body = await put_session(collab, case)
    assert status in (200, 201), body
    client = await attempt(collab, case, body["sessionId"])
    assert client.connected and client.synced
    reply = client.save_reply(1)
    assert reply is not None and reply["status"] in ("success", "skipped"), reply


def test_a_log_left_by_a_room_of_a_refused_pair_still_exports(tmp_path: Path) -> None:
    """A ``json:chat`` room opened before such pairs were refused holds the messages written
    into it in its log only: ``jupyter ycollab export`` reads it as it was written."""
    doc: Doc[Any] = Doc()
    YChat(doc)  # its roots, typed as the room typed them
    add_message(doc)
    room_id = "json:chat:0f1e2d3c"
    records = [header_record("lineage", room_id, "talk.chat")]
    path = log_path(tmp_path, room_id)
    path.write_bytes(b"".join([*records, encode_record(CHECKPOINT, doc.get_update())]))
    out = tmp_path / "exported.chat"

    assert cli.main(["--log-dir", str(tmp_path), "export", room_id, "-o", str(out)]) == 0
    assert [message["body"] for message in json.loads(out.read_text())["messages"]] == ["new"]


@pytest.mark.also_other_managers
@pytest.mark.ycollab(save_delay=60, max_save_delay=120)
async def test_a_binary_file_edited_by_a_peer_is_saved(collab: Collab) -> None:
    """pycrdt hands a blob's bytes back as ``bytearray``: the update guard took that for a
    schema break and closed every peer that edited a binary file (1007)."""
    path = collab.write_bytes("pixel.bin", b"\x00\x01\x02")
    session = await collab.put_session("pixel.bin", "base64", "file")
    client = collab.session_client(session, YBlob(Doc()))
    await client.sync()

    client.document.set(b"\xff\xfe")
    assert (await client.save(1))["status"] == "success"

    assert client.connected
    assert path.read_bytes() == b"\xff\xfe"
