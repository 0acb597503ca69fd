"""A writer killed after it wrote the file and before the other servers heard of that save:
the server taking over finds the file changed since the last save it knows, and it must not
merge what it holds already (every edit the dead writer saved came through the cluster) as if
the file's content were new: that doubled the text."""

from __future__ import annotations

from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, type_interleaved

NAME = "notes.txt"
HELD = {"FileContentsManager": {"post_save_hook": "tests.cluster.holdsave.hold"}}


async def test_a_writer_killed_between_its_write_and_telling_the_others_doubles_nothing(
    cluster: Cluster,
) -> None:
    first, second = await cluster.start(2, config=HELD, save_delay=0.5, max_save_delay=2.0)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)
    saved = markers("a", 5) + markers("b", 5)
    type_interleaved((alice, saved[:5]), (bob, saved[5:]))
    await everyone_sees([alice, bob], saved, 5)

    flag = cluster.root.parent / "hold-saves"
    flag.touch()  # the writer's next save stops once the file is written
    later = markers("c", 5)
    type_interleaved((bob, later))
    await file_holds(cluster, NAME, saved + later, 10)
    more = markers("d", 5)
    type_interleaved((bob, more))  # not saved: the writer is held
    await cluster.sigkill(first)
    flag.unlink()

    await file_holds(cluster, NAME, saved + later + more, 10)
    assert cluster.on_disk(NAME) == bob.view()
