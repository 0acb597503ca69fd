"""Page helpers: one ``LabPage`` is one user's JupyterLab tab, driven through the real UI."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

from waiting import wait_for_value, wait_until

# Generous: two cores shared by a Jupyter server, a browser with two JupyterLabs and the tests.
LOAD_TIMEOUT = 90.0
SYNC_TIMEOUT = 30.0

NOTEBOOK_EDITORS = ".jp-NotebookPanel .jp-Notebook .jp-Cell .jp-InputArea-editor .cm-content"
FILE_EDITOR = ".jp-FileEditor .cm-content"
DIRTY = re.compile(r"(^|\s)jp-mod-dirty(\s|$)")


class LabPage:
    """One user (a browser context) with JupyterLab open on one document."""

    def __init__(self, page: Page, *, base_url: str, token: str, label: str) -> None:
        self.page = page
        self.base_url = base_url
        self.token = token
        self.label = label
        self.workspace = ""
        self.path = ""

    # -- opening ---------------------------------------------------------------------------
    def goto(self, path: str, *, workspace: str) -> None:
        """Open ``path`` in a workspace of its own (so no layout leaks between users or tests)."""
        self.path, self.workspace = path, workspace
        url = f"{self.base_url}/lab/workspaces/{workspace}/tree/{quote(path)}?token={self.token}"
        self.page.goto(url, timeout=LOAD_TIMEOUT * 1000)

    def open_notebook(self, path: str, *, workspace: str) -> None:
        self.goto(path, workspace=workspace)
        self.wait_notebook_ready()

    def wait_notebook_ready(self) -> None:
        """Wait for the cells, then answer the kernel dialog: the tests run without kernels."""
        expect(self.page.locator(NOTEBOOK_EDITORS).first).to_be_visible(
            timeout=LOAD_TIMEOUT * 1000
        )
        self.choose_no_kernel()

    def choose_no_kernel(self) -> None:
        dialog = self.page.locator(".jp-Dialog", has_text="Select Kernel")
        dialog.get_by_role("button", name="No Kernel").click(timeout=LOAD_TIMEOUT * 1000)
        expect(dialog).to_have_count(0, timeout=SYNC_TIMEOUT * 1000)

    def open_text(self, path: str, *, workspace: str) -> None:
        self.goto(path, workspace=workspace)
        expect(self.page.locator(FILE_EDITOR)).to_be_visible(timeout=LOAD_TIMEOUT * 1000)

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
        wait_for_value(
            self.cell_sources,
            expected,
            timeout=timeout,
            what=f"{self.label}'s notebook to show the expected cells",
            pause=self.pause,
        )

    def append_to_cell(self, index: int, text: str) -> None:
        """Type ``text`` at the end of cell ``index``."""
        self.cell_editors().nth(index).click()
        self.page.keyboard.press("Control+End")
        self.page.keyboard.type(text)

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

    # -- text files --------------------------------------------------------------------------
    def editor_text(self) -> str:
        text: str = self.page.locator(FILE_EDITOR).evaluate("e => e.innerText")
        return text

    def expect_text(self, expected: str, *, timeout: float = SYNC_TIMEOUT) -> None:
        """Wait until the editor shows exactly ``expected`` (trailing newlines ignored)."""
        wait_for_value(
            lambda: self.editor_text().rstrip("\n"),
            expected.rstrip("\n"),
            timeout=timeout,
            what=f"{self.label}'s editor to show the expected text",
            pause=self.pause,
        )

    def type_in_editor(self, keys: list[str], text: str) -> None:
        """Click into the text editor, press ``keys`` (to place the cursor), then type ``text``."""
        self.page.locator(FILE_EDITOR).click()
        for key in keys:
            self.page.keyboard.press(key)
        self.page.keyboard.type(text)

    # -- saving, tabs, dialogs ---------------------------------------------------------------
    def save(self) -> None:
        """Ctrl-S, as a user would (the focus must be in the document)."""
        self.page.keyboard.press("Control+s")

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
        return self.page.locator(".jp-Dialog")

    def dialog_texts(self) -> list[str]:
        texts: list[str] = self.dialogs().all_inner_texts()
        return texts

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
    def pause(self, seconds: float) -> None:
        """Sleep between polls while Playwright keeps handling this page's events."""
        self.page.wait_for_timeout(seconds * 1000)

    def wait_until(self, predicate: Callable[[], Any], *, what: str, timeout: float) -> Any:
        return wait_until(predicate, timeout=timeout, what=what, pause=self.pause)
