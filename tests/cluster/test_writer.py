"""One writer per file: with people typing on two servers, the file is written by one server
(about once per burst of typing, not once per server per burst), and when that server dies the
other takes over within seconds and saves what the dead one had accepted but not written.

Writes are counted by the kernel (tests/fswatch.py, inotify), whoever makes them. The server
that opens the room first takes the lease (docs/cluster.md), so here the first one writes.
"""

from __future__ import annotations

from jupyter_ycollab.document.document import TOOK_OVER

from ..fswatch import WriteCounter
from .cluster import Cluster
from .markers import everyone_sees, file_holds, markers, sees, type_interleaved, writes_settle

NAME = "notes.txt"
BURSTS = 3


async def test_the_file_is_written_by_one_server_about_once_per_burst(cluster: Cluster) -> None:
    first, second = await cluster.start(2)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)
    writes = WriteCounter(cluster.root)
    typed: list[str] = []
    per_burst: list[int] = []
    try:
        for burst in range(BURSTS):
            ours, theirs = markers(f"a{burst}-", 5), markers(f"b{burst}-", 5)
            type_interleaved((alice, ours), (bob, theirs))  # one burst, both sides at once
            typed += ours + theirs
            await everyone_sees([alice, bob], typed, 5)
            await file_holds(cluster, NAME, typed, 5)
            per_burst.append(await writes_settle(writes, NAME) - sum(per_burst))
    finally:
        writes.close()
    # One writer saves a burst once (twice if a save fell in its middle); two writers twice each.
    assert sum(per_burst) <= BURSTS + 1, (
        f"{NAME} was written {per_burst} times in {BURSTS} bursts of typing on two servers: "
        "more than one server writes it"
    )
    assert cluster.on_disk(NAME) == alice.view() == bob.view()


async def test_when_the_writer_dies_the_other_server_saves_what_it_had_accepted(
    cluster: Cluster,
) -> None:
    # Autosave 3 s after typing stops: long enough that edits Bob saw live are not yet saved
    # when Alice's server (the writer) dies.
    first, second = await cluster.start(2, save_delay=3.0, max_save_delay=6.0)
    cluster.write_text(NAME, "start\n")
    alice = await cluster.open(first, NAME)
    bob = await cluster.open(second, NAME)

    unsaved = markers("a", 10)
    type_interleaved((alice, unsaved))
    # Before any save could carry them (3 s): only the cluster can, live.
    await sees(bob, unsaved, 2, "Bob's view (other server) to show Alice's edits live")
    await cluster.sigkill(first)  # Alice's server, the writer, dies with them unsaved

    late = markers("b", 10)
    type_interleaved((bob, late))  # typed after the writer died: they must reach the file too
    # Takeover within the lease (1 s), then the save delay (3 s): the file within ~5 s.
    await file_holds(cluster, NAME, unsaved + late, 8)
    assert cluster.on_disk(NAME) == bob.view()
    assert TOOK_OVER in second.log(), "the server that took over says so in its log"
