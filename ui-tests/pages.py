"""Page helpers: one ``LabPage`` is one user's JupyterLab tab, driven through the real UI."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from playwright.sync_api import (
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    WebSocket,
    expect,
)

from waiting import wait_for_value, wait_until

# Generous: two cores shared by a Jupyter server, a browser with two JupyterLabs and the tests.
LOAD_TIMEOUT = 90.0
SYNC_TIMEOUT = 30.0

NOTEBOOK_EDITORS = ".jp-NotebookPanel .jp-Notebook .jp-Cell .jp-InputArea-editor .cm-content"
FILE_EDITOR = ".jp-FileEditor .cm-content"
CHAT_INPUT = ".jp-chat-input-container textarea"
CHAT_MESSAGES = ".jp-chat-rendered-message"
CONNECTION_LOST = "Server Connection Error"  # JupyterLab's dialog when a request found no server
DIRTY = re.compile(r"(^|\s)jp-mod-dirty(\s|$)")
ROOM_SOCKET = "/api/collaboration/room/"
SESSION_API = "/api/collaboration/session/"
GLOBAL_AWARENESS = "JupyterLab:globalAwareness"


SYNC_STEP2 = b"\x00\x01"  # message type SYNC, sub-type step 2: the server answered our step 1
RAW = 2  # message type of Jupyter's own messages: varString(JSON), e.g. save replies


def raw_message(payload: bytes) -> dict[str, Any] | None:
    """The JSON object of a RAW frame (``02 varString``), or None for any other frame."""
    if not payload or payload[0] != RAW:
        return None
    length, shift, index = 0, 0, 1
    while True:  # the varString's length: unsigned LEB128
        byte = payload[index]
        length |= (byte & 0x7F) << shift
        index, shift = index + 1, shift + 7
        if byte < 0x80:
            break
    message = json.loads(payload[index : index + length].decode())
    return message if isinstance(message, dict) else None


class SocketRecord:
    """One websocket the page opened: whether it is synced (got a SYNC step 2) and closed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.synced = False
        self.closed = False
        self.raw: list[dict[str, Any]] = []  # RAW messages received, in order

    @property
    def is_live(self) -> bool:
        return self.synced and not self.closed

    @property
    def is_document_room(self) -> bool:
        return ROOM_SOCKET in self.url and GLOBAL_AWARENESS not in self.url


class LabPage:
    """One user (a browser context) with JupyterLab open on one document."""

    def __init__(self, page: Page, *, base_url: str, token: str, label: str) -> None:
        self.page = page
        self.base_url = base_url
        self.token = token
        self.label = label
        self.workspace = ""
        self.path = ""
        self.log: list[str] = []  # console, page errors, websockets, dialogs: saved on failure
        self.sockets: list[SocketRecord] = []
        self.refused_sessions: list[str] = []  # collaboration session requests that failed
        self.kernel_dialog_due = False  # a notebook (re)loaded, its kernel dialog not answered
        self.in_flight: set[Request] = set()  # HTTP requests sent and not answered yet
        page.on("request", lambda request: self.in_flight.add(request))
        page.on("requestfinished", lambda request: self.in_flight.discard(request))
        page.on("requestfailed", lambda request: self.in_flight.discard(request))
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.note(f"[pageerror] {error}"))
        page.on("websocket", self._on_websocket)
        # JupyterLab's "Server Connection Error" can pop up whenever a server is away (a poll
        # failed), also in the middle of typing: a user dismisses it and goes on, so does the page,
        # before its next action. ``dialogs()`` leaves it out: it is not this page's to answer.
        lost = page.locator(".jp-Dialog", has_text=CONNECTION_LOST)
        page.add_locator_handler(lost, self._dismiss_connection_error)

    def note(self, line: str) -> None:
        self.log.append(line)

    def _dismiss_connection_error(self, dialog: Locator) -> None:
        self.note(f"[dialog] {' '.join(dialog.inner_text().split())}")
        dialog.locator(".jp-Dialog-footer button").last.click()

    def _on_console(self, message: ConsoleMessage) -> None:
        self.note(f"[{message.type}] {message.text}")

    def _on_response(self, response: Response) -> None:
        if SESSION_API in response.url and response.status >= 400:
            refusal = f"{response.request.method} {response.url} -> {response.status}"
            self.refused_sessions.append(refusal)
            self.note(f"[refused] {refusal}")

    def _on_websocket(self, socket: WebSocket) -> None:
        record = SocketRecord(socket.url.split("?", 1)[0])
        self.sockets.append(record)
        self.note(f"[websocket open] {record.url}")

        def on_frame(payload: str | bytes) -> None:
            if isinstance(payload, bytes) and payload.startswith(SYNC_STEP2):
                record.synced = True
            elif isinstance(payload, bytes) and (message := raw_message(payload)) is not None:
                record.raw.append(message)

        def on_close(_: WebSocket) -> None:
            record.closed = True
            self.note(f"[websocket close] {record.url}")

        socket.on("framereceived", on_frame)
        socket.on("close", on_close)

    # -- opening ---------------------------------------------------------------------------
    def goto(self, path: str, *, workspace: str) -> None:
        """Open ``path`` in a workspace of its own (so no layout leaks between users or tests)."""
        self.path, self.workspace = path, workspace
        url = f"{self.base_url}/lab/workspaces/{workspace}/tree/{quote(path)}?token={self.token}"
        self.page.goto(url, timeout=LOAD_TIMEOUT * 1000)

    def open_notebook(self, path: str, *, workspace: str) -> None:
        self.goto(path, workspace=workspace)
        self.wait_notebook_ready()

    def new_notebook(self, folder: str, *, workspace: str) -> None:
        """Make a notebook in ``folder`` as File > New > Notebook does: its command, through
        ``window.jupyterapp``, told the folder (the menu makes it where the file browser is,
        which may not have reached ``folder`` yet), then No Kernel. The page then shows it
        (``self.path``), once its first cell does."""
        url = f"{self.base_url}/lab/workspaces/{workspace}?token={self.token}"
        self.workspace = workspace
        self.page.goto(url, timeout=LOAD_TIMEOUT * 1000)
        self.page.wait_for_function("() => window.jupyterapp", timeout=LOAD_TIMEOUT * 1000)
        self.page.evaluate(
            """async cwd => {
                await window.jupyterapp.restored;
                await window.jupyterapp.commands.execute('notebook:create-new', {cwd});
            }""",
            folder,
        )
        self.path = f"{folder}/Untitled.ipynb"
        expect(self.tab()).to_be_visible(timeout=LOAD_TIMEOUT * 1000)
        self.wait_notebook_ready()

    def open_in_notebook_app(self, path: str) -> None:
        """Open ``path`` in Notebook 7 (``/notebooks/<path>``): the notebook-only front end,
        which loads the same collaboration plugins as JupyterLab."""
        self.path = path
        url = f"{self.base_url}/notebooks/{quote(path)}?token={self.token}"
        self.page.goto(url, timeout=LOAD_TIMEOUT * 1000)
        self.wait_notebook_ready()

    def open_with_notebook_factory(self, path: str, *, workspace: str) -> None:
        """Open ``path`` (a jupytext script) as a notebook, as "Open With > Notebook" does: the
        ``docmanager:open`` command with the Notebook factory, through ``window.jupyterapp``
        (the server must set ``LabApp.expose_app_in_browser``)."""
        self.path, self.workspace = path, workspace
        url = f"{self.base_url}/lab/workspaces/{workspace}?token={self.token}"
        self.page.goto(url, timeout=LOAD_TIMEOUT * 1000)
        self.page.wait_for_function("() => window.jupyterapp", timeout=LOAD_TIMEOUT * 1000)
        self.page.evaluate(
            """async path => {
                await window.jupyterapp.restored;
                await window.jupyterapp.commands.execute(
                    'docmanager:open', {path, factory: 'Notebook'}
                );
            }""",
            path,
        )
        self.wait_notebook_ready()

    def wait_notebook_ready(self) -> None:
        """Wait for the cells, then answer the kernel dialog: the tests run without kernels."""
        self.wait_loaded(self.page.locator(NOTEBOOK_EDITORS).first)
        self.choose_no_kernel()

    def wait_loaded(self, editor: Locator) -> None:
        """Wait until ``editor`` shows; fail at once if the server refuses the document session."""

        def loaded() -> bool:
            if self.refused_sessions:
                raise AssertionError(f"{self.label}: the server refused {self.refused_sessions}")
            return editor.is_visible()

        self.wait_until(loaded, what=f"{self.label} to load {self.path}", timeout=LOAD_TIMEOUT)

    def choose_kernel(self) -> None:
        """Answer the kernel dialog with the kernel it proposes (Python 3, ipykernel), and wait
        until that kernel is idle. A second user's page joins the kernel the first one started
        (one session per path), with no dialog."""
        dialog = self.page.locator(".jp-Dialog", has_text="Select Kernel")
        status = self.page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator")

        def idle() -> bool:
            if dialog.count():
                dialog.locator(".jp-Dialog-footer .jp-mod-accept").click()
            named = "Python 3" in self.page.locator(".jp-Toolbar-kernelName").inner_text()
            return named and status.get_attribute("data-status") == "idle"

        self.wait_until(idle, what=f"{self.label}'s kernel to be idle", timeout=LOAD_TIMEOUT)
        self.kernel_dialog_due = False

    def choose_no_kernel(self) -> None:
        dialog = self.page.locator(".jp-Dialog", has_text="Select Kernel")
        dialog.get_by_role("button", name="No Kernel").click(timeout=LOAD_TIMEOUT * 1000)
        expect(dialog).to_have_count(0, timeout=SYNC_TIMEOUT * 1000)
        self.kernel_dialog_due = False

    def open_text(self, path: str, *, workspace: str) -> None:
        self.goto(path, workspace=workspace)
        self.wait_loaded(self.page.locator(FILE_EDITOR))

    def identity(self) -> dict[str, Any]:
        """This user as the server sees it (``GET /api/me``)."""
        me: dict[str, Any] = self.page.evaluate(
            "async () => (await (await fetch('/api/me')).json()).identity"
        )
        return me

    # -- notebooks ---------------------------------------------------------------------------
    def cell_editors(self) -> Locator:
        return self.page.locator(NOTEBOOK_EDITORS)

    def cell_sources(self) -> list[str]:
        sources: list[str] = self.cell_editors().evaluate_all(
            "editors => editors.map(e => e.innerText.replace(/\\n$/, ''))"
        )
        return sources

    def expect_cells(self, expected: list[str], *, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the notebook shows exactly these cell sources, in this order."""
        self.wait_for_value(self.cell_sources, expected, what="notebook", timeout=timeout)

    def append_to_cell(self, index: int, text: str) -> None:
        """Type ``text`` at the end of cell ``index``, and wait until the cell shows it."""
        before = self.cell_sources()[index]
        self.type_at_end_of_cell(index, text)
        self._retype_lost_keys(index, before, text)

    def type_at_end_of_cell(self, index: int, text: str) -> None:
        """Click into cell ``index`` and type ``text`` at its end, unchecked: a read-only page's
        keys land nowhere."""
        self.cell_editors().nth(index).click()
        self.page.keyboard.press("Control+End")
        self.page.keyboard.type(text)

    def _retype_lost_keys(self, index: int, before: str, text: str) -> None:
        """Wait until cell ``index`` shows ``before + text``. JupyterLab's "Server Connection
        Error" can pop up while the keys are typed (a poll found a server away), and the keys
        after it go to the dialog: as a user would, close it (the click into the cell runs the
        handler that does) and type what is missing."""
        lost = self.page.locator(".jp-Dialog", has_text=CONNECTION_LOST)

        def landed() -> str | None:
            shown = self.cell_sources()[index]
            return shown.removeprefix(before) if shown.startswith(before) else None

        for _ in range(3):
            self.wait_until(
                lambda: landed() == text or lost.count() > 0,
                what=f"cell {index} to show what {self.label} typed",
                timeout=SYNC_TIMEOUT,
            )
            typed = landed()
            if typed == text:
                return
            assert typed is not None and text.startswith(typed), f"cell {index} shows {typed!r}"
            self.type_at_end_of_cell(index, text[len(typed) :])
        raise AssertionError(f"{self.label}: the keys for cell {index} went astray three times")

    def add_cell_below(self, index: int, text: str) -> None:
        """Insert a code cell below cell ``index`` (command mode ``b``) and type into it."""
        count = self.cell_editors().count()
        self.cell_editors().nth(index).click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("b")
        expect(self.cell_editors()).to_have_count(count + 1, timeout=SYNC_TIMEOUT * 1000)
        self.page.keyboard.press("Enter")
        expect(self.cell_editors().nth(index + 1)).to_be_focused(timeout=SYNC_TIMEOUT * 1000)
        self.page.keyboard.type(text)
        self._retype_lost_keys(index + 1, "", text)

    def move_cell_down(self, index: int) -> None:
        """Move cell ``index`` one place down (command mode Ctrl+Shift+Down): JupyterLab deletes
        it and inserts a copy, its id included."""
        self.cell_editors().nth(index).click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+Shift+ArrowDown")

    def run_cell(self, index: int, *, keys: str = "Shift+Enter") -> None:
        """Run cell ``index`` as a user does: Shift+Enter (which moves on, and adds a cell below
        the last one), or Ctrl+Enter (which stays)."""
        self.cell_editors().nth(index).click()
        self.page.keyboard.press(keys)

    def cell_outputs(self) -> list[tuple[str, str]]:
        """Per cell, its prompt with no spaces (``"[3]:"``, ``"[]:"``: its execution count) and
        its outputs' text, one output from the next parted by ``|``."""
        shown: list[list[str]] = self.page.locator(".jp-NotebookPanel .jp-Cell").evaluate_all(
            """cells => cells.map(cell => [
                (cell.querySelector('.jp-InputPrompt')?.innerText ?? '').replace(/\\s/g, ''),
                Array.from(cell.querySelectorAll('.jp-OutputArea-output'), o => o.innerText.trim())
                    .join('|'),
            ])"""
        )
        return [(prompt, outputs) for prompt, outputs in shown]

    def expect_outputs(
        self, expected: list[tuple[str, str]], *, timeout: float = SYNC_TIMEOUT
    ) -> None:
        """Wait until the cells show exactly these prompts and outputs (see ``cell_outputs``)."""
        self.wait_for_value(self.cell_outputs, expected, what="outputs", timeout=timeout)

    # -- text files --------------------------------------------------------------------------
    def editor_text(self) -> str:
        """The editor's lines (not its ``innerText``, which doubles an empty line's newline)."""
        text: str = self.page.locator(FILE_EDITOR).evaluate(
            "e => Array.from(e.querySelectorAll('.cm-line'), line => line.textContent).join('\\n')"
        )
        return text

    def expect_text(self, expected: str, *, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the editor shows exactly ``expected`` (trailing newlines ignored)."""

        def shown() -> str:
            return self.editor_text().rstrip("\n")

        self.wait_for_value(shown, expected.rstrip("\n"), what="editor", timeout=timeout)

    def type_in_editor(self, keys: list[str], text: str) -> None:
        """Click into the text editor, press ``keys`` (to place the cursor), then type ``text``."""
        self.page.locator(FILE_EDITOR).click()
        for key in keys:
            self.page.keyboard.press(key)
        self.page.keyboard.type(text)

    # -- chats (jupyterlab-chat) ------------------------------------------------------------
    def open_chat(self, path: str, *, workspace: str) -> None:
        self.goto(path, workspace=workspace)
        self.wait_loaded(self.page.locator(CHAT_INPUT).first)

    def send_chat(self, text: str) -> None:
        """Type ``text`` in the chat's input and press Enter, as a user sends a message."""
        self.page.locator(CHAT_INPUT).first.click()
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")

    def chat_messages(self) -> list[str]:
        texts: list[str] = self.page.locator(CHAT_MESSAGES).all_inner_texts()
        return [text.strip() for text in texts]

    def chat_unverified_times(self) -> list[bool]:
        """Per message, whether the page's chat model still has the sender's clock
        (``raw_time``), not the server's: what the page holds, not what it drew (see
        test_chat.py for when the two differ)."""
        marks: list[bool] = self.page.evaluate(
            """() => {
                const widget = window.jupyterapp.shell.currentWidget;
                return widget.model.messages.map(message => Boolean(message.raw_time));
            }"""
        )
        return marks

    def expect_chat(self, expected: list[str], *, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the chat shows exactly these messages, in this order."""
        self.wait_for_value(self.chat_messages, expected, what="chat", timeout=timeout)

    # -- JupyterCAD models (jupytercad-core's front end) -------------------------------------
    def open_model(self, path: str, *, workspace: str) -> None:
        """Open a ``.jcad`` file in JupyterCAD's own document widget, and wait for its model."""
        self.goto(path, workspace=workspace)
        self.wait_until(
            self.model_objects, what=f"{self.label} to load {path}", timeout=LOAD_TIMEOUT
        )

    def model_objects(self) -> list[str] | None:
        """The names of the objects the current JupyterCAD model holds, as its page has them
        (the widget's shared model, ``JupyterCadDoc``); None before it is loaded."""
        names: list[str] | None = self.page.evaluate(
            """() => {
                const model = window.jupyterapp?.shell.currentWidget?.context?.model?.sharedModel;
                return model?.objects?.length ? model.objects.map(object => object.name) : null;
            }"""
        )
        return names

    def add_model_object(self, obj: dict[str, Any]) -> None:
        """Add an object to the model as JupyterCAD's commands do (``sharedModel.addObject``)."""
        self.page.evaluate(
            "obj => window.jupyterapp.shell.currentWidget.context.model.sharedModel.addObject(obj)",
            obj,
        )

    def expect_model(self, expected: list[str], *, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the model holds exactly these objects, in any order."""
        read = lambda: sorted(self.model_objects() or [])  # noqa: E731
        self.wait_for_value(read, sorted(expected), what="model", timeout=timeout)

    # -- saving, tabs, dialogs ---------------------------------------------------------------
    def save(self) -> None:
        """Ctrl-S, as a user would (the focus must be in the document)."""
        self.page.keyboard.press("Control+s")

    def name_at_first_save(self, name: str) -> None:
        """Give ``name`` in the dialog JupyterLab opens at the first Ctrl-S of an untitled file
        (the docmanager's "rename untitled file on save", on by default), and rename."""
        dialog = self.dialogs().first
        expect(dialog).to_contain_text("Rename", timeout=SYNC_TIMEOUT * 1000)
        dialog.locator(".jp-Dialog-body input:not([type=checkbox])").first.fill(name)
        dialog.get_by_role("button", name="Rename").click()
        expect(self.dialogs()).to_have_count(0, timeout=SYNC_TIMEOUT * 1000)

    def knows_the_files_hash(self) -> bool:
        """Whether the current document's context holds the hash that JupyterLab's check before
        a save will get (a contents ``GET`` with no type): a page learns a new one from the
        room's ``state.hash``, but only once its own ``GET`` of the file returned
        (jupyter-docprovider), and a Ctrl-S before then shows "File Changed"."""
        known: bool = self.page.evaluate(
            """async () => {
                const app = window.jupyterapp, context = app.shell.currentWidget.context;
                const options = {content: false, hash: true};
                const model = await app.serviceManager.contents.get(context.path, options);
                return context.contentsModel?.hash === model.hash;
            }"""
        )
        return known

    def save_replies(self) -> list[dict[str, Any]]:
        """The server's replies to this page's save requests, in order."""
        return [m for s in self.sockets for m in s.raw if m.get("type") == "save"]

    def watch_save_states(self) -> None:
        """Record the current document's save states as the front end concludes them
        (``started``, ``completed``, ``failed``: a failed one is what shows the error dialog), and
        ``checkpointed`` when JupyterLab's save command ends.

        The command creates a checkpoint after ``completed`` and ignores any Ctrl-S until then,
        so a test that saves twice in a row waits for ``checkpointed`` between the two.
        """
        self.page.evaluate(
            """() => {
                window.saveStates = [];
                const context = window.jupyterapp.shell.currentWidget.context;
                context.saveState.connect((_, state) => window.saveStates.push(state));
                const createCheckpoint = context.createCheckpoint.bind(context);
                context.createCheckpoint = async () => {
                    try {
                        return await createCheckpoint();
                    } finally {
                        // Not the one JupyterLab makes when it opens a file that has none.
                        if (window.saveStates.length) window.saveStates.push("checkpointed");
                    }
                };
            }"""
        )

    def save_states(self) -> list[str]:
        states: list[str] = self.page.evaluate("() => window.saveStates")
        return states

    def browse(self, folder: str) -> None:
        """Show ``folder`` in the file browser ("" is the root), as a click on it would."""
        self.page.evaluate(
            "(path) => window.jupyterapp.commands.execute('filebrowser:go-to-path', {path})",
            folder,
        )

    def rename(self, new_path: str) -> None:
        """Rename the open document through JupyterLab's contents service, as the file browser
        does; the page's own tab follows it."""
        self.page.evaluate(
            "([from, to]) => window.jupyterapp.serviceManager.contents.rename(from, to)",
            [self.path, new_path],
        )
        self.path = new_path

    def expect_tab_named(self, name: str, *, timeout: float = SYNC_TIMEOUT) -> None:
        """The document's tab shows ``name``: a rename reached this page (whose document is at
        that name in the same folder from now on)."""
        self.path = f"{self.path.rpartition('/')[0]}/{name}".lstrip("/")
        expect(self.tab()).to_be_visible(timeout=timeout * 1000)

    def tab(self) -> Locator:
        name = self.path.rsplit("/", 1)[-1]
        return self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name)

    def expect_dirty(self, dirty: bool, *, timeout: float = SYNC_TIMEOUT) -> None:
        """The document tab shows (or does not show) the unsaved-changes mark."""
        check = expect(self.tab())
        if dirty:
            check.to_have_class(DIRTY, timeout=timeout * 1000)
        else:
            check.not_to_have_class(DIRTY, timeout=timeout * 1000)

    def dialogs(self) -> Locator:
        """The dialogs shown, but JupyterLab's "Server Connection Error" (dismissed by the page
        at its next action)."""
        return self.page.locator(".jp-Dialog", has_not_text=CONNECTION_LOST)

    def dialog_notes(self) -> list[str]:
        """The dialogs this page answered (see ``answer_dialogs``)."""
        return [line for line in self.log if line.startswith("[dialog]")]

    def dialog_texts(self) -> list[str]:
        texts: list[str] = self.dialogs().all_inner_texts()
        return texts

    def recover_after_restart(self, sockets_before: int, *, timeout: float = LOAD_TIMEOUT) -> None:
        """After a server restart: wait until the page has a new, synced document connection.

        Answers the dialogs a user would answer meanwhile: the collaboration's session dialog
        (its "Reload" is clicked: the page reloads) and the kernel dialog after a reload ("No
        Kernel"). Every dialog is noted in the log; any other dialog fails the test.
        """

        def reconnected() -> bool:
            if self.answer_dialogs():
                return False
            fresh = [s for s in self.sockets[sockets_before:] if s.is_document_room]
            return any(s.is_live for s in fresh) and self.cell_editors().count() > 0

        self.wait_until(reconnected, what=f"{self.label} to reconnect", timeout=timeout)
        if self.kernel_dialog_due:
            self.choose_no_kernel()  # a reloaded notebook asks again

    def expect_connected(self, connected: bool, *, timeout: float = LOAD_TIMEOUT) -> None:
        """Wait until the page has (or has no) synced document connection, answering the
        dialogs a user would meanwhile (see ``answer_dialogs``)."""

        def reached() -> bool:
            if self.answer_dialogs():
                return False
            live = any(s.is_live for s in self.sockets if s.is_document_room)
            return live == connected

        state = "connected" if connected else "disconnected"
        self.wait_until(reached, what=f"{self.label} to be {state}", timeout=timeout)

    def answer_dialogs(self) -> bool:
        """Answer the first visible dialog, if any; return whether there was one."""
        dialogs = self.dialogs()
        if dialogs.count() == 0:
            return False
        dialog = dialogs.first
        text = " ".join(dialog.inner_text().split())
        self.note(f"[dialog] {text}")
        buttons = dialog.locator(".jp-Dialog-footer button")
        if "Select Kernel" in text:
            dialog.get_by_role("button", name="No Kernel").click()
            self.kernel_dialog_due = False
        elif buttons.filter(has_text="Reload").count() > 0:
            with self.page.expect_navigation(timeout=LOAD_TIMEOUT * 1000):
                buttons.filter(has_text="Reload").click()
            self.kernel_dialog_due = True
        else:
            raise AssertionError(f"{self.label}: unexpected dialog: {text}")
        return True

    # -- collaborators -----------------------------------------------------------------------
    def show_collaborators(self) -> Locator:
        """Open the collaboration side panel (if it is not open) and return it."""
        panel = self.page.locator(".jp-CollaboratorsPanel")
        if not panel.is_visible():
            self.page.locator('.jp-SideBar [data-id="jp-collaboration-panel"]').click()
        expect(panel).to_be_visible(timeout=SYNC_TIMEOUT * 1000)
        return panel

    def expect_collaborator(self, display_name: str, *, timeout: float = SYNC_TIMEOUT) -> None:
        """The collaboration panel lists another user by name."""
        panel = self.show_collaborators()
        entry = panel.locator(".jp-Collaborator", has_text=display_name)
        expect(entry).to_be_visible(timeout=timeout * 1000)

    # -- waiting -----------------------------------------------------------------------------
    def settle(self, timeout: float = LOAD_TIMEOUT) -> None:
        """Give the page's requests time to be answered before it closes. A request the server
        still runs at its SIGTERM can hold its exit for good: jupyter_server runs some on AnyIO
        worker threads, which only their request's end stops (a notebook page's first one,
        nbconvert's formats, takes seconds). Best effort: a page of a stopped server waits out
        ``timeout``, and closes anyway."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            self.pause(0.1)

    def pause(self, seconds: float) -> None:
        """Sleep between polls while Playwright keeps handling this page's events."""
        self.page.wait_for_timeout(seconds * 1000)

    def wait_until(self, predicate: Callable[[], Any], *, what: str, timeout: float) -> Any:
        return wait_until(predicate, timeout=timeout, what=what, pause=self.pause)

    def wait_for_value(
        self, read: Callable[[], Any], expected: Any, *, what: str, timeout: float
    ) -> None:
        """Wait until ``read()`` gives ``expected``; ``what`` names the view (its last value is
        in the failure)."""
        wait_for_value(
            read,
            expected,
            timeout=timeout,
            what=f"{self.label}'s {what} to show the expected content",
            pause=self.pause,
        )


def open_for_each(path: str, *users: LabPage) -> None:
    """Each user opens the notebook ``path`` in its own workspace."""
    for user in users:
        user.open_notebook(path, workspace=user.workspace)


def expect_each_shows(expected: list[str], *users: LabPage) -> None:
    """Every user's page shows exactly these cells, and no dialog."""
    for user in users:
        user.expect_cells(expected)
    expect_no_dialog(*users)


def expect_no_dialog(*users: LabPage) -> None:
    for user in users:
        assert user.dialog_texts() == [], f"{user.label} shows a dialog"


def edit_one_notebook(alice: LabPage, bob: LabPage) -> list[str]:
    """Both have a notebook of cells ``first = 1`` and ``second = 2`` open: A types in a cell and
    B sees it, B adds a cell and A sees it. Returns the cells both then show."""
    bob.expect_cells(["first = 1", "second = 2"])
    alice.append_to_cell(0, "  # typed by A")
    bob.expect_cells(["first = 1  # typed by A", "second = 2"])
    bob.add_cell_below(1, "third = 3  # added by B")
    expected = ["first = 1  # typed by A", "second = 2", "third = 3  # added by B"]
    alice.expect_cells(expected)
    bob.expect_cells(expected)
    return expected
