"""Scenario: two JupyterLab servers share one folder through a real redis-server (a hub with one
server per user, or replicas behind a load balancer), and their users co-edit one notebook.

Each user's browser talks to their own server only. They see each other's typing, each lists the
other in the collaborators panel with the notebook they are on (the global awareness room,
shared through Redis), and the file holds both users' edits once.
"""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from conftest import ARTIFACTS, FAILED, NewUser, save_artifacts
from conftest import test_slug as slug_of
from documents import TestFolder
from lab_server import REFERENCE, LabServer, free_port
from network import Relay, type_while_away
from pages import SYNC_TIMEOUT, LabPage, edit_one_notebook, expect_each_shows, open_for_each
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
    """Two servers over one folder and one Redis, each with its own home (file ids, logs), and
    one token, as replicas behind a load balancer accept the same logins."""
    root = tmp_path_factory.mktemp("shared")
    options = [f"--YCollabApp.redis_url={redis_url}", "--YCollabApp.cluster_lease_ttl=2"]
    token = secrets.token_hex(16)
    pair = tuple(
        LabServer(
            home=tmp_path_factory.mktemp(f"lab-{n}"), options=options, shared_root=root, token=token
        )
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
    """``user_on(server, "A")``: a user (a browser context) whose JupyterLab is on ``server``;
    ``user_on(server, "A", via=relay)`` reaches it through a relay (a load balancer)."""
    slug = slug_of(request.node)
    made: list[tuple[LabPage, LabServer]] = []

    def make(server: LabServer, label: str, *, via: Relay | None = None) -> LabPage:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        base_url = server.base_url if via is None else via.base_url
        user = LabPage(page, base_url=base_url, token=server.token, label=label)
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


@pytest.fixture
def balancer(servers: tuple[LabServer, LabServer]) -> Iterator[Relay]:
    """A load balancer in front of the first server, which is started again afterwards if the
    test killed it."""
    first = servers[0]
    relay = Relay(first.port)
    yield relay
    relay.stop()
    if first.process is not None and first.process.poll() is not None:
        first.restart()


def test_a_server_dies_and_its_users_page_goes_on_through_the_load_balancer_losing_nothing(
    servers: tuple[LabServer, LabServer], user_on: NewUser, balancer: Relay
) -> None:
    """A's page reaches the first server through a load balancer (a relay), B's is on the
    second. The first server is killed (SIGKILL: nothing flushed) right after A typed, and the
    balancer sends A's reconnection to the second. A also types while it has no server at all."""
    first, second = servers
    folder = TestFolder(first.root, "balanced")
    path = folder.write_notebook("plan.ipynb", ["first = 1", "second = 2"])
    alice, bob = user_on(first, "A", via=balancer), user_on(second, "B")
    open_for_each(path, alice, bob)
    alice.append_to_cell(0, "  # A")
    folder.expect_notebook("plan.ipynb", ["first = 1  # A", "second = 2"])

    alice.append_to_cell(1, "  # A, as it died")
    assert first.process is not None
    first.process.send_signal(signal.SIGKILL)
    alice.expect_connected(False)
    alice.append_to_cell(0, ", with no server")
    balancer.retarget(second.port)

    alice.expect_connected(True)
    bob.append_to_cell(1, " # B")
    expected = ["first = 1  # A, with no server", "second = 2  # A, as it died # B"]
    expect_each_shows(expected, alice, bob)
    folder.expect_notebook("plan.ipynb", expected)


def test_a_page_back_after_its_server_closed_the_room_joins_what_the_other_server_went_on_with(
    servers: tuple[LabServer, LabServer], user_on: NewUser, balancer: Relay
) -> None:
    """A's laptop sleeps (its link to the first server is cut) while B, on the second, goes on
    and saves; the first server closes its copy of the room. Back, A's page reopens it there,
    joined to the cluster's history: A's edit made away and B's, once each, on both pages and
    on disk."""
    first, second = servers
    folder = TestFolder(first.root, "slept")
    path = folder.write_notebook("plan.ipynb", ["first = 1", "second = 2"])
    alice, bob = user_on(first, "A", via=balancer), user_on(second, "B")
    open_for_each(path, alice, bob)
    bob.expect_cells(["first = 1", "second = 2"])

    type_while_away(balancer, alice, 0, "  # A, away")
    bob.append_to_cell(1, "  # B")
    bob.add_cell_below(1, "third = 3")
    folder.expect_notebook("plan.ipynb", ["first = 1", "second = 2  # B", "third = 3"])
    alice.wait_until(
        lambda: path not in first.open_documents(), what="the first server to close it", timeout=60
    )

    balancer.restore()
    alice.expect_connected(True)
    expected = ["first = 1  # A, away", "second = 2  # B", "third = 3"]
    expect_each_shows(expected, alice, bob)
    folder.expect_notebook("plan.ipynb", expected)
