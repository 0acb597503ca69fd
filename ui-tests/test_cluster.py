"""Scenario: two JupyterLab servers share one folder through a real redis-server (a hub with one
server per user, or replicas behind a load balancer), and their users co-edit one notebook.

Each user's browser talks to their own server only. They see each other's typing, each lists the
other in the collaborators panel with the notebook they are on (the global awareness room,
shared through Redis), and the file holds both users' edits once.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from conftest import ARTIFACTS, FAILED, NewUser, save_artifacts
from conftest import test_slug as slug_of
from documents import TestFolder
from lab_server import REFERENCE, LabServer, free_port
from pages import SYNC_TIMEOUT, LabPage, edit_one_notebook
from waiting import wait_until

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence, stopped by its pid."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    process = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    wait_until(lambda: _answers_ping(port), timeout=10, what="redis-server to answer PING")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def servers(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LabServer, LabServer]]:
    """Two servers over one folder and one Redis, each with its own home (file ids, logs)."""
    root = tmp_path_factory.mktemp("shared")
    options = [f"--YCollabApp.redis_url={redis_url}", "--YCollabApp.cluster_lease_ttl=2"]
    pair = tuple(
        LabServer(home=tmp_path_factory.mktemp(f"lab-{n}"), options=options, shared_root=root)
        for n in (1, 2)
    )
    try:
        for server in pair:
            server.start()
        if pair[0].collaboration == REFERENCE:
            pytest.skip("the reference server has no cluster")
        yield pair  # type: ignore[misc]
    finally:
        for server in pair:
            server.stop()


@pytest.fixture
def user_on(browser: Browser, request: pytest.FixtureRequest) -> Iterator[NewUser]:
    """``user_on(server, "A")``: a user (a browser context) whose JupyterLab is on ``server``."""
    slug = slug_of(request.node)
    made: list[tuple[LabPage, LabServer]] = []

    def make(server: LabServer, label: str) -> LabPage:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        user = LabPage(page, base_url=server.base_url, token=server.token, label=label)
        user.workspace = re.sub(r"[^a-z0-9-]+", "-", f"{slug}-{label}".lower())
        made.append((user, server))
        return user

    yield make

    if request.node.stash.get(FAILED, False):
        logs = "\n".join(f"===== {server.base_url}\n{server.log_tail(200)}" for _, server in made)
        save_artifacts(ARTIFACTS / slug, [user for user, _ in made], logs)
    for user, _ in made:
        user.page.context.close()


def test_users_of_two_servers_edit_one_notebook_and_see_each_other(
    servers: tuple[LabServer, LabServer], user_on: NewUser
) -> None:
    first, second = servers
    folder = TestFolder(first.root, "team")
    path = folder.write_notebook("plan.ipynb", ["first = 1", "second = 2"])
    alice, bob = user_on(first, "A"), user_on(second, "B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)
    expected = edit_one_notebook(alice, bob)

    for viewer, other in ((alice, bob), (bob, alice)):
        name = other.identity()["display_name"]
        viewer.expect_collaborator(name)
        # Their entry lists the documents they have open, the one they show marked as running.
        entry = viewer.show_collaborators().locator(".jp-Collaborator", has_text=name)
        entry.locator(".jp-CollaboratorHeader").click()
        running = entry.locator(".jp-CollaboratorFile.jp-mod-running")
        expect(running).to_have_text(path, timeout=SYNC_TIMEOUT * 1000)

    folder.expect_notebook("plan.ipynb", expected)
