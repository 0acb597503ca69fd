"""The package's size rules, checked rather than kept by hand: no module over 250 lines, no
function over 40 (its docstring aside), and each part of the package within its line budget.

The budgets are ceilings on ``wc -l``: a part only shrinks, or the change that grows it says
why by raising its number here. They are per part, not one figure for the package, because the
parts grew for different reasons: the core is the single-server product, ``cluster/`` the
rooms shared through Redis, and the metrics with the status view its observability (the
CHANGELOG says when each came).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jupyter_ycollab

PACKAGE = Path(jupyter_ycollab.__file__).parent
MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 40

#: Modules that serve only the status view (``GET /api/collaboration/status`` and its CLI).
STATUS = ("rooms/status.py", "web/status.py", "statuscli.py")
#: Line ceilings: the part a module belongs to (``part_of``) and its budget. The core's was
#: 8,800 when this test came; 13 fixes of lost or doubled edits found the same day (CHANGELOG,
#: "Fixed"; three of them the cluster's, in the core's document/) took it to 8,857. +22: the
#: server's ``state`` values a peer writes are put back (document.py ``keep_server_state``). +8:
#: a stopping server opens no room (errors.py ``ServerStopping``, api.py says so). Carrying edits
#: into another history after Redis came back empty (cluster/reconcile.py; in the core:
#: merge/threeway.py ``carried_over``, rooms/closing.py): +85, 8,985 in all; the cluster from
#: 1,400 to 1,504 (with the outage's hold of updates and the publisher's new connection). +6:
#: only the lease's holder writes the state (store.py's scripts check its value, not its fence
#: alone), and a room is brought level by one loop at a time (reconcile.py). +11: tasks that
#: redis-py's connect kept from being cancelled still end (publisher.py ``end``). +20: an edit
#: pushed from outside, or carried, lands only in the history it was made for (store.py
#: ``publish_to``). Servers that held the old history carry their edits once, one at a time,
#: the writer first (cluster/carrying.py, reconcile.py; in the core: merge/threeway.py's union
#: with the state carried before, watch.py ``base_is_last_save``): cluster +85, core +22. +7: a
#: room that cannot be levelled stops neither the reader nor the keeper (cluster.py). Core +31:
#: an update sent before its peer answered our step 1 waits for that answer (rooms/room.py
#: ``_apply_from``, errors.py ``MissingDependencies``). Cluster +9: a
#: server reads a room's state and the stream after it in one script, not two reads between
#: which a fold may trim the stream (store.py ``current``; ``publish``, used by tests only,
#: went to tests/unit/cluster/streams.py). +19: a server that did not read for half the time
#: the stream keeps entries levels its rooms (cluster.py ``PAUSE_LIMIT``, ``_must_level``;
#: ``read_streams`` lost a branch no caller took). Core +27: a chat loaded from its file is not
#: marked as loading, for YChat and jupyter-ai (watch.py ``view_of_loaded``, loader.py), and
#: no second view is made for a deployment with no initialiser (web/hookcalls.py). +95:
#: jupyterlab-chat's chat as rooms use it (codec/chats.py): no message lost when two arrive at
#: once, and in a cluster, each stamped and passed to jupyter-ai by one server only. +15: a
#: contents manager whose ``get`` has no ``require_hash`` or gives no hash (s3contents) is
#: asked without it, and its files hashed from their content (document/files.py ``_get``). +2:
#: a rename through Jupyter reaches every open tab at the next look (watch.py ``catch_up``).
#: +6: a document class rooms do not know (JupyterCAD's) is made outside a transaction, as
#: it widens its undo scope (codec/building.py ``build_base``, merge/threeway.py). +26: a
#: file that cannot be read (conflict markers, a model of a newer version) stops no room and
#: is never written over (watch.py ``catch_up``, saving.py ``_run``, codec/kinds.py ``fill``).
#: +88: a change on disk to a document of a class rooms do not know (JupyterCAD's model, a
#: chat) is merged root by root, not by replacing it all, which lost the room's unsaved edits
#: inside its objects (merge/structure.py). +12: an object changed on both sides is merged
#: with the room's copy of it, found by its CRDT item (structure.py ``_live_copy``). +20: items
#: are matched by their ``id`` or ``name``, so one changed beside a new one is still merged.
#: +65: what server code writes to a room's document after the room closed (a cell's outputs,
#: from jupyter-server-nbmodel) is carried into the room opened again (rooms/closing.py). +5:
#: ``get_document(copy=False)`` opens a room that is not open (a cell queued by "Run all"). +7:
#: an invalid option turns collaboration off with its reason, nothing half-started (app.py). +9:
#: a mid-size document's Ctrl-S does not wait for the render process to start (fastpath/files.py).
#: -1: a takeover builds the file once (render.py ``holds_and_digest``). +8: the render process
#: is asked whether it is ready with ``poll``, which a server with 1,024 files open needs. +4:
#: it is off by default on Windows, which has no ``poll`` (options.py). +117: an object a file
#: changed outside Jupyter moved keeps the room's unsaved edits inside it, and one put in
#: place of another takes none of the old one's (merge/structure.py ``Merge.redo``, threeway.py).
#: +7: one the room changed and the file removed is kept, as a notebook's cells are. -4: its
#: items read as plain values once per array, not one by one (faster, and shorter). +28: a
#: notebook cell changed on disk is merged again on a copy of the live document only when our
#: side re-created it, told by its CRDT item (merge/sameitem.py, which structure.py shares).
#: +12: an outside change is merged in a thread, on a copy of the live document (watch.py).
#: +2: a chat message the server moves stays a map, which pages can edit (codec/chats.py).
#: +1: structure.py's deletion of a removed run written as a plain if/else.
#: +18 (and +1 in cluster/): a shared room nobody had open is looked at on disk before anyone
#: sees it (loader.py ``_changed_content``, shared with the recovery from the update log).
#: +53 (and +149 in cluster/, names.py): a file renamed through Jupyter while shared stays one
#: room under its new name, and one renamed through another server is followed by the writer
#: (watch.py); the server's ``state`` values moved to document/state.py to keep watch.py small.
#: +8 in cluster/: the file-ids hash names a room, whose state says where its file is now.
#: -3 in cluster/: one ``as_text`` for what redis-py answers (keys.py), not five copies.
#: +2 (and +147 in cluster/, presence.py): who is online is shared across servers (the global
#: awareness room, which JupyterLab's collaborators panel lists), naming no file outside
#: ``cluster_folder``; the relay room is told to the room hooks as it opens and closes.
#: +70 (and +32 in cluster/): a server that may not write a shared file leaves it to one that
#: may (errors.py ``may_not_write``, sharing.py ``hand_over``, lease.py ``step_aside``); one
#: save's work went from saving.py, which it took past 250 lines, to document/writing.py; the
#: awareness other servers' peers announce is one class for documents and presence
#: (cluster/awareness.py). +1: the log says "save failed" once, not "save save failed"
#: (events.py). +3 in cluster/: the presence stream is trimmed by Redis's clock, which names its
#: entries, not the server's (presence.py ``trim``). +2: why the hand-over is said at INFO
#: (writing.py): a WARNING session event is a dialog in every window of the front end. +3: the
#: save worker's sharing is read from its writer (a property), not kept as a second copy. +1 in
#: cluster/: the reader finds each entry's room by its key, not from a second copy of them all.
#: +2 in cluster/: a joining server relays the awareness it met without re-reading the stream
#: from there (shared.py ``attach``). +21 in cluster/: what waited in an outbox (an outage) goes
#: as each client's latest awareness state, not every state (outbox.py ``latest_awareness``);
#: +3: and a held outbox keeps no update meanwhile (``release`` sends what the cluster lacks).
#: +6: an observer a deployment attaches can tell another server's change from this one's
#: (rooms/room.py ``from_another_server``). +14: with file ids disabled, collaboration is off
#: from the start and JupyterLab opens documents without it, as for an invalid option (app.py
#: ``_collaboration_off``), not an "Unhandled error" at each document; +6: and the stand-in for
#: jupyter-collaboration is not entered then, so that other extensions find collaboration off.
#: +22: a chat view's making reaches the others as one update, so that a server sharing the room
#: takes the message its user sends then for new (codec/listeners.py ``as_one_update``).
#: Cluster +31: an update in a room's stream that does not decode (no server of ours wrote it)
#: is left out of the replay, which it made fail for every server joining the room; the
#: stream's entries as values moved from store.py to cluster/entries.py, where it is checked.
#: +2: jupyter_ydoc's clean-up of a notebook cell is one function that loading, merging, saving
#: and the guard share (codec/content.py ``normalise_cell``), not four copies of its rules.
#: +10, cluster +2: a failed Ctrl-S says why (the save reply's ``message``, which
#: jupyter-docprovider 3.1 shows), also when another server of the cluster saved. +15: the
#: unsaved-changes mark stays while edits wait for a save (saving.py ``keep_dirty_mark``), not
#: in chats (codec/kinds.py ``dirty_is_a_mark``); a save during which edits came leaves it
#: (writing.py ``_clean``). +20: a notebook with no cells (a new one) is loaded with one empty
#: cell, as jupyter_ydoc loads it, and read so for merges (codec/building.py ``FIRST_CELL``):
#: JupyterLab's collaborative notebook adds none, so a new notebook showed no cell to type in.
#: +15, cluster +17: a writer records the digest of a save before it writes the file, so that
#: the next writer, if it died before telling the others, adopts the file instead of merging it
#: again, which doubled the text (watch.py ``_adopt``, cluster/store.py ``record_saving``).
#: +28: ``jupyter ycollab``'s log commands in a module of their own (logtools.py), which only
#: those import, and one slow optional module kept out of the command: it starts in 1 s, not 4.
#: +29: a room whose file was deleted through Jupyter follows the file made again at its
#: path, under its new id, and the session route sends new pages there (watch.py
#: ``_made_again_here``, web/session.py ``_following``): else the edits after stayed unsaved.
#: +58: a file back after it was gone that holds a state the room went through (a page's copy,
#: sent by JupyterLab's Ctrl-S) becomes the base, not a change to merge: the edits typed since
#: went in twice (render.py ``state_held``, watch.py ``_ours_after_all``). +8: a page opening
#: such a file before the room looked joins that room too (web/session.py ``_following``). +7:
#: a file that moved while read is read again (document/files.py ``read``): a jupytext script's
#: hash taken between jupytext's writes of its pair stayed ``state.hash`` ("File Changed").
#: +61: a checkpoint restored through Jupyter (File > Revert to Checkpoint) becomes the open
#: document (web/checkpoints.py, document.py ``take_file``): in RTC, JupyterLab's revert asks
#: no content, and the restored file, merged as an outside change, kept the unsaved edits.
#: +7: the log is flushed before it is set aside for a merge (history.py ``set_aside``): the
#: copy missed the last edits, or was not made at all in a room whose log was not written yet.
#: +21: an ``.ipynb`` whose cells repeat or lack ids, which nbformat's reader makes anew at
#: each read, has them matched by equal content (merge/cellids.py ``alike``; the fast path
#: leaves such a file to the contents manager): a change on disk brought cells back twice.
#: +11: a file that cannot be read is answered at the session PUT, and refused on its websocket
#: (web/session.py ``_session_of``): a failed PUT showed "taking some time to load", and retried.
#: +60: a request refused with a dialog (1003) and back at once is refused before the upgrade
#: for 10 s (web/refusals.py): JupyterLab reconnects every 100 ms until its user answers the
#: dialog, and queued one more for each close (60 in 7 s). +23: so is any request refused after
#: its upgrade, 2 s for a 1013 (``repeat_status``, websocket.py ``_refuse``): a page back to a
#: file deleted while it was away, or while Redis was down, came back ten times a second.
#: +14: an update on which pycrdt's Rust core panics (a ``BaseException``) is refused like any
#: other (codec/updates.py ``refused_by_pycrdt``): it aborted its sender with an ERROR.
#: +24: the render process imports only the document classes of its jobs (codec/kinds.py
#: ``document_class``, chats.py imported for chats only): 43 MB, not 58 with jupyterlab-chat;
#: +4: each class loaded once, so that the saves' frequent asks stay a dict lookup.
#: +20: closed rooms are freed (codec/listeners.py ``_subscribe``, document.py ``close``):
#: observers pycrdt's Rust side held kept every room ever closed, with its whole document.
#: +32: a second after rooms close, one collection frees them and gives their memory back
#: (memory.py ``CollectAfterCloses``): a closed 10k-cell room left 44 MB resident until then.
#: +15: pages are told their file was deleted, and that it is back (room.py ``_file_status``):
#: jupyter-docprovider 3.1 shows a notice over the document, and asks before a Ctrl-S.
#: -99 (cluster -5, observability -19, and its 13 unused): code said twice said once,
#: wrappers that only forwarded and an error class nothing raised taken out, no behaviour
#: changed (one event helper for a file's session events, one getter of the file-id manager).
#: -25: ``Sharing`` is the base class whose steps are the single server's (``Alone`` is it),
#: the cluster's ``SharedRoom`` overrides them: each step written once, not a Protocol and a twin.
#: -36 (cluster -10): the file watch's history and file access are taken from it, not passed
#: again to the loader, writer and save worker; Protocols with one implementation went.
#: +1: the signatures' one-by-one fallback is its own method again (inlined, it nested 4 deep).
#: +6: the fast path refuses hidden files unless ``allow_hidden``, as the contents manager does
#: (fastpath/save.py ``os_path_of``): it served a hidden notebook to anyone asking a session.
#: +6, cluster +9: a checkpoint restored on a server that does not write the file is told to the
#: one that does (cluster/saves.py ``forward_take_file``): merged there, it kept unsaved edits.
#: +2: the fast path's reader leaves a notebook versioned 4.0, or nested too deep to parse, to
#: the contents manager (fastpath/read.py), which refuses both: it served one, answered 500.
#: +38: cells whose id repeats (two pages moved one cell at once) get a new one in the room
#: before it saves (codec/content.py ``ids_made_anew``): the file had the repeat, or an id the
#: room lacked, and a change on disk brought the cell back again.
#: +2: a read-only peer's autosave wish is not heard (rooms/awareness.py ``apply``): its front
#: end states its user's own setting, which turned autosave on for editors who had it off.
#: +14: a client id is its user's: nobody else renames, moves or removes their cursor
#: (rooms/awareness.py ``apply``; the room relays only what was taken, not the whole update);
#: the server relayed any peer's state under any id.
#: +18: a user's new timeline of a document replaces the one of theirs nobody watches
#: (rooms/forks.py ``replaces``): asked for again and again, each copy of the history stayed.
#: +4, cluster +61: an awareness entry of a cluster's stream says who announced it, its user and
#: whether they may save (cluster/awareness.py ``Announced``): a user on one server renamed or
#: removed another's cursor on the other, and a read-only page turned autosave back on there.
#: +3: a hidden file does not exist for a session PUT unless ``allow_hidden`` (document/files.py
#: ``exists``): it got a file id before its room refused it; the contents API gives it none.
#: +14, cluster -3: a restored checkpoint forwarded to the writer is taken by its save worker
#: (document/saving.py ``request_take_file``), not by a task of the stream's reader that nothing
#: awaited on close and whose failure nobody heard.
#: -31: one-caller helpers inlined where their name added nothing (web/forks, document/loader,
#: merge/notebook, history/logfile, fastpath/prepare), a fresh log written by ``compact``, the
#: room id kept once (History's, not FileWatch's too).
#: +19, cluster +11: the server that writes a shared file tells the others when it goes or
#: comes back (``Sharing.file_gone``, ``Document.heard_file_gone``): only its own pages showed
#: jupyter-docprovider 3.1's notice of a deleted file.
#: +1: ``Files.flush`` says again why it exists (a save is answered after it), cut before.
#: +9: the notebook merge compares cells without ``trusted`` (merge/notebook.py ``_drop_trust``):
#: a file changed elsewhere reads unsigned, which brought back cells the room had deleted.
#: +2: the fast path stamps the file it wrote (fastpath/save.py ``_write``, ``fstat``), not the
#: path after: a file replaced as the write ended passed for ours, and the next save wrote over it.
#: cluster +11: each server writes its file id of a room again once the room is levelled
#: (cluster/reconcile.py ``record_file_id``): after Redis came back empty, a page a load
#: balancer moved to another server was refused (404) for as long as the room stayed open.
BUDGETS = {"core": 10_245, "cluster": 2_149, "observability": 768}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def name_of(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def lines_of(path: Path) -> int:
    return len(path.read_text().splitlines())


def part_of(path: Path) -> str:
    name = name_of(path)
    if name.startswith("cluster/"):
        return "cluster"
    if name.startswith("metrics/") or name in STATUS:
        return "observability"
    return "core"


def function_lengths(path: Path) -> list[tuple[str, int]]:
    """Each function's name and length in lines, from ``def`` to its last line, less its
    docstring (decorators are not counted: they are not the function's body)."""
    return [
        (node.name, _span(node) - _docstring_span(node))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _span(node: ast.stmt) -> int:
    return (node.end_lineno or node.lineno) - node.lineno + 1


def _docstring_span(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = function.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        return 0
    return _span(first) if isinstance(first.value.value, str) else 0


def test_no_module_is_over_250_lines() -> None:
    long = {name_of(path): lines_of(path) for path in modules()}
    assert {name: n for name, n in long.items() if n > MAX_MODULE_LINES} == {}


def test_no_function_is_over_40_lines_docstring_aside() -> None:
    long = [
        f"{name_of(path)}: {function} ({length} lines)"
        for path in modules()
        for function, length in function_lengths(path)
        if length > MAX_FUNCTION_LINES
    ]
    assert long == []


@pytest.mark.parametrize("part", BUDGETS)
def test_each_part_keeps_to_its_line_budget(part: str) -> None:
    lines = sum(lines_of(path) for path in modules() if part_of(path) == part)
    assert 0 < lines <= BUDGETS[part], f"{part}: {lines} lines, budget {BUDGETS[part]}"


def test_the_measure_counts_what_it_should(tmp_path: Path) -> None:
    """The function measure leaves the docstring out and counts everything else, nested
    functions on their own too."""
    source = tmp_path / "sample.py"
    body = "\n".join(f"    x{n} = {n}" for n in range(3))
    source.write_text(f'def f():\n    """One\n    two."""\n{body}\n    def g():\n        pass\n')
    assert function_lengths(source) == [("f", 6), ("g", 2)]
