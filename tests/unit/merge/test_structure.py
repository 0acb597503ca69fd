"""Three-way merges of documents whose class rooms do not know (merge/structure.py), with
JupyterCAD's model (``YJCad``, from jupytercad-core) and one jupyterlab-chat chat: root by root,
what the file did not change keeps its items and the room's edits inside them, also in an
object the file moved."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map

from jupyter_ycollab.codec.building import build_base
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.codec.updates import EMPTY_UPDATE
from jupyter_ycollab.merge.threeway import three_way_merge

JCAD = DocumentKind.parse("text", "jcad")


def shape(name: str, **parameters: Any) -> dict[str, Any]:
    return {"name": name, "visible": True, "shape": "Part::Box", "parameters": parameters}


def model(objects: list[dict[str, Any]], **options: Any) -> str:
    return json.dumps({"objects": objects, "options": options, "metadata": {}, "outputs": {}})


BOX, CONE = shape("Box", Length=1, Width=1), shape("Cone", Height=3)
SPHERE = shape("Sphere", Radius=2)


def room_of(content: str) -> tuple[bytes, Doc[Any]]:
    """The base built from ``content``, and a live ``Doc`` holding it."""
    base = build_base(JCAD, content)
    live: Doc[Any] = Doc()
    live.apply_update(base)
    return base, live


def objects(doc: Doc[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = doc.get("objects", type=Array).to_py() or []
    return found


def merged(base: bytes, live: Doc[Any], theirs: str) -> list[str]:
    """Merge ``theirs`` into ``live``; the conflicts."""
    result = three_way_merge(JCAD, base, live, theirs)
    live.apply_update(result.update)
    return result.conflicts


def test_an_object_added_on_disk_keeps_the_rooms_edit_inside_another() -> None:
    base, live = room_of(model([BOX]))
    live.get("objects", type=Array)[0]["visible"] = False  # the room hides the box, unsaved

    assert merged(base, live, model([BOX, CONE])) == []
    assert objects(live) == [{**BOX, "visible": False}, CONE]


def test_an_object_changed_on_disk_merges_key_by_key_with_the_room() -> None:
    base, live = room_of(model([BOX, CONE]))
    live.get("objects", type=Array)[0]["visible"] = False
    wider = shape("Box", Length=1, Width=5)

    assert merged(base, live, model([wider, CONE])) == []
    assert objects(live) == [{**wider, "visible": False}, CONE]


def test_a_key_of_an_object_changed_on_both_sides_keeps_the_rooms_and_is_a_conflict() -> None:
    """The room's copy of the object is found by its CRDT item (a sticky index), even after
    the room put another object before it."""
    base, live = room_of(model([BOX, CONE]))
    objects_root = live.get("objects", type=Array)
    objects_root.insert(0, Map(shape("Sphere", Radius=2)))
    objects_root[1]["parameters"] = {"Length": 7, "Width": 1}
    objects_root[1]["visible"] = False

    assert merged(base, live, model([shape("Box", Length=9, Width=1), CONE])) == ["objects"]
    mine = {**BOX, "parameters": {"Length": 7, "Width": 1}, "visible": False}
    assert objects(live) == [shape("Sphere", Radius=2), mine, CONE]


def test_an_object_changed_beside_a_new_one_is_still_merged_with_the_room() -> None:
    """Matched by name, not by place: the new sphere next to it does not make it a new box."""
    base, live = room_of(model([BOX, CONE]))
    live.get("objects", type=Array)[0]["visible"] = False
    longer, sphere = shape("Box", Length=9, Width=1), shape("Sphere", Radius=2)

    assert merged(base, live, model([longer, sphere, CONE])) == []
    assert objects(live) == [{**longer, "visible": False}, sphere, CONE]


def test_an_object_the_room_deleted_stays_deleted_when_the_file_changes_it() -> None:
    base, live = room_of(model([BOX, CONE]))
    del live.get("objects", type=Array)[0]

    assert merged(base, live, model([shape("Box", Length=9, Width=1), CONE])) == []
    assert objects(live) == [CONE]


def test_an_object_removed_on_disk_goes_and_one_the_room_added_stays() -> None:
    base, live = room_of(model([BOX, CONE]))
    live.get("objects", type=Array).append(Map(shape("Sphere", Radius=2)))

    assert merged(base, live, model([CONE])) == []
    assert objects(live) == [CONE, shape("Sphere", Radius=2)]


def test_an_object_moved_on_disk_keeps_the_rooms_edit_inside_it() -> None:
    """Yjs arrays have no move: the file's copy goes to its new place, and the room's edit is
    made again in it (before, it went with the old copy)."""
    base, live = room_of(model([BOX, CONE, SPHERE]))
    live.get("objects", type=Array)[0]["visible"] = False
    wider = shape("Box", Length=1, Width=5)

    assert merged(base, live, model([CONE, SPHERE, wider])) == []
    assert objects(live) == [CONE, SPHERE, {**wider, "visible": False}]


def test_a_key_of_a_moved_object_changed_on_both_sides_keeps_the_rooms() -> None:
    base, live = room_of(model([BOX, CONE, SPHERE]))
    live.get("objects", type=Array)[0]["parameters"] = {"Length": 7, "Width": 1}

    theirs = model([CONE, SPHERE, shape("Box", Length=9, Width=1)])
    assert merged(base, live, theirs) == ["objects"]
    assert objects(live) == [CONE, SPHERE, shape("Box", Length=7, Width=1)]


def test_an_object_the_room_deleted_stays_deleted_when_the_file_moves_it() -> None:
    base, live = room_of(model([BOX, CONE, SPHERE]))
    del live.get("objects", type=Array)[0]

    assert merged(base, live, model([CONE, SPHERE, BOX])) == []
    assert objects(live) == [CONE, SPHERE]


def test_an_object_the_file_put_in_place_of_another_takes_nothing_of_the_rooms_edit() -> None:
    """Another name is another object: the room's edit to the box does not land in the cone
    the file put in its place (it was merged into it, one for one); the box, which the room
    changed and the file removed, is kept, as a notebook's cells are, and is a conflict."""
    base, live = room_of(model([BOX]))
    live.get("objects", type=Array)[0]["visible"] = False

    assert merged(base, live, model([CONE])) == ["objects"]
    assert objects(live) == [{**BOX, "visible": False}, CONE]


def test_a_chat_message_the_file_put_in_place_of_another_keeps_its_own_text() -> None:
    """jupyterlab-chat's ``YChat``: message "c" written where "b" was, which the room edited,
    is "c" as the file has it (it was "c" with b's edited text, "three" lost); "b" stays."""

    def chat(*messages: tuple[str, str]) -> str:
        held = [{"id": i, "body": body, "time": 1.0, "raw_time": False} for i, body in messages]
        return json.dumps({"messages": held, "users": {}, "attachments": {}, "metadata": {}})

    kind = DocumentKind.parse("text", "chat")
    base = build_base(kind, chat(("a", "one"), ("b", "two")))
    live: Doc[Any] = Doc()
    live.apply_update(base)
    live.get("messages", type=Array)[1]["body"] = "two, edited"

    result = three_way_merge(kind, base, live, chat(("a", "one"), ("c", "three")))
    live.apply_update(result.update)
    bodies = [(m["id"], m["body"]) for m in live.get("messages", type=Array).to_py() or []]
    assert bodies == [("a", "one"), ("b", "two, edited"), ("c", "three")]


def test_a_moved_object_is_merged_again_at_the_next_change_of_the_file() -> None:
    """The next base holds the file's copy, so the next merge still tells the room's edit from
    the file's: the room's stays, the file's new one lands, nothing is doubled."""
    base, live = room_of(model([BOX, CONE, SPHERE]))
    live.get("objects", type=Array)[0]["visible"] = False
    first = three_way_merge(JCAD, base, live, model([CONE, SPHERE, BOX]))
    live.apply_update(first.update)

    wider = shape("Box", Length=1, Width=5)
    assert merged(first.base_update, live, model([CONE, SPHERE, wider])) == []
    assert objects(live) == [CONE, SPHERE, {**wider, "visible": False}]


def test_an_option_changed_on_both_sides_keeps_the_rooms_and_is_a_conflict() -> None:
    base, live = room_of(model([BOX], cameraType="Perspective", grid=True))
    live.get("options", type=Map)["cameraType"] = "Orthographic"

    assert merged(base, live, model([BOX], cameraType="Isometric", grid=False)) == ["options"]
    assert live.get("options", type=Map).to_py() == {"cameraType": "Orthographic", "grid": False}


def test_the_same_file_changes_nothing() -> None:
    base, live = room_of(model([BOX, CONE], grid=True))
    assert three_way_merge(JCAD, base, live, model([BOX, CONE], grid=True)).update == EMPTY_UPDATE


_objects = st.lists(
    st.builds(
        shape,
        st.sampled_from(["Box", "Cone", "Sphere", "Torus"]),
        Length=st.integers(1, 3),
        Width=st.integers(1, 3),
    ),
    max_size=6,
)
_options = st.dictionaries(st.sampled_from(["grid", "axes", "cameraType"]), st.integers(0, 2))


@settings(max_examples=200, deadline=None)
@given(_objects, _options, _objects, _options)
def test_a_room_with_no_edits_becomes_the_file(
    base_objects: list[dict[str, Any]],
    base_options: dict[str, Any],
    file_objects: list[dict[str, Any]],
    file_options: dict[str, Any],
) -> None:
    """Whatever the file did (objects added, removed, moved, changed in place, options), a
    room that changed nothing ends up holding exactly the file."""
    base, live = room_of(model(base_objects, **base_options))
    assert merged(base, live, model(file_objects, **file_options)) == []
    assert objects(live) == file_objects
    assert live.get("options", type=Map).to_py() == file_options


_NAMES = ["Box", "Cone", "Sphere", "Torus", "Wedge"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(_NAMES), unique=True),
    st.sets(st.sampled_from(_NAMES)),
    st.lists(st.sampled_from(_NAMES), unique=True),
    st.sets(st.sampled_from(_NAMES)),
)
def test_the_rooms_edits_inside_objects_follow_them_wherever_the_file_puts_them(
    base_names: list[str], hidden: set[str], file_names: list[str], widened: set[str]
) -> None:
    """The room hides some objects; the file adds, removes, reorders and widens some: each
    object of the file is where the file has it, as the file has it, and hidden if the room hid
    it; one the room hid and the file removed stays, hidden, and is a conflict."""
    base, live = room_of(model([shape(name, Length=1, Width=1) for name in base_names]))
    for obj in live.get("objects", type=Array):
        if obj["name"] in hidden:
            obj["visible"] = False
    theirs = [shape(name, Length=1, Width=5 if name in widened else 1) for name in file_names]

    kept = hidden & set(base_names) - set(file_names)
    assert merged(base, live, model(theirs)) == (["objects"] if kept else [])
    hid = hidden & set(base_names)
    result = objects(live)
    assert [obj for obj in result if obj["name"] not in kept] == [
        {**obj, "visible": obj["name"] not in hid} for obj in theirs
    ]
    assert sorted(obj["name"] for obj in result if obj["name"] in kept) == sorted(kept)
    assert {obj["name"] for obj in result if not obj["visible"]} == hid
