"""``jupyter ycollab status``: the open rooms of a running server, as a table or as JSON.

It finds the server as ``jupyter server list`` does (the server info files in the Jupyter
runtime dir, with each server's URL and token) and asks its ``/api/collaboration/status``
(docs/status.md) with that token. ``--port`` or ``--url`` picks one when several run; ``--url``
with ``--token`` reaches a server whose info file is elsewhere (another machine, a container).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

ROUTE = "api/collaboration/status"
TIMEOUT = 30.0  # seconds: the server answers from memory, but may be busy
_FIGURES = ("rooms", "peers", "connections", "forks")  # the summary line's, in its order


@dataclass(frozen=True)
class Server:
    url: str  # with its base URL and a trailing slash
    token: str


class StatusError(Exception):
    """Why there is no status to print (the message says what to do)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the server's URL (default: the only one running)")
    parser.add_argument("--port", type=int, help="the running server listening on this port")
    parser.add_argument("--token", help="its token (default: from its server info file)")
    parser.add_argument("--json", action="store_true", help="print the route's JSON as is")


def run(args: argparse.Namespace) -> int:
    """Print the status of the server the arguments pick; 1 with a message if there is none."""
    try:
        server = pick_server(running_servers(), args.url, args.port, args.token)
        status = fetch_status(server)
    except StatusError as error:
        print(f"jupyter ycollab status: {error}", file=sys.stderr)
        return 1
    print(json.dumps(status, indent=1) if args.json else format_status(server.url, status))
    return 0


def running_servers() -> list[Server]:
    """The servers ``jupyter server list`` lists (those on a Unix socket left out)."""
    from jupyter_server.serverapp import list_running_servers

    return [
        Server(_slashed(info["url"]), str(info.get("token") or ""))
        for info in list_running_servers()
        if not info.get("sock")
    ]


def pick_server(
    servers: list[Server], url: str | None, port: int | None, token: str | None
) -> Server:
    """The server ``url`` or ``port`` names, else the only one running."""
    if url is not None:
        known = [server for server in servers if server.url == _slashed(url)]
        fallback = known[0].token if known else ""
        return Server(_slashed(url), token if token is not None else fallback)
    if port is not None:
        servers = [server for server in servers if urlsplit(server.url).port == port]
    if not servers:
        where = f" on port {port}" if port is not None else ""
        raise StatusError(
            f"no running Jupyter server found{where} (as `jupyter server list` looks for "
            "them): start one, or name it with --url (and --token)"
        )
    if len(servers) > 1:
        listed = "\n".join(f"  {server.url}" for server in servers)
        raise StatusError(f"several servers are running; pick one with --port:\n{listed}")
    return servers[0] if token is None else Server(servers[0].url, token)


def fetch_status(server: Server) -> dict[str, Any]:
    """The route's answer, or a ``StatusError`` saying why there is none."""
    request = urllib.request.Request(server.url + ROUTE)
    if server.token:
        request.add_header("Authorization", f"token {server.token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as error:
        raise StatusError(_refusal(server, error.code)) from error
    except (urllib.error.URLError, OSError) as error:
        raise StatusError(f"{server.url} did not answer: {error}") from error
    return status


def _refusal(server: Server, code: int) -> str:
    if code == 403:
        return (
            f"{server.url} refused (HTTP 403): the token is wrong (--token), or its user lacks "
            "the `server` read permission the status needs"
        )
    if code == 404:
        return f"{server.url} does not serve {ROUTE}: is jupyter_ycollab enabled there?"
    if code in (401, 302):
        return f"{server.url} wants a login: give its token with --token"
    return f"{server.url} answered HTTP {code}"


def format_status(url: str, status: dict[str, Any]) -> str:
    """A summary line, then one line per open document room."""
    server, rooms = status["server"], status["rooms"]
    cluster = f"on (this server: {server['id']})" if server["cluster"] else "off"
    figures = "  ".join(f"{name}: {server[name]}" for name in _FIGURES)
    lines = [f"{url}  {figures}  cluster: {cluster}"]
    if not rooms:
        return lines[0] + "\nno open rooms"
    header = ["PATH", "KIND", "WRITERS", "READ-ONLY", "DIRTY", "SAVED", "LOG"]
    if server["cluster"]:
        header += ["WRITES FILE", "LEASE HOLDER"]
    header.append("ROOM")  # the longest: last
    rows = [header, *(_row(room, cluster=server["cluster"]) for room in rooms)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _row(room: dict[str, Any], *, cluster: bool) -> list[str]:
    saved = room["saved_at"]
    row = [
        room["path"],
        f"{room['format']}:{room['type']}",
        str(room["writers"]),
        str(room["readonly"]),
        "yes" if room["dirty"] else "no",
        _local_time(saved) if saved else "-",
        _size(room["log_bytes"]),
    ]
    if cluster:
        row += ["yes" if room["writes_file"] else "no", room["lease_holder"] or "(free)"]
    return [*row, room["room_id"]]


def _local_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} B"
    value = count / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _slashed(url: str) -> str:
    return url if url.endswith("/") else url + "/"
