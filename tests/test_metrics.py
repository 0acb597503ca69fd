"""Collaboration metrics on jupyter_server's own ``/metrics``: after real traffic (two peers
editing, a save, an outside change, a refused upgrade, a refused frame, a peer that stops
reading) every family is there with the values that traffic makes; the scrape is guarded as
jupyter_server guards it (``authenticate_prometheus``); with ``metrics = False`` no family is.

The test process runs many servers and has one registry: each server counts afresh (the
recorder is made anew as it starts), and the values are compared with a scrape made before.
"""

from __future__ import annotations

import socket
from typing import Any

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from prometheus_client.parser import text_string_to_metric_families
from pycrdt import Doc
from tornado.httpclient import AsyncHTTPClient

from jupyter_ycollab import metrics

from .authorizers import READ_ONLY, HeaderAuthorizer
from .client import wait_until
from .harness import Collab, Variant, append, read_notebook, refusal
from .rawpeer import MiB, connect

PREFIX = "jupyter_ycollab_"
BIG_SOURCE = "x = 1\n" * 12_000  # a notebook of ~72 KiB: the fast path renders it in the child


@pytest.fixture
def authenticate_prometheus() -> bool:
    return True


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], authenticate_prometheus: bool) -> Any:
    jp_server_config["ServerApp"]["authorizer_class"] = HeaderAuthorizer
    jp_server_config["ServerApp"]["authenticate_prometheus"] = authenticate_prometheus
    return jp_server_config


class Scrape:
    """One scrape of ``/metrics``: its families' names and every sample's value."""

    def __init__(self, text: str) -> None:
        self.families: set[str] = set()
        self.samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(text):
            self.families.add(family.name)
            for sample in family.samples:
                self.samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value

    def __call__(self, name: str, **labels: str) -> float:
        """The value of sample ``PREFIX + name`` with these labels (0 when absent)."""
        return self.samples.get((PREFIX + name, tuple(sorted(labels.items()))), 0.0)

    def ours(self) -> set[str]:
        return {name for name in self.families if name.startswith(PREFIX)}


async def get_metrics(collab: Collab, *, authenticated: bool = True) -> tuple[int, str]:
    url = f"http://127.0.0.1:{collab.port}{collab.base_url}/metrics"
    headers = collab.auth_headers if authenticated else {}
    response = await AsyncHTTPClient().fetch(url, headers=headers, raise_error=False)
    return response.code, response.body.decode()


async def scrape(collab: Collab) -> Scrape:
    status, text = await get_metrics(collab)
    assert status == 200, text
    return Scrape(text)


class Delta:
    """What changed between two scrapes."""

    def __init__(self, before: Scrape, after: Scrape) -> None:
        self.before, self.after = before, after

    def __call__(self, name: str, **labels: str) -> float:
        return self.after(name, **labels) - self.before(name, **labels)


async def silent_peer(collab: Collab, session: dict[str, Any]) -> socket.socket:
    """A peer of the session's room that never reads a byte (a small receive buffer)."""
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    path = url.split(str(collab.port), 1)[1]
    return await connect(collab.port, path, collab.auth_headers, rcvbuf=4096)


async def drop_a_slow_reader(collab: Collab) -> None:
    """A text room whose one other peer stops reading while 8 MiB of edits arrive."""
    collab.write_bytes("big.txt", b"start\n")
    writer = await collab.open_text("big.txt")
    silent = await silent_peer(collab, await collab.put_session("big.txt", "text", "file"))
    room = collab.rooms[collab.document_rooms[-1]]
    await wait_until(lambda: len(room.peers) == 2, 5, "the silent peer to join")
    for _ in range(16):
        append(writer.document._ysource, "y" * (MiB // 2))
    await wait_until(lambda: len(room.peers) == 1, 20, "the silent peer to be dropped")
    silent.close()


async def three_peers(collab: Collab) -> tuple[Any, Any, Any]:
    """Two writers and a read-only peer of a big notebook (~72 KiB)."""
    collab.write_notebook("nb.ipynb", [BIG_SOURCE, "b = 2"])
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    session = await collab.put_session("nb.ipynb")
    url = collab.room_url(collab.room_id(session), f"sessionId={session['sessionId']}")
    carol = collab.client(YNotebook(Doc()), url, {**collab.auth_headers, **READ_ONLY})
    await carol.sync()
    return alice, bob, carol


async def five_edits(alice: Any, bob: Any) -> None:
    for _ in range(5):
        append(alice.document.ycells[1]["source"], "+")
    await bob.wait_for(lambda: str(bob.document.ycells[1]["source"]) == "b = 2+++++", 5)


async def refuse_an_upgrade_and_a_frame(collab: Collab, session_url: str) -> None:
    """A peer without credentials (403), and one that sends a text frame (closed with 1003)."""
    assert await refusal(collab.client(YNotebook(Doc()), session_url, {})) == ("http", 403)
    mallory = collab.client(YNotebook(Doc()), session_url)
    await mallory.sync()
    mallory.send("not a y-protocol frame")
    await mallory.wait_closed(5)
    assert mallory.close_code == 1003


def census_is(scrape: Scrape, writers: int, read_only: int, unsaved: int) -> None:
    assert scrape("rooms", kind="notebook") == 1
    assert scrape("peers", role="writer") == writers
    assert scrape("peers", role="read-only") == read_only
    assert scrape("unsaved_rooms") == unsaved
    assert "jupyter_ycollab_peer_backlog_bytes" in scrape.families


def edits_counted(delta: Delta) -> None:
    """Five updates of alice, each applied once and relayed to bob and carol."""
    assert delta("updates_applied_total") == 5
    assert delta("update_apply_seconds_count") == 5
    assert delta("update_apply_seconds_sum") > 0
    assert delta("updates_applied_bytes_total") > 0
    # Also the server's own state changes (``dirty``) go to all three: at least twice five.
    assert delta("updates_relayed_total") >= 10
    assert delta("updates_relayed_bytes_total") >= 2 * delta("updates_applied_bytes_total")


def save_counted(delta: Delta, collab: Collab, variant: Variant) -> None:
    assert delta("saves_total", outcome="written") == 1
    assert delta("saves_total", outcome="unchanged") == delta("saves_total", outcome="failed") == 0
    assert delta("save_seconds_count") == 1
    assert delta("saved_bytes_total") == (collab.root / "nb.ipynb").stat().st_size
    assert delta("save_lag_seconds_count") == 1
    assert delta("save_lag_seconds_sum") > 0
    assert delta("log_commits_total") >= 1  # the SAVING mark, at least
    assert delta("log_fsync_seconds_count") == delta("log_commits_total")
    assert delta("log_written_bytes_total") > 0
    rendered = delta("render_process_jobs_total", job="render", outcome="ok")
    assert rendered == (1 if variant.fast_path else 0)  # the notebook is over 64 KiB
    assert delta("render_process_seconds_count") >= rendered


async def change_the_file_outside(collab: Collab) -> None:
    path = collab.root / "nb.ipynb"
    notebook = read_notebook(path)
    notebook.cells.append(nbformat.v4.new_code_cell("added = 'outside'"))
    nbformat.write(notebook, path)


@pytest.mark.ycollab(save_delay=30, max_save_delay=60, max_peer_buffer=MiB, log_max_bytes=MiB)
async def test_every_family_counts_what_real_traffic_did(collab: Collab, variant: Variant) -> None:
    alice, bob, _ = await three_peers(collab)
    start = await scrape(collab)
    census_is(start, writers=2, read_only=1, unsaved=0)
    await five_edits(alice, bob)
    edited = await scrape(collab)
    census_is(edited, writers=2, read_only=1, unsaved=1)
    edits_counted(Delta(start, edited))
    if variant.fast_path:  # started by the first edit: a save before it is up uses a thread
        renderer = collab.extension.manager.files.renderer
        await wait_until(lambda: renderer.ready, 30, "the render process to start")

    assert (await alice.save(1))["status"] == "success"
    saved = await scrape(collab)
    save_counted(Delta(edited, saved), collab, variant)

    await change_the_file_outside(collab)
    await wait_until(lambda: len(bob.document.ycells) == 3, 10, "the outside change merged")
    merged = Delta(saved, await scrape(collab))
    assert merged("outside_changes_merged_total") == 1
    assert merged("merge_conflicts_total") == 0
    assert merged("log_compactions_total") >= 1  # the log starts afresh from the merged file

    await refuse_an_upgrade_and_a_frame(collab, alice.url)
    await drop_a_slow_reader(collab)
    end = Delta(saved, await scrape(collab))
    assert end("refusals_total", status="403") == 1
    assert end("closes_total", code="1003") == 1
    assert end("closes_total", code="1013") == end("slow_peers_dropped_total") == 1
    assert end.after("rooms", kind="file") == 1


async def test_the_cluster_families_are_there_without_a_cluster(collab: Collab) -> None:
    found = await scrape(collab)
    for name in ("redis_errors", "entries_published", "entries_applied"):
        assert found(f"cluster_{name}_total") == 0
    assert found("cluster_delivery_seconds_count") == 0
    for change in ("acquired", "lost", "released"):
        assert found("cluster_lease_changes_total", change=change) == 0


@pytest.mark.parametrize("authenticate_prometheus", [True, False])
async def test_an_unauthenticated_scrape_gets_what_jupyter_server_gives(
    collab: Collab, authenticate_prometheus: bool
) -> None:
    status, text = await get_metrics(collab, authenticated=False)
    if authenticate_prometheus:
        assert status == 403
    else:
        assert status == 200
        assert "jupyter_ycollab_rooms" in Scrape(text).ours()


@pytest.mark.ycollab(metrics=False)
async def test_with_metrics_off_no_family_is_there_and_nothing_is_counted(
    collab: Collab,
) -> None:
    alice, bob, _ = await three_peers(collab)
    await five_edits(alice, bob)
    found = await scrape(collab)
    assert found.ours() == set()
    assert "http_request_duration_seconds" in found.families  # jupyter_server's own
    assert metrics.current is metrics.OFF
    off = metrics.OFF
    assert (off.updates_applied, off.updates_relayed, off.log_commits) == (0, 0, 0)


async def test_open_rooms_are_counted_by_kind(collab: Collab) -> None:
    """Documents by their file type; the rooms no file backs by what they are."""
    collab.write_notebook("nb.ipynb", ["a"])
    collab.write_bytes("notes.txt", b"x")
    await collab.open_notebook("nb.ipynb")
    await collab.open_text("notes.txt")
    (notebook_room,) = (room for room in collab.document_rooms if room.startswith("json:"))
    assert (await collab.request("PUT", f"fork/{notebook_room}", body="{}"))[0] == 201
    query = "format=json&&type=notebook"
    assert (await collab.request("GET", "timeline/nb.ipynb", query))[0] == 200
    await collab.client(YNotebook(Doc()), collab.room_url("JupyterLab:globalAwareness")).connect()

    async def counted() -> bool:
        kinds = ("notebook", "file", "fork", "timeline", "awareness")
        current = await scrape(collab)
        return [current("rooms", kind=kind) for kind in kinds] == [1, 1, 1, 1, 1]

    await wait_until(counted, 5, "one room of each kind")
