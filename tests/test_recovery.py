"""Crash safety through a real `jupyter server` process: SIGKILL at random points while two
clients type, restarts, history resets, files changed while the server was down, log size."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Text

from jupyter_ycollab.history.records import parse_log

from .client import CollabClient, wait_until
from .harness import Collab, Variant, append, cell_sources, make_notebook, sources_on_disk
from .process import JupyterProcess
from .servers import (
    ServerSeries,
    assert_stays,
    disconnected,
    holds,
    log_name,
    notebook_peer,
    successor,
    text_peer,
)
from .test_cell_ids import FLAWS, write_flawed

# Per file path (the test runs under each): 20 random kills a run, a new seed each run.
KILLS = 10
COMMIT_DELAY = 0.1
# An edit the other client saw relayed this long before the kill must survive it: the group
# commit delay plus a margin for scheduling.
DURABLE_AFTER = COMMIT_DELAY + 0.1
TYPING_INTERVAL = 0.01
TOKEN = re.compile(r"\b[ab]\d+\b")


@pytest.fixture
async def series_factory(
    tmp_path: Path, variant: Variant
) -> AsyncIterator[Callable[..., ServerSeries]]:
    """Server series of the test's variant (conftest.py): its way to the file, its manager."""
    made: list[ServerSeries] = []
    assert variant.manager is None, "a subprocess server imports no class from the tests"

    def make(**ycollab: Any) -> ServerSeries:
        if not variant.fast_path:
            ycollab.setdefault("fast_path", False)
        series = ServerSeries(tmp_path / "home", tmp_path / "root", ycollab)
        series.extensions = dict.fromkeys(variant.extensions, True)  # jupytext: off unless asked
        made.append(series)
        return series

    yield make
    for series in made:
        series.kill_all()


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


@dataclass
class Typist:
    """One client typing numbered tokens at the end of its own cell."""

    client: CollabClient[YNotebook]
    cell: int
    letter: str
    written: list[str] = field(default_factory=list)

    def type_one(self) -> None:
        token = f"{self.letter}{len(self.written)}"
        self.written.append(token)
        append(self.client.document.ycells[self.cell]["source"], f" {token}")

    def tokens_in(self, client: CollabClient[YNotebook]) -> list[str]:
        """This typist's tokens as ``client``'s copy of the notebook holds them."""
        return tokens(str(client.document.ycells[self.cell]["source"]))


@dataclass
class Witness:
    """Since when the RUNNING server holds each token: from the moment the other client saw it
    relayed, or a fresh client got it from the server. A new server starts with nothing: an edit
    its predecessor relayed just before dying may be lost with it (it had not been committed yet),
    to be sent again by its author on reconnect."""

    held_since: dict[str, float] = field(default_factory=dict)

    def new_server(self) -> None:
        self.held_since = {}

    def look(self, typists: list[Typist]) -> None:
        """Note the tokens the clients received from the server since the last look."""
        now = time.monotonic()
        for typist in typists:
            for reader in typists:
                if reader is not typist:
                    for token in typist.tokens_in(reader.client):
                        self.held_since.setdefault(token, now)

    def held(self, tokens: list[str]) -> None:
        now = time.monotonic()
        for token in tokens:
            self.held_since.setdefault(token, now)

    def held_before(self, moment: float) -> set[str]:
        return {token for token, since in self.held_since.items() if since < moment}


async def type_until_cancelled(typists: list[Typist], witness: Witness) -> None:
    while True:
        for typist in typists:
            typist.type_one()
        witness.look(typists)
        await asyncio.sleep(TYPING_INTERVAL)  # the typing rate, not a wait for anything


def duplicates(items: list[str]) -> list[str]:
    return [item for item, count in Counter(items).items() if count > 1]


def disk_tokens(path: Path) -> list[str] | None:
    sources = sources_on_disk(path)
    return None if sources is None else [t for source in sources for t in tokens(source)]


@dataclass
class CrashRun:
    """Two typists on one notebook, a server series to kill under them, and what it held."""

    series: ServerSeries
    session: dict[str, Any]
    typists: list[Typist]
    witness: Witness = field(default_factory=Witness)
    durable: set[str] = field(default_factory=set)  # found in the file after a restart

    @property
    def path(self) -> Path:
        return self.series.root / "nb.ipynb"

    async def type_then_kill(self, relays: int, context: str) -> set[str]:
        """Type until ``relays`` more tokens reached the other client, SIGKILL the server in the
        middle of the typing; return the tokens that must survive: those it held for longer
        than the commit delay (and margin) before the kill, and those durable before."""
        goal = len(self.witness.held_since) + relays
        typing = asyncio.ensure_future(type_until_cancelled(self.typists, self.witness))
        try:
            await wait_until(lambda: len(self.witness.held_since) >= goal, 10, f"relays {context}")
            killed_at = await self.series.sigkill()
        finally:
            typing.cancel()
            await asyncio.gather(typing, return_exceptions=True)
        return self.durable | self.witness.held_before(killed_at - DURABLE_AFTER)

    async def restart(self, context: str) -> JupyterProcess:
        server = await self.series.start()
        self.witness.new_server()
        again = await server.put_session("nb.ipynb", "json", "notebook")
        assert again["sessionId"] == self.session["sessionId"], f"lineage changed ({context})"
        assert again["fileId"] == self.session["fileId"]
        return server

    async def check_file_holds(self, required: set[str], context: str) -> None:
        """The recovered room saves every edit that had to survive to the file, each once."""

        def file_has_them() -> bool:
            on_disk = disk_tokens(self.path)
            return on_disk is not None and required <= set(on_disk)

        try:
            await wait_until(file_has_them, 10, "the recovered edits in the file")
        except AssertionError:
            lost = sorted(required - set(disk_tokens(self.path) or []))
            raise AssertionError(
                f"{len(lost)} edits the server held more than {DURABLE_AFTER} s before the kill "
                f"are not in the file after the restart ({context}): {lost[:10]}"
            ) from None
        on_disk = disk_tokens(self.path) or []
        assert not duplicates(on_disk), f"duplicated in the file ({context}): {duplicates(on_disk)}"
        self.durable = set(on_disk)  # recovered into the new log too: must survive from now on

    async def reconnect(self, server: JupyterProcess, context: str) -> None:
        """The clients come back with their documents and their old session id; a fresh client
        then proves the server holds every token (the typists' re-sent ones too)."""
        for typist in self.typists:
            await disconnected(typist.client)
            typist.client = successor(typist.client, server.room_url(self.session))
            await typist.client.sync()
            assert typist.client.close_code is None, (context, typist.client.close_reason)
        await converged(self.typists, context)
        fresh = notebook_peer(server, self.session)
        await fresh.sync()
        everything = [[*typist.written] for typist in self.typists]

        def holds_everything() -> bool:
            return [typist.tokens_in(fresh) for typist in self.typists] == everything

        await wait_until(holds_everything, 10, f"the server to hold every token ({context})")
        assert len(fresh.document.ycells) == 2, f"cells duplicated on the server ({context})"
        self.witness.held([token for tokens in everything for token in tokens])
        await fresh.close()


@pytest.mark.timeout(240)
@pytest.mark.alone
async def test_edits_received_before_a_sigkill_survive_it_and_reconnects_duplicate_nothing(
    series_factory: Callable[..., ServerSeries],
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    series = series_factory(
        log_commit_delay=COMMIT_DELAY,
        save_delay=0.1,
        max_save_delay=0.3,  # saves while typing: some kills land in the middle of one
        poll_interval=0.5,
        cleanup_delay=30.0,
    )
    nbformat.write(make_notebook(["#A", "#B"]), series.root / "nb.ipynb")
    server = await series.start()
    session = await server.put_session("nb.ipynb", "json", "notebook")
    clients = [notebook_peer(server, session), notebook_peer(server, session)]
    for client in clients:
        await client.sync()
    run = CrashRun(series, session, [Typist(clients[0], 0, "a"), Typist(clients[1], 1, "b")])

    for kill in range(KILLS):
        context = f"seed {seed}, kill {kill + 1}"
        required = await run.type_then_kill(rng.randint(2, 160), context)
        server = await run.restart(context)
        await run.check_file_holds(required, context)
        await run.reconnect(server, context)

    for typist in run.typists:
        await typist.client.close()
    fresh = notebook_peer(server, session)
    await fresh.sync()
    assert len(fresh.document.ycells) == 2
    for typist in run.typists:
        assert typist.tokens_in(fresh) == typist.written
    expected = cell_sources(fresh.document)
    await wait_until(lambda: sources_on_disk(run.path) == expected, 10, "the final save")
    await fresh.close()
    await series.stop()


async def converged(typists: list[Typist], context: str) -> None:
    """Both clients hold every token exactly once, in the order typed, in two cells."""

    def everyone_has_everything() -> bool:
        return all(
            typist.tokens_in(reader.client) == typist.written
            for typist in typists
            for reader in typists
        )

    try:
        await wait_until(everyone_has_everything, 10, "the clients to converge")
    except AssertionError:
        report = {
            f"{typist.letter} at {reader.letter}": (
                len(typist.written),
                len(typist.tokens_in(reader.client)),
                duplicates(typist.tokens_in(reader.client))[:5],
            )
            for typist in typists
            for reader in typists
        }
        raise AssertionError(f"no convergence ({context}): (typed, held, dups) {report}") from None
    for reader in typists:
        assert len(reader.client.document.ycells) == 2, f"cells duplicated ({context})"


def log_file(series: ServerSeries, session: dict[str, Any]) -> Path:
    return series.log_dir / log_name(session)


async def test_a_client_of_a_reset_history_is_closed_with_1003_and_changes_nothing(
    series_factory: Callable[..., ServerSeries],
) -> None:
    series = series_factory(save_delay=0.1, max_save_delay=0.5)
    path = series.root / "nb.ipynb"
    nbformat.write(make_notebook(["x = 1"]), path)
    server = await series.start()
    session = await server.put_session("nb.ipynb", "json", "notebook")
    old = notebook_peer(server, session)
    await old.sync()
    append(old.document.ycells[0]["source"], "0")
    await wait_until(lambda: sources_on_disk(path) == ["x = 10"], 10, "the save")
    await series.stop()
    await disconnected(old)
    assert log_file(series, session).exists(), f"no log in {series.log_dir}"

    # The history is reset: its log is gone and the file changed meanwhile.
    shutil.rmtree(series.log_dir)
    nbformat.write(make_notebook(["y = 2"]), path)
    data = path.read_bytes()
    append(old.document.ycells[0]["source"], "0")  # an edit made offline, in the old lineage
    server = await series.start()
    current = await server.put_session("nb.ipynb", "json", "notebook")
    assert current["sessionId"] != session["sessionId"]
    watcher = notebook_peer(server, current)
    await watcher.sync()

    stale = successor(old, server.room_url(session))
    await stale.connect()
    await wait_until(lambda: not stale.connected, 10, "the server to close the stale client")

    assert stale.close_code == 1003, (stale.close_code, stale.close_reason)
    reason = json.loads(stale.close_reason or "{}")
    assert reason.get("reason") == "unknown_session", reason
    assert reason.get("reloadable") is True, reason
    assert "sessionId" in reason, reason
    assert not stale.synced
    await assert_stays(
        lambda: cell_sources(watcher.document) == ["y = 2"] and path.read_bytes() == data,
        1.0,
        "the stale client's state reached the document or the file",
    )
    fresh = notebook_peer(server, current)
    await fresh.sync()
    assert cell_sources(fresh.document) == ["y = 2"]
    await fresh.close()
    await watcher.close()
    await series.stop()


async def test_a_history_rebuilt_from_an_unchanged_file_keeps_its_lineage(
    series_factory: Callable[..., ServerSeries],
) -> None:
    series = series_factory(save_delay=0.1, max_save_delay=0.5)
    notebook = make_notebook(["x = 1"])
    # Nested values, as real notebooks have: pycrdt encodes them in a per-process order.
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    notebook.metadata = {"kernelspec": {**kernelspec, **{key: key for key in "abcdef"}}}
    notebook.cells[0].metadata = {"extension": {key: key for key in "ghijklmn"}}
    nbformat.write(notebook, series.root / "nb.ipynb")
    server = await series.start()
    session = await server.put_session("nb.ipynb", "json", "notebook")
    client = notebook_peer(server, session)
    await client.sync()
    await series.stop()
    await disconnected(client)
    shutil.rmtree(series.log_dir, ignore_errors=True)  # lost, but the file never changed

    server = await series.start()
    again = await server.put_session("nb.ipynb", "json", "notebook")
    assert again["sessionId"] == session["sessionId"]
    client = successor(client, server.room_url(session))
    await client.sync()
    assert client.close_code is None
    assert cell_sources(client.document) == ["x = 1"]
    await client.close()
    await series.stop()


@pytest.mark.also_jupytext
async def test_unsaved_edits_and_a_change_made_while_the_server_was_down_are_both_kept(
    series_factory: Callable[..., ServerSeries],
) -> None:
    series = series_factory(save_delay=60.0, max_save_delay=120.0, log_commit_delay=COMMIT_DELAY)
    notebook = series.root / "nb.ipynb"
    nbformat.write(make_notebook(["a = 1", "b = 2", "c = 3"]), notebook)
    text = series.root / "t.txt"
    text.write_text("first\nsecond\nthird\n")
    server = await series.start()
    nb_session = await server.put_session("nb.ipynb", "json", "notebook")
    text_session = await server.put_session("t.txt", "text", "file")
    nb_writer = notebook_peer(server, nb_session)
    text_writer = text_peer(server, text_session)
    await nb_writer.sync()
    await text_writer.sync()
    append(nb_writer.document.ycells[0]["source"], "  # ours")
    text_writer.ydoc.get("source", type=Text).insert(0, "ours: ")
    await wait_until(lambda: holds(log_file(series, nb_session), b"# ours"), 10, "nb log")
    await wait_until(lambda: holds(log_file(series, text_session), b"ours: "), 10, "text log")
    await series.sigkill()
    assert sources_on_disk(notebook) == ["a = 1", "b = 2", "c = 3"], "saved: save_delay ignored"

    on_disk = make_notebook(["a = 1", "b = 2", "c = 30", "d = 4"])
    on_disk.cells[3]["id"] = "cell-new"
    nbformat.write(on_disk, notebook)
    text.write_text("first\nsecond\nthird\nfourth\n")
    series.ycollab.update(save_delay=0.1, max_save_delay=0.5)
    server = await series.start()
    nb_again = await server.put_session("nb.ipynb", "json", "notebook")
    text_again = await server.put_session("t.txt", "text", "file")
    assert nb_again["sessionId"] == nb_session["sessionId"]
    assert text_again["sessionId"] == text_session["sessionId"]

    merged_cells = ["a = 1  # ours", "b = 2", "c = 30", "d = 4"]
    merged_text = "ours: first\nsecond\nthird\nfourth\n"
    nb_reader = notebook_peer(server, nb_session)
    text_reader = text_peer(server, text_session)
    await nb_reader.sync()
    await text_reader.sync()
    assert cell_sources(nb_reader.document) == merged_cells
    assert text_reader.document.get() == merged_text
    await wait_until(lambda: sources_on_disk(notebook) == merged_cells, 10, "the notebook save")
    await wait_until(lambda: text.read_text() == merged_text, 10, "the text save")

    nb_writer = successor(nb_writer, server.room_url(nb_session))
    text_writer = successor(text_writer, server.room_url(text_session))
    await nb_writer.sync()
    await text_writer.sync()
    assert cell_sources(nb_writer.document) == merged_cells
    assert text_writer.document.get() == merged_text
    await assert_stays(
        lambda: (
            cell_sources(nb_reader.document) == merged_cells
            and text_reader.document.get() == merged_text
        ),
        0.5,
        "the reconnecting writers duplicated their edits",
    )
    for client in (nb_writer, text_writer, nb_reader, text_reader):
        await client.close()
    await series.stop()


@pytest.mark.also_jupytext
async def test_a_kill_before_a_saves_record_is_written_keeps_that_save_as_it_is(
    series_factory: Callable[..., ServerSeries],
) -> None:
    """A save's SAVED record is unhurried: it waits to share the next edit's fsync. A kill
    before it is written leaves the save's SAVING record alone in the log; the restarted room
    finds that save's content in the file, and neither merges it nor writes it again."""
    series = series_factory(save_delay=0.1, max_save_delay=0.5, log_commit_delay=COMMIT_DELAY)
    notebook = series.root / "nb.ipynb"
    nbformat.write(make_notebook(["a = 1"]), notebook)
    server = await series.start()
    session = await server.put_session("nb.ipynb", "json", "notebook")
    writer = notebook_peer(server, session)
    await writer.sync()
    append(writer.document.ycells[0]["source"], "  # saved")
    await wait_until(lambda: sources_on_disk(notebook) == ["a = 1  # saved"], 10, "the save")

    def saved_not_recorded() -> bool:
        return parse_log(log_file(series, session).read_bytes()).saving_seq is not None

    await assert_stays(saved_not_recorded, 4 * COMMIT_DELAY, "the SAVED record was hurried")
    await series.sigkill()
    written = notebook.stat().st_mtime_ns

    server = await series.start()
    writer = successor(writer, server.room_url(session))
    await writer.sync()
    assert writer.close_code is None
    assert cell_sources(writer.document) == ["a = 1  # saved"]
    await assert_stays(
        lambda: notebook.stat().st_mtime_ns == written and len(writer.document.ycells) == 1,
        0.5,
        "the save found after the kill was merged or written again",
    )
    await writer.close()
    await series.stop()


LOG_MAX_BYTES = 512 * 1024
UPDATES = 100_000


class SizeSampler:
    """The largest size a file had, sampled every few milliseconds in the background."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.largest = 0
        self.samples = 0
        self.shrinks = 0  # compactions seen: the size went down
        self._last = 0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(0.005)

    def sample(self) -> None:
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            return
        self.samples += 1
        self.shrinks += size < self._last
        self._last = size
        self.largest = max(self.largest, size)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.sample()


@pytest.mark.fast_path_only(
    reason="a stress test of the update log, which is the same on both paths: one run saves time"
)
@pytest.mark.timeout(120)
@pytest.mark.alone
async def test_the_log_stays_bounded_over_100000_updates_and_compaction_keeps_the_lineage(
    series_factory: Callable[..., ServerSeries],
) -> None:
    series = series_factory(
        log_max_bytes=LOG_MAX_BYTES, save_delay=60.0, max_save_delay=120.0, cleanup_delay=60.0
    )
    path = series.root / "t.txt"
    path.write_text("start\n")
    server = await series.start()
    session = await server.put_session("t.txt", "text", "file")
    client = text_peer(server, session)
    await client.sync()
    log = log_file(series, session)
    await wait_until(log.exists, 10, "the log to be created")
    sampler = SizeSampler(log)
    source = client.ydoc.get("source", type=Text)

    for index in range(UPDATES // 2):  # each insert and each delete: its own transaction
        source.insert(len(source), "x")
        del source[len(source) - 1]
        if index % 250 == 0:
            sampler.sample()
            await asyncio.sleep(0)  # let the socket drain
    source.insert(len(source), "done")
    assert (await client.save(1, timeout=60))["status"] == "success"
    assert path.read_text() == "start\ndone"
    await wait_until(lambda: holds(log, b"done"), 10, "the last edit in the log")
    await sampler.stop()

    state = len(client.ydoc.get_update())
    assert state < LOG_MAX_BYTES // 8, f"the document's state ({state} B) sets the bound"
    assert sampler.samples >= UPDATES // 500
    # Compacted: the updates after the checkpoint were merged. Whether the file is seen
    # shrinking depends on timing: where updates come faster than commits, the log is
    # rewritten before it ever grows.
    kept = len(parse_log(log.read_bytes()).updates)
    assert kept < UPDATES, f"never compacted: {kept} updates kept of {UPDATES + 1}"

    await series.sigkill()
    server = await series.start()
    again = await server.put_session("t.txt", "text", "file")
    assert again["sessionId"] == session["sessionId"], "compaction changed the lineage"
    client = successor(client, server.room_url(session))
    await client.sync()
    assert client.close_code is None
    reader = text_peer(server, session)
    await reader.sync()
    assert reader.document.get() == "start\ndone"
    assert client.document.get() == "start\ndone"
    assert log.stat().st_size <= LOG_MAX_BYTES
    await reader.close()
    await client.close()
    await series.stop()
    over = sampler.largest - LOG_MAX_BYTES
    assert over <= 0, (
        f"the log reached {sampler.largest} B: {over} B over its bound of {LOG_MAX_BYTES} B "
        f"(document state {state} B, {sampler.shrinks} compactions seen)"
    )


async def test_a_kill_right_after_an_outside_change_was_merged_keeps_the_unsaved_edits(
    series_factory: Callable[..., ServerSeries],
) -> None:
    """A merge moved the log aside at once and queued the new one for the next commit: a kill
    in between left no log at all, so the next start loaded the file alone (the unsaved edit
    lived only in the ``.before`` log, and the clients' session was another lineage)."""
    series = series_factory(
        save_delay=60.0, max_save_delay=120.0, poll_interval=0.2, log_commit_delay=3.0
    )
    text = series.root / "t.txt"
    text.write_text("one\n")
    server = await series.start()
    session = await server.put_session("t.txt", "text", "file")
    writer = text_peer(server, session)
    await writer.sync()
    writer.ydoc.get("source", type=Text).insert(0, "ours ")
    await wait_until(lambda: holds(log_file(series, session), b"ours "), 10, "the edit logged")
    text.write_text("one\ntwo\n")
    await writer.wait_for(lambda: writer.document.get() == "ours one\ntwo\n", 10, "the merge")
    await series.sigkill()  # well within the commit delay of the merge's new log
    assert text.read_text() == "one\ntwo\n", "saved: save_delay ignored"

    server = await series.start()
    again = await server.put_session("t.txt", "text", "file")
    reader = text_peer(server, again)
    await reader.sync()
    assert reader.document.get() == "ours one\ntwo\n"
    assert again["sessionId"] == session["sessionId"]
    await reader.close()
    await series.stop()


async def typed_on_and_compacted(room: Any) -> None:
    """ "Y" typed after the "X" being saved, then the log compacted (as typing past
    ``log_max_bytes`` does), durably."""
    room.doc.get("source", type=Text).insert(4, "Y")
    room.document.history.compact()
    await room.document.history._log.flush()


async def saved_then_crashed(
    collab: Collab, client: CollabClient[Any], path: Path, at_the_write: list[bytes]
) -> str:
    """Type "X" and save it (the test's hooks record the log and the file as the write left
    them), then play a kill at that moment back: the room closed, the log and the file put
    back as they were, the room opened again. What the reopened room holds."""
    (room_id,) = collab.document_rooms
    history = collab.rooms[room_id].document.history
    client.ydoc.get("source", type=Text).insert(3, "X")
    await wait_until(lambda: holds(history.path, b"X"), 10, "the edit logged")
    assert (await client.save(1))["status"] == "success"
    await client.close()
    await collab.room_closed(room_id)
    history.path.write_bytes(at_the_write[0])
    path.write_bytes(at_the_write[1])
    again = await collab.open_text("t.txt")
    return str(again.document.get())


@pytest.mark.ycollab(save_delay=60.0, max_save_delay=120.0, cleanup_delay=0.3)
async def test_a_log_compacted_while_a_save_renders_still_tells_recovery_what_the_save_wrote(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log compacted while a save rendered (typing past ``log_max_bytes``): its SAVING
    mark named updates of the old log, so none was written, and a crash right after the write
    left a log that took the file for an outside change: our own edit merged in again ("abcX"
    saved, "abcXY" typed meanwhile: "abcXXY"). The crash is played back: the log and the file
    as the write left them, put back once the room closed, then the room opened again."""
    path = collab.write_bytes("t.txt", b"abc\n")
    client = await collab.open_text("t.txt")
    (room_id,) = collab.document_rooms
    room = collab.rooms[room_id]
    history = room.document.history
    files = collab.extension.manager.files
    render, write = files.render, files.write_rendered
    at_the_write: list[bytes] = []
    renders: list[Any] = []

    async def typed_and_compacted_while_rendering(job: Any) -> Any:
        renders.append(job)
        if len(renders) == 1:
            await typed_on_and_compacted(room)
        return await render(job)

    async def crash_point(*args: Any) -> Any:
        written = await write(*args)
        at_the_write.append(history.path.read_bytes())  # what a kill now leaves
        at_the_write.append(path.read_bytes())
        return written

    monkeypatch.setattr(files, "render", typed_and_compacted_while_rendering)
    monkeypatch.setattr(files, "write_rendered", crash_point)
    text = await saved_then_crashed(collab, client, path, at_the_write)
    assert text == "abcXY\n"


@pytest.mark.ycollab(save_delay=60.0, max_save_delay=120.0, cleanup_delay=0.3)
async def test_a_log_compacted_while_a_save_writes_still_tells_recovery_what_the_save_wrote(
    collab: Collab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sibling of the test above, one step later: compacted while the save wrote (its
    SAVING mark already durable), the new log holds no SAVING mark, and a crash before the
    save recorded itself left the file to be merged in as an outside change."""
    path = collab.write_bytes("t.txt", b"abc\n")
    client = await collab.open_text("t.txt")
    (room_id,) = collab.document_rooms
    room = collab.rooms[room_id]
    history = room.document.history
    files = collab.extension.manager.files
    write = files.write_rendered
    at_the_write: list[bytes] = []

    async def compacted_while_writing(*args: Any) -> Any:
        if at_the_write:
            return await write(*args)
        await typed_on_and_compacted(room)
        written = await write(*args)
        at_the_write.extend([history.path.read_bytes(), path.read_bytes()])  # a kill now
        return written

    monkeypatch.setattr(files, "write_rendered", compacted_while_writing)
    text = await saved_then_crashed(collab, client, path, at_the_write)
    assert text == "abcXY\n"


@pytest.mark.parametrize("flaw", FLAWS.values(), ids=FLAWS.keys())
async def test_a_notebook_whose_file_repeats_or_lacks_cell_ids_recovers_with_no_cell_twice(
    series_factory: Callable[..., ServerSeries], flaw: Callable[..., None]
) -> None:
    """Unsaved edits survive a kill, and the file changed meanwhile is merged into them: read
    again, the file's flawed cells got new ids (nbformat's reader), and are still the cells of
    the recovered room, not new ones beside them."""
    series = series_factory(save_delay=60.0, max_save_delay=120.0, log_commit_delay=COMMIT_DELAY)
    notebook = series.root / "flawed.ipynb"
    sources = ["total = sum(range(10))", "mean = total / 10", "print(mean)"]
    write_flawed(notebook, sources, flaw)
    server = await series.start()
    session = await server.put_session("flawed.ipynb", "json", "notebook")
    writer = notebook_peer(server, session)
    await writer.sync()
    append(writer.document.ycells[2]["source"], "  # ours")
    await wait_until(lambda: holds(log_file(series, session), b"# ours"), 10, "the log")
    await series.sigkill()
    write_flawed(notebook, ["total = sum(range(100))", *sources[1:]], flaw)

    series.ycollab.update(save_delay=0.1, max_save_delay=0.5)
    server = await series.start()
    assert (await server.put_session("flawed.ipynb", "json", "notebook")) == session
    reader = notebook_peer(server, session)
    await reader.sync()
    recovered = ["total = sum(range(100))", "mean = total / 10", "print(mean)  # ours"]
    assert cell_sources(reader.document) == recovered
    await wait_until(lambda: sources_on_disk(notebook) == recovered, 10, "the save")
    writer = successor(writer, server.room_url(session))
    await writer.sync()
    await assert_stays(
        lambda: cell_sources(reader.document) == recovered, 0.5, "the writer duplicated cells"
    )
    for client in (writer, reader):
        await client.close()
    await series.stop()
