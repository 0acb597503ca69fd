"""Files, sessions and connections against the in-process test server (see conftest.py)."""

from __future__ import annotations

import gc
import json
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_server.serverapp import ServerApp
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupyter_ydoc import YNotebook, YUnicode
from pycrdt import Doc, Text
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

from .client import CollabClient, DocT, wait_until
from .fswatch import WriteCounter

Fetch = Callable[..., Awaitable[HTTPResponse]]


class SubclassedContentsManager(AsyncLargeFileManager):
    """A deployment's own contents manager at its plainest: the stock one, subclassed, nothing
    changed. Not the stock class, so rooms read, stat and save through its ``get`` and ``save``
    (document/files.py), the way they use jupytext's, S3's or a database's manager."""


@dataclass(frozen=True)
class Variant:
    """One way the server reaches a document's file; every integration test runs under the
    variants its markers ask for (conftest.py's ``pytest_generate_tests``)."""

    name: str
    #: ``YCollabApp.fast_path``: False makes even a stock manager go through its own get/save.
    fast_path: bool
    #: ``ServerApp.contents_manager_class`` (a class, or its import string for a package that is
    #: slow to import); None: the stock one.
    manager: type | str | None = None
    #: Server extensions enabled too (jupytext's replaces the contents manager after ours loads).
    extensions: tuple[str, ...] = ()


#: The stock manager with the fast path: direct reads, direct writes, the render process.
FAST = Variant("fast", fast_path=True)
#: The stock manager with the fast path off: the contents manager's own ``get`` and ``save``.
CONTENTS = Variant("contents", fast_path=False)
#: A deployment's own manager under the default settings: the fast path is on but must step
#: aside for a manager that is not the stock one (``also_other_managers`` tests).
SUBCLASS = Variant("subclass", fast_path=True, manager=SubclassedContentsManager)
#: jupyter_server's synchronous stock manager, which older configurations name: the fast path
#: serves it as it serves the default, asynchronous one (``also_other_managers`` tests).
SYNC = Variant(
    "sync",
    fast_path=True,
    manager="jupyter_server.services.contents.largefilemanager.LargeFileManager",
)
#: jupyter-fs's manager, which hands each path to another (its root's: a stock manager, which
#: the fast path must not take for the one serving; ``also_other_managers`` tests).
JUPYTERFS = Variant("jupyterfs", fast_path=True, manager="jupyterfs.metamanager.MetaManager")
#: jupytext's manager, a real non-stock one (``also_jupytext`` and ``jupytext_only`` tests).
JUPYTEXT = Variant("jupytext", fast_path=True, extensions=("jupyterlab_jupytext",))
#: s3contents' manager over an S3 endpoint (tests/s3server.py): files that are not on this disk,
#: kept by a manager whose ``get`` has no ``require_hash`` (``s3_only`` tests).
S3 = Variant("s3", fast_path=True, manager="s3contents.S3ContentsManager")


def make_notebook(sources: list[str], *, minor: int = 5) -> nbformat.NotebookNode:
    """A notebook of code cells; nbformat 4.5 cells carry ids, 4.4 cells do not."""
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = minor
    for index, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        if minor >= 5:
            cell["id"] = f"cell-{index}"
        else:
            del cell["id"]
        nb.cells.append(cell)
    return nb


async def refusal(client: CollabClient[Any]) -> tuple[str, int | None]:
    """How a connection attempt was refused: ("http", status) or ("close", close code)."""
    try:
        await client.connect()
    except HTTPClientError as error:
        return "http", error.code
    await client.wait_closed(5)
    assert not client.synced, "a refused client must never receive a SyncStep2"
    return "close", client.close_code


def append(text: Text, suffix: str) -> None:
    """Type at the end of a shared text (``ycell["source"] += s`` would replace the Text)."""
    text.insert(len(text), suffix)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def notebook_on_disk(path: Path) -> nbformat.NotebookNode | None:
    """The notebook file, or None while it is being rewritten (a save truncates then writes the
    file in place, so a reader can see it empty or half written). Read it once per check: a
    second read may land in the next rewrite."""
    try:
        return read_notebook(path)
    except Exception:
        return None


def sources_on_disk(path: Path) -> list[str] | None:
    """Cell sources of the notebook file, or None while it is being rewritten."""
    notebook = notebook_on_disk(path)
    return None if notebook is None else cell_sources(notebook)


def cell_sources(notebook: YNotebook | dict[str, Any]) -> list[str]:
    """Cell sources of a YNotebook, cell by cell as stored (YNotebook.get() would hide exact
    duplicates, the very thing tests look for), or of a notebook dict from nbformat."""
    if isinstance(notebook, YNotebook):
        return [str(cell["source"]) for cell in notebook.ycells]
    sources = []
    for cell in notebook["cells"]:
        source = cell["source"]
        sources.append(source if isinstance(source, str) else "".join(source))
    return sources


class Collab:
    """What a test needs to drive the collaboration server: files, sessions, clients."""

    def __init__(
        self, serverapp: ServerApp, fetch: Fetch, root: Path, port: int, base_url: str
    ) -> None:
        self.serverapp = serverapp
        self.base_url = base_url.rstrip("/")
        self.fetch = fetch
        self.root = root
        self.port = port
        self.clients: list[CollabClient[Any]] = []
        self.counters: list[WriteCounter] = []

    # -- server-side objects ------------------------------------------------------------------

    @property
    def token(self) -> str:
        return str(self.serverapp.identity_provider.token)

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    @property
    def extension(self) -> Any:
        return self.serverapp.web_app.settings["jupyter_ycollab"]

    @property
    def rooms(self) -> dict[str, Any]:
        rooms: dict[str, Any] = self.extension.rooms
        return rooms

    @property
    def document_rooms(self) -> list[str]:
        """Ids of the open document rooms (not the global awareness room)."""
        return [room_id for room_id in self.rooms if room_id.count(":") >= 2]

    async def room_closed(self, room_id: str, timeout: float = 10.0) -> None:
        """Return once the room is gone and its document closed: the manager forgets a room
        before it closes it, and the closing still writes its update log (the last SAVED mark,
        the ``state`` values), so a test that puts a log back must wait for both."""
        await wait_until(lambda: room_id not in self.rooms, timeout, f"{room_id} evicted")
        await self.extension.manager._closings.finished(room_id)

    def freed_once_closed(
        self, room_id: str, *, collect: Callable[[], object] = gc.collect
    ) -> Callable[[], bool]:
        """What tells, after a full collection (``collect``), whether nothing holds the open
        room's ``Doc`` and document any more: to wait on once it closed. Observers held by
        pycrdt's Rust side make cycles Python's collector cannot see (codec/listeners.py)."""
        room = self.rooms[room_id]
        held = (weakref.ref(room.doc), weakref.ref(room.document))

        def freed() -> bool:
            collect()
            return all(ref() is None for ref in held)

        return freed

    @property
    def saving_manager(self) -> Any:
        """The contents manager whose ``save`` writes the root folder's files and runs the save
        hooks registered on it: the serving one, or jupyter-fs's root manager, to which it hands
        those paths (hooks registered on jupyter-fs's own manager run for no save, ours or not)."""
        serving = self.serverapp.web_app.settings["contents_manager"]
        return getattr(serving, "_default_root_manager", serving)

    @property
    def compat(self) -> Any:
        """The jupyter_server_ydoc compatibility object other extensions use."""
        return self.serverapp.web_app.settings["jupyter_server_ydoc"]

    async def server_notebook(self, path: str) -> YNotebook:
        """A copy of the live document of a notebook room, from the compatibility object."""
        doc = await self.compat.get_document(
            path=path, content_type="notebook", file_format="json", copy=True
        )
        assert isinstance(doc, YNotebook), f"no open notebook room for {path}: {doc!r}"
        return doc

    async def server_text(self, path: str) -> str:
        doc = await self.compat.get_document(
            path=path, content_type="file", file_format="text", copy=True
        )
        assert doc is not None, f"no open room for {path}"
        return str(doc.get())

    # -- files --------------------------------------------------------------------------------

    def watch_writes(self) -> WriteCounter:
        """Count writes to files of the root folder from now on (create the files first)."""
        counter = WriteCounter(self.root)
        self.counters.append(counter)
        return counter

    def write_notebook(self, name: str, sources: list[str], *, minor: int = 5) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook(sources, minor=minor), path)
        return path

    def write_bytes(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    # -- sessions and rooms -------------------------------------------------------------------

    async def put_session(
        self, path: str, file_format: str = "json", file_type: str = "notebook", **kwargs: Any
    ) -> dict[str, Any]:
        body = json.dumps({"format": file_format, "type": file_type})
        response = await self.fetch(
            "api", "collaboration", "session", path, method="PUT", body=body, **kwargs
        )
        session: dict[str, Any] = json.loads(response.body)
        return session

    async def request(
        self,
        method: str,
        route: str,
        query: str = "",
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """``/api/collaboration/{route}?{query}`` with the URL written exactly as given (the
        front end writes literal ``&&``): the status and the JSON body, also for errors."""
        url = f"http://127.0.0.1:{self.port}{self.base_url}/api/collaboration/{route}"
        request = HTTPRequest(
            f"{url}?{query}" if query else url,
            method=method,
            body=body if body is not None or method not in ("PUT", "POST") else "",
            headers={**self.auth_headers, **(headers or {})},
        )
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        return response.code, json.loads(response.body or b"null")

    @staticmethod
    def room_id(session: dict[str, Any]) -> str:
        return f"{session['format']}:{session['type']}:{session['fileId']}"

    def room_url(self, room_id: str, query: str = "") -> str:
        """The websocket URL the front end builds: the room id unencoded, like y-websocket."""
        url = f"ws://127.0.0.1:{self.port}{self.base_url}/api/collaboration/room/{room_id}"
        return f"{url}?{query}" if query else url

    def client(
        self, document: DocT, url: str, headers: dict[str, str] | None = None
    ) -> CollabClient[DocT]:
        """A client that is closed when the test ends (headers default to the token)."""
        client = CollabClient(document, url, self.auth_headers if headers is None else headers)
        self.clients.append(client)
        return client

    def session_client(
        self, session: dict[str, Any], document: DocT, headers: dict[str, str] | None = None
    ) -> CollabClient[DocT]:
        url = self.room_url(self.room_id(session), f"sessionId={session['sessionId']}")
        return self.client(document, url, headers)

    async def login_cookie(self) -> str:
        """The Cookie header of a browser session: its user is the same at every request, where
        each request with the token alone is a new anonymous user (and token-authenticated
        requests skip the origin check by design; a cross-site attack would ride on the
        cookie)."""
        response = await self.fetch("api", "status")
        cookies = [header.split(";", 1)[0] for header in response.headers.get_list("Set-Cookie")]
        assert cookies, "the server set no login cookie"
        return "; ".join(cookies)

    async def open_notebook(self, path: str) -> CollabClient[YNotebook]:
        """PUT a session for a notebook and return a synced client of its room."""
        session = await self.put_session(path)
        client = self.session_client(session, YNotebook(Doc()))
        await client.sync()
        return client

    async def open_text(self, path: str) -> CollabClient[YUnicode]:
        """PUT a session for a text file and return a synced client of its room."""
        session = await self.put_session(path, "text", "file")
        client = self.session_client(session, YUnicode(Doc()))
        await client.sync()
        return client

    async def close_all(self) -> None:
        for client in self.clients:
            if client.connected:
                await client.close()
        for counter in self.counters:
            counter.close()


async def everyone_holds(
    collab: Collab, path: str, clients: list[CollabClient[YNotebook]], expected: list[str]
) -> None:
    """The server's document and every client's hold ``expected`` (and nothing twice)."""

    async def check() -> bool:
        server = cell_sources(await collab.server_notebook(path))
        return server == expected and all(cell_sources(c.document) == expected for c in clients)

    try:
        await wait_until(check, 5, f"everyone to hold {expected}")
    except AssertionError:
        server = cell_sources(await collab.server_notebook(path))
        seen = {"server": server} | {
            f"client {i}": cell_sources(c.document) for i, c in enumerate(clients)
        }
        raise AssertionError(f"expected {expected}, got {seen}") from None


async def control_saves_three_times(collab: Collab, writes: WriteCounter) -> None:
    """A control room with autosave on, edited and saved three times (``writes`` counts them):
    a room under the same save policy whose edit was made before would have saved by then."""
    collab.write_notebook("auto.ipynb", ["b = 1"])
    control = await collab.open_notebook("auto.ipynb")
    control.set_awareness({"user": {"name": "Control"}, "autosave": True})
    for saves in range(1, 4):
        append(control.document.ycells[0]["source"], str(saves))
        await wait_until(lambda n=saves: writes.count("auto.ipynb") >= n, 10, "a control save")
