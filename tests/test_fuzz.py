"""Fuzzing a live room over real websockets: 10,000 mutated and random frames from one peer
(reconnected whenever the server closes it) while two honest peers edit. The server stays up,
the honest peers never receive a frame they cannot parse, stay connected, converge with the
server, and their edits reach the file, which stays a valid notebook."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text, create_update_message, write_var_uint

from .client import CollabClient, encode_awareness_update, var_string, wait_until
from .harness import Collab, append, cell_sources

FRAMES = int(os.environ.get("YCOLLAB_FUZZ_FRAMES", "10000"))
SEED = 20240607


def real_frames(base: bytes) -> list[bytes]:
    """Frames a real client sends: step1, typing, a new cell, outputs, awareness, a save."""
    doc: Doc[Any] = Doc()
    doc.apply_update(base)
    notebook = YNotebook(doc)
    frames = [b"\x00\x00" + write_var_uint(len(doc.get_state())) + doc.get_state()]
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    append(notebook.ycells[0]["source"], "abc")
    del notebook.ycells[0]["source"][0:1]
    notebook.append_cell({"cell_type": "code", "source": "new", "metadata": {}, "outputs": []})
    notebook.ycells[1]["outputs"].append(
        Map({"output_type": "stream", "name": "stdout", "text": Text("hi\n")})
    )
    notebook.ycells[1]["metadata"]["tags"] = ["a"]
    frames += [create_update_message(update) for update in updates]
    frames.append(b"\x01" + _bytes(encode_awareness_update([(77, 1, {"user": {"n": "f"}})])))
    frames.append(b"\x02" + var_string("save") + write_var_uint(3))
    return frames


def schema_breakers(base: bytes) -> list[bytes]:
    """Valid Yjs updates that would break the notebook."""
    breakers: list[Callable[[YNotebook], None]] = [
        lambda nb: nb.ycells.append(Map({"source": Text("no type"), "metadata": Map()})),
        lambda nb: nb.ycells.append("a string cell"),
        lambda nb: nb.ycells[0].__setitem__("source", "not a text"),
        lambda nb: nb.ycells[0].pop("cell_type"),
        lambda nb: nb.ycells[0]["outputs"].append("not a map"),
        lambda nb: nb.ydoc.get("meta", type=Map).__setitem__("nbformat", "x"),
        lambda nb: nb.ycells.append(Map({"cell_type": "raw", "source": Text(), "x": Array()})),
    ]
    frames = []
    for breaker in breakers:
        doc: Doc[Any] = Doc()
        doc.apply_update(base)
        before = doc.get_state()
        breaker(YNotebook(doc))
        frames.append(create_update_message(doc.get_update(before)))
    return frames


def _bytes(data: bytes) -> bytes:
    return write_var_uint(len(data)) + data


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    frame = bytearray(rng.choice(seeds))
    kind = rng.randrange(8)
    if kind == 0 and frame:  # truncation
        del frame[rng.randrange(len(frame)) :]
    elif kind == 1 and frame:  # bit flips
        for _ in range(rng.randint(1, 4)):
            frame[rng.randrange(len(frame))] ^= 1 << rng.randrange(8)
    elif kind == 2 and frame:  # byte replacements
        for _ in range(rng.randint(1, 4)):
            frame[rng.randrange(len(frame))] = rng.randrange(256)
    elif kind == 3 and len(frame) > 2:  # a length field changed
        frame[2 if frame[0] == 0 else 1] = rng.randrange(256)
    elif kind == 4:  # unknown types and sub-types
        frame[: min(2, len(frame))] = bytes([rng.randrange(256), rng.randrange(256)])
    elif kind == 5:  # huge varints
        frame[1:] = b"\xff" * rng.randint(1, 12) + bytes(frame[2:])
    elif kind == 6:  # random bytes
        frame = bytearray(rng.randbytes(rng.randint(0, 64)))
    else:  # inserted or appended garbage
        frame[rng.randint(0, len(frame)) : 0] = rng.randbytes(rng.randint(1, 16))
    return bytes(frame)


async def send_and_probe(fuzzer: CollabClient[Any], frame: bytes) -> bool:
    """Send one frame, then a query-awareness probe: its answer (or the close) proves the
    server handled the frame. True while the connection stays open."""
    answers = len(fuzzer.received.awareness)
    fuzzer.send(frame)
    fuzzer.send(b"\x03")
    await wait_until(  # polled without a pause: the server runs on this loop
        lambda: not fuzzer.connected or len(fuzzer.received.awareness) > answers,
        10,
        "the probe's answer or the close",
        interval=0,
    )
    return fuzzer.connected


@pytest.mark.fast_path_only(
    reason="a 35 s stress test of the wire and the guard, which do not depend on the file path"
)
@pytest.mark.alone
async def test_fuzzing_a_live_room_harms_no_honest_peer(collab: Collab) -> None:
    collab.write_notebook("nb.ipynb", ["x = 1", "y = 2"])
    session = await collab.put_session("nb.ipynb")
    alice = await collab.open_notebook("nb.ipynb")
    bob = await collab.open_notebook("nb.ipynb")
    room = collab.rooms[collab.room_id(session)]
    base = room.doc.get_update()
    seeds = real_frames(base) + schema_breakers(base)
    rng = random.Random(SEED)
    fuzzer: CollabClient[Any] | None = None
    started, closes = time.monotonic(), 0
    for index in range(FRAMES):
        if fuzzer is None or not fuzzer.connected:
            fuzzer = collab.session_client(session, YNotebook(Doc()))
            fuzzer.dispose()  # it never sends its own edits
            await fuzzer.connect(send_step1=False)
        frame = mutate(rng, seeds) if rng.random() < 0.97 else rng.choice(seeds)
        if not await send_and_probe(fuzzer, frame):
            closes += 1
            collab.clients.remove(fuzzer)
        if index % 500 == 0:
            append(alice.document.ycells[0]["source"], f"<{index}>")
    elapsed = time.monotonic() - started
    assert elapsed < 90, f"{FRAMES} frames took {elapsed:.1f} s"
    assert closes > FRAMES // 4, closes  # the fuzzer really was refused, often

    append(alice.document.ycells[-1]["source"], " # after the storm")
    await bob.wait_for(lambda: cell_sources(bob.document) == cell_sources(alice.document), 10)
    assert cell_sources(await collab.server_notebook("nb.ipynb")) == cell_sources(bob.document)
    for peer in (alice, bob):
        assert peer.connected and not peer.protocol_errors
        nbformat.validate(nbformat.from_dict(peer.document.get()))
    assert (await alice.save(99))["status"] == "success"
    on_disk = nbformat.read(collab.root / "nb.ipynb", as_version=4)
    nbformat.validate(on_disk)
    assert any(cell.source.endswith(" # after the storm") for cell in on_disk.cells)
