"""A JupyterCAD model shared by two servers of a cluster: what people add on either server
reaches the other live and the file once, and when the server writing the file dies with an
object unsaved, the other saves it."""

from __future__ import annotations

from jupytercad_core.jcad_ydoc import YJCad
from pycrdt import Doc

from jupyter_ycollab.document.document import TOOK_OVER

from ..client import CollabClient, wait_until
from ..test_jupytercad import BOX, CONE, SPHERE, add_object, model, names, names_on_disk
from .cluster import Cluster

NAME = "part.jcad"


async def test_two_servers_build_one_model_and_a_takeover_saves_the_unsaved_object(
    cluster: Cluster,
) -> None:
    cluster.path(NAME).write_bytes(model(BOX))
    first, second = await cluster.start(2, save_delay=3.0, max_save_delay=6.0)
    people = []
    for server in (first, second):  # Alice on the first (the writer: it opened first), Bob
        session = await server.put_session(NAME, "text", "jcad")
        person = CollabClient(YJCad(Doc()), server.room_url(session), server.headers)
        await person.sync(10)
        people.append(person)
    alice, bob = people

    add_object(bob, SPHERE)
    await wait_until(lambda: names(alice) == ["Box 1", "Sphere 1"], 5, "Bob's sphere at Alice's")
    path = cluster.path(NAME)
    await wait_until(lambda: names_on_disk(path) == ["Box 1", "Sphere 1"], 10, "the file")

    add_object(alice, CONE)
    await wait_until(lambda: len(names(bob)) == 3, 5, "Alice's cone at Bob's")
    await cluster.sigkill(first)  # the writer, with the cone unsaved

    whole = ["Box 1", "Sphere 1", "Cone 1"]
    await wait_until(lambda: names_on_disk(path) == whole, 15, "the cone saved by the other")
    assert names(bob) == whole
    assert TOOK_OVER in second.log(), "the server that took over says so in its log"
    for person in people:
        await person.close()
