"""JupyterCAD in the browser: its own front end (jupytercad-core's JupyterLab extension, which
draws the model in 3D) opens a ``.jcad`` model for two users through our rooms. What one adds
reaches the other and the file; what another program writes to the file reaches both.

The object is added through the widget's shared model (``JupyterCadDoc.addObject``), which is
what JupyterCAD's toolbar commands call: the dialogs and the 3D view around them are
JupyterCAD's own, not what this tests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import NewUser
from documents import TestFolder
from pages import LabPage
from waiting import wait_for_value

PLACEMENT = {"Position": [0, 0, 0], "Axis": [0, 0, 1], "Angle": 0}


def shape(name: str, kind: str, **parameters: Any) -> dict[str, Any]:
    return {
        "name": name,
        "visible": True,
        "shape": f"Part::{kind}",
        "parameters": {**parameters, "Placement": PLACEMENT},
    }


def model(*objects: dict[str, Any]) -> str:
    jcad = {"schemaVersion": "3.0.0", "objects": list(objects), "options": {}, "metadata": {}}
    return json.dumps({**jcad, "outputs": {}}, indent=2)


BOX = shape("Box 1", "Box", Length=1, Width=1, Height=1)
CONE = shape("Cone 1", "Cone", Radius1=1, Radius2=0, Height=3, Angle=360)
SPHERE = shape("Sphere 1", "Sphere", Radius=2, Angle1=-90, Angle2=90, Angle3=360)


def a_cone_added_by_alice(folder: TestFolder, new_user: NewUser) -> tuple[LabPage, LabPage]:
    """Alice and Bob open a model holding a box; Alice adds a cone, and Bob's model holds it."""
    path = folder.write_text("part.jcad", model(BOX))
    alice, bob = new_user("A"), new_user("B")
    alice.open_model(path, workspace=alice.workspace)
    bob.open_model(path, workspace=bob.workspace)
    alice.add_model_object(CONE)
    bob.expect_model(["Box 1", "Cone 1"])
    return alice, bob


def test_two_users_build_one_model_in_jupytercad(folder: TestFolder, new_user: NewUser) -> None:
    alice, bob = a_cone_added_by_alice(folder, new_user)

    def saved() -> list[str]:
        try:
            return sorted(
                obj["name"] for obj in json.loads(folder.read_text("part.jcad"))["objects"]
            )
        except json.JSONDecodeError:  # being written
            return []

    wait_for_value(saved, ["Box 1", "Cone 1"], timeout=30, what="the file", pause=alice.pause)

    folder.write_text("part.jcad", model(BOX, CONE, SPHERE))  # another program adds a sphere
    for user in (alice, bob):
        user.expect_model(["Box 1", "Cone 1", "Sphere 1"])


@pytest.mark.reference_bug("the file on disk drops the object not saved yet")
@pytest.mark.usefixtures("autosave_off")
def test_a_change_on_disk_keeps_the_object_not_saved_yet(
    folder: TestFolder, new_user: NewUser
) -> None:
    alice, bob = a_cone_added_by_alice(folder, new_user)
    assert "Cone 1" not in folder.read_text("part.jcad"), "saved despite autosave off"

    folder.write_text("part.jcad", model(BOX, SPHERE))  # another program adds a sphere
    for user in (alice, bob):
        user.expect_model(["Box 1", "Cone 1", "Sphere 1"])
