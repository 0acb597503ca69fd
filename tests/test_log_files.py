"""The update log files of a real server: where they live, and what a server does with logs it
cannot trust (damaged, or written by an unknown version)."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import nbformat
import pytest

from .client import wait_until
from .harness import append, cell_sources, make_notebook, sources_on_disk
from .servers import (
    ServerSeries,
    assert_stays,
    disconnected,
    holds,
    log_name,
    notebook_peer,
    successor,
)

# The record framing the log format documents: u32 length | u32 crc32(kind + payload) | u8 kind.
FRAME = struct.Struct("<IIB")


@pytest.fixture
def series(tmp_path: Path) -> Iterator[ServerSeries]:
    settings = {"log_dir": str(tmp_path / "my-logs"), "save_delay": 60.0, "max_save_delay": 120.0}
    made = ServerSeries(tmp_path / "home", tmp_path / "root", settings)
    yield made
    made.kill_all()


def records(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, kind, payload) of each record."""
    found, offset = [], 0
    while offset + FRAME.size <= len(data):
        length, _crc, kind = FRAME.unpack_from(data, offset)
        found.append((offset, kind, data[offset + FRAME.size : offset + FRAME.size + length]))
        offset += FRAME.size + length
    return found


def damage_a_middle_record(path: Path) -> bytes:
    """Flip one byte of the second record (not the last one): damage, not a torn tail."""
    data = bytearray(path.read_bytes())
    found = records(bytes(data))
    assert len(found) > 2, f"expected several records in {path.name}"
    offset = found[1][0] + FRAME.size
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return bytes(data)


def claim_unknown_version(path: Path) -> bytes:
    """Rewrite the header record (well formed, valid checksum) with a version from the future."""
    data = path.read_bytes()
    (_, kind, payload), (second, _, _) = records(data)[:2]
    header = json.loads(payload)
    header["version"] = 999
    new_payload = json.dumps(header).encode()
    crc = zlib.crc32(bytes((kind,)) + new_payload)
    rewritten = FRAME.pack(len(new_payload), crc, kind) + new_payload + data[second:]
    path.write_bytes(rewritten)
    return rewritten


async def test_untrusted_logs_are_moved_aside_and_their_documents_load_from_the_files(
    series: ServerSeries, tmp_path: Path
) -> None:
    log_dir = tmp_path / "my-logs"
    for name in ("a", "b"):
        nbformat.write(make_notebook([f"{name} = 1"]), series.root / f"{name}.ipynb")
    server = await series.start()
    sessions = [await server.put_session(f"{n}.ipynb", "json", "notebook") for n in "ab"]
    clients = [notebook_peer(server, session) for session in sessions]
    for client in clients:
        await client.sync()
        append(client.document.ycells[0]["source"], "  # kept in the log")
    logs = [log_dir / log_name(session) for session in sessions]
    for log in logs:
        await wait_until(partial(holds, log, b"# kept"), 10, f"the edit in {log.name}")
    assert not series.log_dir.exists(), "logs written to the default dir despite log_dir"
    await series.sigkill()
    for client in clients:
        await disconnected(client)

    assert sources_on_disk(series.root / "a.ipynb") == ["a = 1"], "saved: save_delay ignored"

    untrusted = [damage_a_middle_record(logs[0]), claim_unknown_version(logs[1])]
    series.ycollab.update(save_delay=0.1, max_save_delay=0.5)
    server = await series.start()
    for name, session, log, data in zip("ab", sessions, logs, untrusted, strict=True):
        await server.put_session(f"{name}.ipynb", "json", "notebook")
        reader = notebook_peer(server, session)
        await reader.sync()
        assert cell_sources(reader.document) == [f"{name} = 1"], "an untrusted log was replayed"
        aside = list(log_dir.glob(f"{log.name}.unreadable-*"))
        assert len(aside) == 1, sorted(path.name for path in log_dir.iterdir())
        assert aside[0].read_bytes() == data
        await reader.close()

    # The file did not change since these clients' history began: same lineage, clean merge.
    client = successor(clients[0], server.room_url(sessions[0]))
    await client.sync()
    assert client.close_code is None, client.close_reason
    path = series.root / "a.ipynb"
    await wait_until(lambda: sources_on_disk(path) == ["a = 1  # kept in the log"], 10, "save")
    await assert_stays(
        lambda: cell_sources(client.document) == ["a = 1  # kept in the log"],
        0.3,
        "the reconnecting client's edit was duplicated",
    )
    await client.close()
    await series.stop()
