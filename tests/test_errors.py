"""Refusals: missing files, bad requests, missing credentials, unknown rooms, garbage frames."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc
from tornado.httpclient import HTTPClientError

from jupyter_ycollab.web import refusals

from .client import wait_until
from .harness import Collab, append, cell_sources, refusal, sources_on_disk


async def test_session_for_a_missing_file_is_404(collab: Collab) -> None:
    with pytest.raises(HTTPClientError) as error:
        await collab.put_session("missing.ipynb")
    assert error.value.code == 404


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "{}",
        '{"format": "json"}',
        '{"type": "notebook"}',
        '{"format": 1, "type": "notebook"}',
        '{"format": "json", "type": ["notebook"]}',
        '{"format": "xml", "type": "notebook"}',
    ],
)
async def test_session_with_a_bad_body_is_400(collab: Collab, body: str) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    with pytest.raises(HTTPClientError) as error:
        await collab.fetch("api", "collaboration", "session", "nb.ipynb", method="PUT", body=body)
    assert error.value.code == 400


async def test_session_without_a_token_is_403(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    with pytest.raises(HTTPClientError) as error:
        await collab.put_session("nb.ipynb", headers={"Authorization": ""})
    assert error.value.code == 403


async def test_room_without_a_token_is_403_and_allocates_nothing(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x"])
    session = await collab.put_session("nb.ipynb")
    room_id = collab.room_id(session)
    await wait_until(lambda: room_id not in collab.rooms, 5, "the unjoined room to be freed")
    url = collab.room_url(room_id, f"sessionId={session['sessionId']}")
    client = collab.client(YNotebook(Doc()), url, headers={})
    assert await refusal(client) == ("http", 403)
    assert room_id not in collab.rooms


async def test_room_whose_file_was_deleted_closes_with_4404(collab: Collab) -> None:
    path = collab.write_notebook("gone.ipynb", ["x"])
    session = await collab.put_session("gone.ipynb")
    path.unlink()
    room_id = collab.room_id(session)  # the PUT may load it: wait until it is freed
    await wait_until(lambda: room_id not in collab.rooms, 5, "the unjoined room to be freed")
    client = collab.session_client(session, YNotebook(Doc()))
    assert await refusal(client) == ("close", 4404)


NB = ("json", "notebook")
NOTEBOOK = b'{"cells": [], "metadata": {}, %s}'
UNREADABLE = {
    "not UTF-8": ("notes.txt", b"caf\xe9\n", ("text", "file")),
    "conflict markers": (
        "merged.ipynb",
        b'{\n<<<<<<< HEAD\n "cells": [],\n=======\n "cells": [{}],\n>>>>>>> theirs\n}\n',
        ("json", "notebook"),
    ),
    # nbformat's reader asserts integer versions; Python's JSON parser stops at its recursion
    # limit. The fast path's own reader served the first and answered the second with 500.
    "version 4.0": ("float.ipynb", NOTEBOOK % b'"nbformat": 4.0, "nbformat_minor": 5', NB),
    "minor 5.0": ("minor.ipynb", NOTEBOOK % b'"nbformat": 4, "nbformat_minor": 5.0', NB),
    "nested too deep": (
        "deep.ipynb",
        NOTEBOOK % (b'"nbformat": 4, "nbformat_minor": 5, "x": ' + b"[" * 5000 + b"]" * 5000),
        NB,
    ),
}


@pytest.mark.also_other_managers
@pytest.mark.parametrize("case", UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_a_file_that_cannot_be_read_is_refused_on_the_websocket_with_4500(
    collab: Collab, case: tuple[str, bytes, tuple[str, str]]
) -> None:
    """The session PUT answers as for any file: JupyterLab's front end only waits and retries
    on a failed one (a "taking some time to load" dialog, again and again). The room websocket
    closes with 4500, on which it gives up with a "File Load Error" and closes the tab."""
    name, data, kind = case
    path = collab.write_bytes(name, data)
    session = await collab.put_session(name, *kind)
    assert session["fileId"] and session["sessionId"] == ""
    client = collab.session_client(session, YNotebook(Doc()))
    assert await refusal(client) == ("close", 4500)
    assert client.close_reason is not None and client.close_reason.startswith("cannot read")
    assert collab.document_rooms == []
    assert path.read_bytes() == data


#: What became of a file while the only page on it was away: the close it then gets, and the
#: status of the same request repeated at once.
GONE_WHILE_AWAY = {
    "deleted": (None, 4404, 404),
    "conflict markers": (UNREADABLE["conflict markers"][1], 4500, 429),
}


@pytest.mark.also_other_managers
@pytest.mark.parametrize("case", GONE_WHILE_AWAY.values(), ids=GONE_WHILE_AWAY.keys())
async def test_a_page_back_to_a_file_gone_while_away_is_not_let_in_ten_times_a_second(
    collab: Collab,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    case: tuple[bytes | None, int, int],
) -> None:
    """A page that had synced ignores 4404 and 4500 (the front end gives up on them only before
    its first sync) and reconnects 100 ms after each: an upgrade, a load and a close ten times
    a second for as long as its tab stays open. The same request is refused before the upgrade
    for a moment instead (web/refusals.py); once the file is back, the page is let in, with
    what it typed while away."""
    replacement, close_code, repeat_status = case
    path = collab.write_notebook("away.ipynb", ["x = 1"])
    original = path.read_bytes()
    session = await collab.put_session("away.ipynb")
    browser = {**collab.auth_headers, "Cookie": await collab.login_cookie()}
    page = collab.session_client(session, YNotebook(Doc()), browser)
    await page.sync()
    await page.close()
    await collab.room_closed(collab.room_id(session))
    append(page.document.ycells[0]["source"], "  # typed while away")
    if replacement is None:
        path.unlink()
    else:
        path.write_bytes(replacement)

    assert await refusal(page) == ("close", close_code)
    assert await refusal(page) == ("http", repeat_status)
    assert collab.document_rooms == []
    # Said once, at INFO (the close); each repeat is one line of the access log, not two.
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [line for line in warned if "does not exist" in line or "cannot read" in line] == []

    path.write_bytes(original)  # git checkout
    monkeypatch.setattr(refusals, "REPEAT_WINDOW", 0.0)
    await page.reconnect()
    expected = ["x = 1  # typed while away"]
    await wait_until(lambda: sources_on_disk(path) == expected, 10, "the page's edit saved")


async def test_a_page_closed_for_a_frame_it_sent_may_come_back_at_once(collab: Collab) -> None:
    """Only a connection refused as it opens is refused again before the upgrade (web/
    refusals.py): one closed for what it sent later was let in, and may come back."""
    collab.write_notebook("nb.ipynb", ["x = 1"])
    session = await collab.put_session("nb.ipynb")
    browser = {**collab.auth_headers, "Cookie": await collab.login_cookie()}
    page = collab.session_client(session, YNotebook(Doc()), browser)
    await page.sync()
    page.send("a text frame")
    await page.wait_closed(5)
    assert page.close_code == 1003
    await page.reconnect()
    assert cell_sources(page.document) == ["x = 1"]


async def test_room_with_an_unknown_file_id_is_refused_as_not_found(collab: Collab) -> None:
    client = collab.client(YNotebook(Doc()), collab.room_url(f"json:notebook:{uuid.uuid4()}"))
    assert await refusal(client) in (("http", 404), ("close", 4404))
    assert collab.document_rooms == []


@pytest.mark.parametrize(
    "room_id", ["no-such-fork-room", "%20", "JupyterLab:otherAwareness", "json:notebook:"]
)
async def test_unknown_room_id_is_refused_and_allocates_nothing(
    collab: Collab, room_id: str
) -> None:
    before = set(collab.rooms)
    client = collab.client(YNotebook(Doc()), collab.room_url(room_id))
    kind, code = await refusal(client)
    assert (kind == "http" and code is not None and 400 <= code < 500) or (
        kind == "close" and code is not None and code >= 4000
    ), (kind, code)
    assert set(collab.rooms) == before


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param("hello", id="text-frame"),
        pytest.param(json.dumps({"type": "save"}), id="json-text-frame"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x7f", id="unknown-type"),
        pytest.param(b"\x00", id="sync-without-subtype"),
        pytest.param(b"\x00\x09\x01\x00", id="unknown-sync-subtype"),
        pytest.param(b"\x00\x02\xff\xff\xff\xff\x0f", id="length-beyond-frame"),
        pytest.param(b"\x00\x02\x03\xff\xfe\xfd", id="invalid-update"),
        pytest.param(b"\x00\x00\x02\xff\xff", id="invalid-state-vector"),
        pytest.param(b"\x01\x05\x01\x01", id="truncated-awareness"),
        pytest.param(b"\x01\x06\x01\x01\x00\x02{x", id="awareness-bad-json"),
    ],
)
async def test_a_garbage_frame_closes_only_its_own_connection(
    collab: Collab, frame: bytes | str
) -> None:
    collab.write_notebook("nb.ipynb", ["x = 1"])
    bad = await collab.open_notebook("nb.ipynb")
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")

    bad.send(frame)
    await bad.wait_closed(5)
    assert bad.close_code is not None and bad.close_code != 1000, bad.close_code

    append(alice.document.ycells[0]["source"], "0")
    await bob.wait_for(lambda: cell_sources(bob.document) == ["x = 10"], 5, "the edit")
    assert alice.connected and bob.connected
    assert not alice.protocol_errors and not bob.protocol_errors
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == ["x = 10"]
