"""JupyterCAD's documents through our rooms: ``.jcad`` models (``text:jcad``, JupyterCAD's
``YJCad`` from the ``jupyter_ydoc`` entry point group, installed by ``jupytercad-core``) and the
``.step`` and ``.stl`` files it shows.

The peers write as JupyterCAD's front end does (``@jupytercad/schema``'s ``JupyterCadDoc``): an
object is one map pushed on ``objects``, an option one key of ``options``, each in a
transaction. ``YJCad`` widens its undo manager's scope as it is made, which a ``Doc`` refuses
inside a transaction (a panic in yrs): our rooms built and merged custom documents inside one,
so no model opened (session PUT 500) and a model changed on disk could not be merged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from jupyter_ydoc.ybasedoc import YBaseDoc
from jupytercad_core.jcad_ydoc import YJCad
from jupytercad_core.step_ydoc import YSTEP
from jupytercad_core.stl_ydoc import YSTL
from pycrdt import Array, Doc, Map

from .client import CollabClient, wait_until
from .harness import Collab, refusal
from .servers import ServerSeries, assert_stays, holds, log_name
from .test_forks import fork_request, put_fork

UNSAVED = {"save_delay": 60.0, "max_save_delay": 120.0}


def shape(name: str, kind: str, **parameters: Any) -> dict[str, Any]:
    """An object as JupyterCAD's front end adds it."""
    placement = {"Position": [0, 0, 0], "Axis": [0, 0, 1], "Angle": 0}
    return {
        "name": name,
        "visible": True,
        "shape": f"Part::{kind}",
        "parameters": {**parameters, "Placement": placement},
    }


def model(*objects: dict[str, Any]) -> bytes:
    """A ``.jcad`` file as another program writes it (not in YJCad's own key order)."""
    jcad = {"schemaVersion": "3.0.0", "objects": list(objects), "options": {}, "metadata": {}}
    return json.dumps({**jcad, "outputs": {}}, indent=4).encode()


BOX = shape("Box 1", "Box", Length=1, Width=1, Height=1)
SPHERE = shape("Sphere 1", "Sphere", Radius=2)
CONE = shape("Cone 1", "Cone", Radius1=1, Radius2=0, Height=3)


def add_object(client: CollabClient[YJCad], obj: dict[str, Any]) -> None:
    """``JupyterCadDoc.addObject``: the object as one map pushed on ``objects``."""
    doc = client.document.ydoc
    with doc.transaction():
        doc.get("objects", type=Array).append(Map(obj))


def set_option(client: CollabClient[YJCad], key: str, value: Any) -> None:
    """``JupyterCadDoc.setOption``."""
    client.document.ydoc.get("options", type=Map)[key] = value


def objects_of(client: CollabClient[YJCad]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.document.ydoc.get("objects", type=Array).to_py() or []
    return found


def names(client: CollabClient[YJCad]) -> list[str]:
    return names_in(client.document.ydoc)


def names_in(doc: Doc[Any]) -> list[str]:
    return [obj["name"] for obj in doc.get("objects", type=Array).to_py() or []]


def on_disk(path: Path) -> dict[str, Any]:
    """The model in the file; empty while a save rewrites it (harness.py ``sources_on_disk``)."""
    try:
        jcad: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}
    return jcad


def names_on_disk(path: Path) -> list[str]:
    return [obj["name"] for obj in on_disk(path).get("objects", [])]


async def open_model(collab: Collab, path: str) -> tuple[dict[str, Any], CollabClient[YJCad]]:
    """What JupyterCAD's front end does to open a ``.jcad`` file: its session, its room."""
    session = await collab.put_session(path, "text", "jcad")
    client = collab.session_client(session, YJCad(Doc()))
    await client.sync()
    return session, client


@pytest.mark.ycollab(save_delay=0.1)
async def test_two_people_build_one_model_and_its_file_holds_it(collab: Collab) -> None:
    path = collab.write_bytes("part.jcad", model(BOX))
    session, alice = await open_model(collab, "part.jcad")
    bob = collab.session_client(session, YJCad(Doc()))
    await bob.sync()
    assert names(bob) == ["Box 1"]

    add_object(alice, SPHERE)
    set_option(bob, "cameraType", "Orthographic")
    for client in (alice, bob):
        await wait_until(lambda c=client: names(c) == ["Box 1", "Sphere 1"], 5, "the sphere")
        options = client.document.ydoc.get("options", type=Map)
        await wait_until(lambda o=options: "cameraType" in o, 5, "the option")

    def saved() -> bool:
        jcad, options = on_disk(path), {"cameraType": "Orthographic"}
        return jcad.get("objects") == [BOX, SPHERE] and jcad.get("options") == options

    await wait_until(saved, 10, "both changes in the file")


#: A file of each type JupyterCAD opens, and the view its front end's model has.
SAMPLES: dict[str, tuple[bytes, type[YBaseDoc]]] = {
    "jcad": (model(BOX, SPHERE), YJCad),
    "step": (b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n", YSTEP),
    "stl": (b"solid part\nendsolid part\n", YSTL),
}


@pytest.mark.parametrize("file_type", sorted(SAMPLES))
async def test_opening_a_file_and_saving_it_untouched_leaves_it_as_it_was(
    collab: Collab, file_type: str
) -> None:
    """JupyterCAD writes its models in its own key order and indentation, and renders STEP and
    STL text as a JSON string: saved, they would change (a ``.step`` file quoted whole). A
    clean document's Ctrl-S succeeds and writes nothing, opened or closed."""
    data, view = SAMPLES[file_type]
    name = f"part.{file_type}"
    path = collab.write_bytes(name, data)
    session = await collab.put_session(name, "text", file_type)
    client = collab.session_client(session, view(Doc()))
    await client.sync()
    writes = collab.watch_writes()
    assert (await client.save(1))["status"] == "success"
    (room_id,) = collab.document_rooms
    await client.close()
    await collab.room_closed(room_id)
    assert path.read_bytes() == data
    assert writes.count(name) == 0


@pytest.mark.ycollab(**UNSAVED)
async def test_a_model_reordered_on_disk_keeps_the_unsaved_edit_inside_the_moved_object(
    collab: Collab,
) -> None:
    """Another program moves the box to the end while Bob's hiding it is not saved: everyone
    sees the new order with the box still hidden, and Ctrl-S writes both. (Yjs arrays have no
    move: the box's new copy came without Bob's edit, which went with the old one.)"""
    path = collab.write_bytes("order.jcad", model(BOX, SPHERE, CONE))
    session, alice = await open_model(collab, "order.jcad")
    bob = collab.session_client(session, YJCad(Doc()))
    await bob.sync()
    bob.document.ydoc.get("objects", type=Array)[0]["visible"] = False
    await wait_until(lambda: not objects_of(alice)[0]["visible"], 5, "Bob's edit at Alice's")

    path.write_bytes(model(SPHERE, CONE, BOX))
    moved = [SPHERE, CONE, {**BOX, "visible": False}]
    for client in (alice, bob):
        await wait_until(lambda c=client: objects_of(c) == moved, 10, "the new order merged")
    assert (await bob.save(1))["status"] == "success"
    assert on_disk(path)["objects"] == moved


@pytest.mark.ycollab(**UNSAVED)
async def test_a_model_changed_on_disk_reaches_everyone_and_keeps_the_unsaved_object(
    collab: Collab,
) -> None:
    """Another program adds a cone while Alice's sphere and Bob's hiding the box are not saved
    yet: everyone gets the cone, both edits stay, and the next save writes it all. (Replaced
    whole, as ``YJCad.set`` does, the model lost Bob's edit inside the box.)"""
    path = collab.write_bytes("part.jcad", model(BOX))
    session, alice = await open_model(collab, "part.jcad")
    bob = collab.session_client(session, YJCad(Doc()))
    await bob.sync()
    add_object(alice, SPHERE)
    await wait_until(lambda: names(bob) == ["Box 1", "Sphere 1"], 5, "the sphere")
    bob.document.ydoc.get("objects", type=Array)[0]["visible"] = False

    path.write_bytes(model(BOX, CONE))
    everything = {"Box 1", "Sphere 1", "Cone 1"}
    for client in (alice, bob):
        await wait_until(lambda c=client: set(names(c)) == everything, 10, "the cone merged")
    assert (await bob.save(1))["status"] == "success"
    assert sorted(names_on_disk(path)) == sorted(everything), "no object twice"
    assert on_disk(path)["objects"][0] == {**BOX, "visible": False}


@pytest.mark.ycollab(save_delay=0.1)
async def test_a_suggestion_made_in_a_fork_is_merged_back_into_the_model(collab: Collab) -> None:
    """JupyterCAD's suggestions are forks of the model's room: Bob adds a cone in his fork,
    Alice adds a sphere meanwhile, and merging the fork back gives the model both."""
    path = collab.write_bytes("part.jcad", model(BOX))
    _, alice = await open_model(collab, "part.jcad")
    (root_id,) = collab.document_rooms
    created = await put_fork(collab, root_id, title="a cone", description="on top")
    url = collab.room_url(created["fork_roomid"], f"sessionId={created['sessionId']}")
    bob = collab.client(YJCad(Doc()), url)
    await bob.sync()
    add_object(bob, CONE)
    add_object(alice, SPHERE)
    fork = collab.rooms[created["fork_roomid"]].doc
    await wait_until(lambda: names_in(fork) == ["Box 1", "Cone 1"], 5, "the cone in the fork")
    assert names(alice) == ["Box 1", "Sphere 1"]

    assert (await fork_request(collab, "DELETE", created["fork_roomid"], "merge=true"))[0] == 200
    both = {"Box 1", "Sphere 1", "Cone 1"}
    await wait_until(lambda: set(names(alice)) == both, 5, "the suggestion merged")
    await wait_until(lambda: set(names_on_disk(path)) == both, 10, "and saved")


async def test_an_unsaved_object_survives_a_crash(tmp_path: Path) -> None:
    """The update log keeps a model's edits as it does a notebook's: after a SIGKILL, the
    restarted server has the sphere nobody saved, and saves it."""
    series = ServerSeries(tmp_path / "home", tmp_path / "root", UNSAVED | {"log_commit_delay": 0.1})
    path = tmp_path / "root" / "part.jcad"
    path.write_bytes(model(BOX))
    server = await series.start()
    try:
        session = await server.put_session("part.jcad", "text", "jcad")
        writer = CollabClient(YJCad(Doc()), server.room_url(session), server.headers)
        await writer.sync()
        add_object(writer, SPHERE)
        log = series.log_dir / log_name(session)
        await wait_until(lambda: holds(log, b"Sphere 1"), 10, "the sphere in the update log")
        await series.sigkill()
        await writer.close()
        assert names_on_disk(path) == ["Box 1"], "saved too early"

        series.ycollab.update(save_delay=0.1, max_save_delay=0.5)
        server = await series.start()
        again = await server.put_session("part.jcad", "text", "jcad")
        assert again["sessionId"] == session["sessionId"], "the history was kept"
        reader = CollabClient(YJCad(Doc()), server.room_url(again), server.headers)
        await reader.sync()
        assert names(reader) == ["Box 1", "Sphere 1"]
        await wait_until(lambda: names_on_disk(path) == ["Box 1", "Sphere 1"], 10, "saved")
        await reader.close()
    finally:
        series.kill_all()


#: A model saved by a JupyterCAD newer than the installed one: YJCad refuses to read it.
NEWER = json.dumps({"schemaVersion": "99.0.0", "objects": [], "options": {}, "metadata": {}})


@pytest.mark.parametrize("expected_errors", [[r"^\s*To access the server"]])
async def test_a_model_of_a_newer_version_is_refused_with_its_reason(
    collab: Collab, expected_errors: list[str]
) -> None:
    """Not an "Unhandled error" without a word: the room websocket closes with 4500 (the
    front end's "File Load Error"), and with the reason, which the server's log says too."""
    collab.write_bytes("new.jcad", NEWER.encode())
    session = await collab.put_session("new.jcad", "text", "jcad")
    client = collab.session_client(session, YNotebook(Doc()))
    assert await refusal(client) == ("close", 4500)
    assert client.close_reason == "YJCad cannot read the file: Cannot load file version 99.0.0"
    assert collab.document_rooms == []


@pytest.mark.parametrize("expected_errors", [[r"^\s*To access the server", r"(?i)sav\w* .*fail"]])
@pytest.mark.ycollab(save_delay=0.1, max_save_delay=0.5)
async def test_a_model_replaced_by_a_newer_version_is_not_written_over(
    collab: Collab, expected_errors: list[str]
) -> None:
    """Someone with a newer JupyterCAD saves the model while it is open here: the room keeps
    its content and its unsaved sphere, and saves nothing over the newer file."""
    path = collab.write_bytes("part.jcad", model(BOX))
    _, alice = await open_model(collab, "part.jcad")
    path.write_text(NEWER)
    add_object(alice, SPHERE)
    assert (await alice.save(1))["status"] == "failed"
    await assert_stays(lambda: path.read_text() == NEWER, 1.0, "written over")
    assert names(alice) == ["Box 1", "Sphere 1"]
