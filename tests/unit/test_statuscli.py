"""``jupyter ycollab status``'s own logic (statuscli.py): which server it picks, what it prints."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jupyter_ycollab.statuscli import (
    Server,
    StatusError,
    fetch_status,
    format_status,
    pick_server,
)

ONE = Server("http://127.0.0.1:8888/", "t1")
TWO = Server("http://127.0.0.1:9999/lab-base/", "t2")


def status(*, cluster: bool, rooms: list[dict[str, Any]]) -> dict[str, Any]:
    server = {"id": "host:1:ab" if cluster else None, "cluster": cluster, "rooms": len(rooms)}
    return {"server": {**server, "forks": 0, "peers": 2, "connections": 3}, "rooms": rooms}


ROOM = {
    "room_id": "text:file:some-id",
    "path": "notes.txt",
    "format": "text",
    "type": "file",
    "writers": 1,
    "readonly": 1,
    "dirty": True,
    "saved_at": None,
    "log_bytes": 123_456,
    "writes_file": False,
    "lease_holder": None,
}


def test_the_only_server_running_is_picked_and_several_must_be_named() -> None:
    assert pick_server([ONE], None, None, None) == ONE
    with pytest.raises(StatusError, match="several servers are running") as raised:
        pick_server([ONE, TWO], None, None, None)
    assert TWO.url in str(raised.value)
    assert pick_server([ONE, TWO], None, 9999, None) == TWO
    assert pick_server([ONE, TWO], "http://127.0.0.1:9999/lab-base", None, None) == TWO
    assert pick_server([], "http://elsewhere:1/", None, "t") == Server("http://elsewhere:1/", "t")
    with pytest.raises(StatusError, match="no running Jupyter server found"):
        pick_server([], None, None, None)


def test_a_cluster_table_has_the_writer_and_lease_columns() -> None:
    text = format_status(ONE.url, status(cluster=True, rooms=[ROOM]))
    summary, header, row = text.splitlines()
    assert summary.endswith("cluster: on (this server: host:1:ab)")
    assert [cell.strip() for cell in header.split("  ") if cell][-3:] == [
        "WRITES FILE",
        "LEASE HOLDER",
        "ROOM",
    ]
    assert row.split() == [
        *("notes.txt", "text:file", "1", "1", "yes", "-", "123.5", "kB", "no", "(free)"),
        "text:file:some-id",
    ]


def test_a_single_server_table_has_no_lease_column_and_says_when_nothing_is_open() -> None:
    text = format_status(ONE.url, status(cluster=False, rooms=[ROOM]))
    assert "LEASE" not in text and text.splitlines()[0].endswith("cluster: off")
    empty = format_status(ONE.url, status(cluster=False, rooms=[]))
    assert empty.splitlines()[1] == "no open rooms"


@pytest.fixture
def answering() -> Iterator[Callable[[int], Server]]:
    """A loopback HTTP server that answers every request with the status it is given: what a
    server without jupyter_ycollab (404), or one that wants a login (401, 302), answers."""
    answer = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answer["code"])
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as http:
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()

        def server_answering(code: int) -> Server:
            answer["code"] = code
            return Server(f"http://127.0.0.1:{http.server_address[1]}/", "t")

        yield server_answering
        http.shutdown()


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (404, "does not serve api/collaboration/status: is jupyter_ycollab enabled there?"),
        (401, "wants a login: give its token with --token"),
        (403, "refused (HTTP 403): the token is wrong (--token)"),
        (500, "answered HTTP 500"),
    ],
)
def test_a_refusal_says_what_to_do(
    answering: Callable[[int], Server], code: int, said: str
) -> None:
    server = answering(code)
    with pytest.raises(StatusError) as error:
        fetch_status(server)
    assert str(error.value).startswith(f"{server.url} {said}")


def test_a_server_that_does_not_answer_is_named() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a port nothing listens on
        server = Server(f"http://127.0.0.1:{sock.getsockname()[1]}/", "t")
    with pytest.raises(StatusError, match=f"^{server.url} did not answer: "):
        fetch_status(server)
