"""Drive the JupyterHub trial in Chromium: alice and bob co-edit shared/trial.ipynb.

Run it against a hub started with jupyterhub_config.py (see README.md): ``python trial.py``.
It logs both users in, each spawns their own server, opens the shared notebook, types, and
checks what a user would look at: the other's text and cursor, the file on disk, a private
notebook with the same name in each home that stays private, and bob carrying on alone after
alice's server is stopped from the hub. Screenshots go to ``$HUBTRIAL_DIR/*.png``.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

BASE = Path(os.environ.get("HUBTRIAL_DIR", "/tmp/hubtrial"))
HUB = f"http://127.0.0.1:{os.environ.get('HUBTRIAL_PORT', '8000')}"
SHARED = "shared/trial.ipynb"
PRIVATE = "analysis.ipynb"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CELLS = ".jp-NotebookPanel .jp-Cell .jp-InputArea-editor .cm-content"
# The collaboration extension draws another user's caret, and a flag with their name above it.
REMOTE_CARET = ".jp-NotebookPanel .jp-remote-cursor"
REMOTE_NAME = ".jp-remote-userFlag-name"  # a CodeMirror tooltip: in <body>, not in the notebook
RUN = time.strftime("%H%M%S")  # markers of this run: the script may run again on the same files
LOAD, SYNC = 120_000, 30_000  # ms: spawning a server and loading JupyterLab is slow on 2 cores

# Records, in the page, when the first cell first shows `marker` (Date.now(), same clock as ours).
WATCH = """([cells, text]) => {
    const seen = () => [...document.querySelectorAll(cells)].some(e => e.innerText.includes(text));
    const note = () => { window.seenAt = Date.now(); };
    if (seen()) return note();
    new MutationObserver((_, observer) => { if (seen()) { note(); observer.disconnect(); } })
      .observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def log_in(browser: Browser, name: str) -> Page:
    """A browser context for ``name``: log in (any password) and wait for its JupyterLab."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(SYNC)
    started = time.monotonic()
    page.goto(f"{HUB}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", "any")
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=LOAD)
    seconds = time.monotonic() - started
    print(f"{name}: logged in, server spawned, lab at {page.url} in {seconds:.1f} s")
    return page


def open_notebook(page: Page, name: str, path: str) -> None:
    """Open ``path`` in a workspace of its own (only that document), without a kernel."""
    workspace = path.replace("/", "-").replace(".", "-")
    page.goto(f"{HUB}/user/{name}/lab/workspaces/{workspace}/tree/{path}", timeout=LOAD)
    expect(page.locator(CELLS).first).to_be_visible(timeout=LOAD)
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    dialog.get_by_role("button", name="No Kernel").click(timeout=LOAD)  # no kernels needed
    expect(dialog).to_have_count(0)


def type_at_end(page: Page, text: str) -> float:
    """Type ``text`` at the end of the first cell; return Date.now() in ms before its last key."""
    page.locator(CELLS).first.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text[:-1])
    sent: float = page.evaluate("Date.now()")
    page.keyboard.type(text[-1:])
    return sent


def expect_text(page: Page, text: str, *, present: bool = True) -> None:
    check = expect(page.locator(CELLS).first)
    (check.to_contain_text if present else check.not_to_contain_text)(text, timeout=SYNC)


def latency(sender: Page, receiver: Page, text: str) -> float:
    """Seconds from ``sender``'s last keystroke of ``text`` to ``receiver`` showing all of it."""
    receiver.evaluate(WATCH, [CELLS, text])
    sent = type_at_end(sender, text)
    expect_text(receiver, text)
    seen: float = receiver.evaluate("window.seenAt")
    return (seen - sent) / 1000


def disk_source(path: Path) -> str:
    return "".join(json.loads(path.read_text())["cells"][0]["source"])


def wait_disk(path: Path, *texts: str, timeout: float = 30.0) -> str:
    """Wait until the first cell on disk holds every text exactly once."""
    deadline = time.monotonic() + timeout
    while (source := disk_source(path)) and any(source.count(t) != 1 for t in texts):
        assert time.monotonic() < deadline, f"{path} never held {texts} once each: {source!r}"
        time.sleep(0.2)
    return source


def expect_cursor_of(page: Page, other: str) -> None:
    """The other user's caret shows in this page's notebook, flagged with their name."""
    expect(page.locator(REMOTE_CARET).first).to_be_attached(timeout=SYNC)
    expect(page.locator(REMOTE_NAME, has_text=other)).to_have_count(1, timeout=SYNC)


def expect_saved(*pages: Page) -> None:
    """No tab shows the unsaved mark: the writer's save reached every server's front ends."""
    for page in pages:
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="trial.ipynb")
        expect(tab).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"), timeout=SYNC)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=BASE / f"{name}.png")


def main() -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        alice, bob = log_in(browser, "alice"), log_in(browser, "bob")
        for page, name in ((alice, "alice"), (bob, "bob")):
            open_notebook(page, name, SHARED)

        print(f"bob saw alice's typing after {latency(alice, bob, f' # alice-{RUN}'):.2f} s")
        print(f"alice saw bob's typing after {latency(bob, alice, f' # bob-{RUN}'):.2f} s")
        expect_cursor_of(bob, "alice")
        type_at_end(alice, " ")  # alice types again: her caret moves, bob's stays
        expect_cursor_of(alice, "bob")
        print("each sees the other's caret, labelled with their name")
        shot(alice, "1-alice-shared")
        shot(bob, "1-bob-shared")
        print("disk:", repr(wait_disk(BASE / SHARED, f"alice-{RUN}", f"bob-{RUN}")))
        expect_saved(alice, bob)
        print("neither tab shows unsaved changes")

        check_private(alice, bob)

        stop_server(alice.context.new_page(), "alice")  # alice's shared tab stays open
        expect(bob.locator(REMOTE_NAME, has_text="alice")).to_have_count(0, timeout=SYNC)
        type_at_end(bob, f" # bob-alone-{RUN}")
        edits = (f"alice-{RUN}", f"bob-{RUN}", f"bob-alone-{RUN}")
        print("disk:", repr(wait_disk(BASE / SHARED, *edits)))
        shot(bob, "3-bob-alone")
        print("bob kept working after alice's server stopped; alice's caret is gone")
        browser.close()


def check_private(alice: Page, bob: Page) -> None:
    """Each home's analysis.ipynb, at the same path on both servers, stays its owner's."""
    mine, theirs = alice.context.new_page(), bob.context.new_page()  # new tabs
    open_notebook(mine, "alice", PRIVATE)
    open_notebook(theirs, "bob", PRIVATE)
    type_at_end(mine, f" # alice-private-{RUN}")
    wait_disk(BASE / "homes/alice" / PRIVATE, f"alice-private-{RUN}")
    expect_text(theirs, "bob private")
    expect_text(theirs, f"alice-private-{RUN}", present=False)
    assert "alice" not in disk_source(BASE / "homes/bob" / PRIVATE)
    shot(mine, "2-alice-private")
    shot(theirs, "2-bob-private")
    mine.close()
    theirs.close()
    print("private analysis.ipynb stayed private")


def stop_server(page: Page, name: str) -> None:
    """Stop ``name``'s server from the hub's home page, as a user would."""
    page.goto(f"{HUB}/hub/home")
    page.click("#stop")
    expect(page.locator("#start")).to_be_visible(timeout=LOAD)
    print(f"{name}'s server stopped from the hub")


if __name__ == "__main__":
    main()
