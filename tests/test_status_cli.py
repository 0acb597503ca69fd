"""``jupyter ycollab status`` against a real server in a subprocess: it finds the server as
``jupyter server list`` does (the same runtime dir), asks it with its token, prints its rooms."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .client import notebook_client
from .harness import make_notebook
from .process import JupyterProcess


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


async def status_command(runtime: Path, *args: str) -> Run:
    """``jupyter ycollab status ARGS`` as a user runs it, looking in ``runtime`` for servers."""
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_PLATFORM_DIRS": "1"}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "jupyter_ycollab.cli", "status", *args),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[JupyterProcess]:
    root = tmp_path / "root"
    (root / "work").mkdir(parents=True)
    (root / "work" / "nb.ipynb").write_text(json.dumps(make_notebook(["x = 1"])))
    process = JupyterProcess(tmp_path / "home", root)
    yield process
    process.kill()


async def test_the_command_prints_the_open_rooms_of_the_running_server(
    server: JupyterProcess,
) -> None:
    server.start()
    await server.wait_ready()
    session = await server.put_session("work/nb.ipynb", "json", "notebook")
    client = notebook_client(server.room_url(session), server.headers)
    await client.sync()
    room_id = f"json:notebook:{session['fileId']}"
    runtime = server.home / "runtime"
    try:
        table = await status_command(runtime)
        as_json = await status_command(runtime, "--json")
        by_port = await status_command(runtime, "--port", str(server.port), "--json")
        other_port = await status_command(runtime, "--port", "1")
        wrong_token = await status_command(runtime, "--token", "wrong")
    finally:
        await client.close()

    assert table.code == 0, table.stderr
    assert f"{server.base_url}/  rooms: 1  peers: 1" in table.stdout
    (row,) = [line for line in table.stdout.splitlines() if room_id in line]
    assert row.split()[:5] == ["work/nb.ipynb", "json:notebook", "1", "0", "no"]
    assert row.split()[-1] == room_id
    assert as_json.code == 0, as_json.stderr
    (room,) = json.loads(as_json.stdout)["rooms"]
    assert (room["room_id"], room["path"], room["writers"]) == (room_id, "work/nb.ipynb", 1)
    assert json.loads(by_port.stdout) == json.loads(as_json.stdout)
    assert other_port.code == 1
    assert "no running Jupyter server found on port 1" in other_port.stderr
    assert wrong_token.code == 1
    assert "refused (HTTP 403): the token is wrong" in wrong_token.stderr


async def test_without_a_running_server_it_says_so(tmp_path: Path) -> None:
    run = await status_command(tmp_path / "runtime")
    assert run.code == 1
    assert "no running Jupyter server found" in run.stderr
    assert run.stdout == ""
