"""Two users run cells of one notebook on a real kernel (ipykernel): what is run on one page,
its outputs and its execution count, shows on both, once, and is saved to the file.

Both ways a cell's outputs reach the shared notebook, each on a server of its own:
- ``page``: JupyterLab's own, the page that ran the cell writes its outputs as the kernel sends
  them (a stream's text grows message by message);
- ``server``: with jupyter-server-nbmodel, whose page plugin asks the server to run the cell
  (``POST /api/kernels/{id}/execute``) and whose server writes the outputs into the room's
  document, found through the stand-in for jupyter-collaboration (compat/standin.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from conftest import NewUser
from documents import TestFolder
from lab_server import LabServer
from pages import LabPage, expect_no_dialog
from waiting import wait_for_value

COUNTING = "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)"
ANSWER = "6 * 7"
EXECUTE = "/execute"  # jupyter-server-nbmodel's route: /api/kernels/{id}/execute


@pytest.fixture(scope="module", params=["page", "server"])
def lab_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """A server of its own for each way cells run: without jupyter-server-nbmodel (its server
    extension and its page plugin off, see jupyter_server_test_config.py), or with it."""
    runs_in = request.param
    if runs_in == "server":
        pytest.importorskip("jupyter_server_nbmodel", reason="jupyter-server-nbmodel is missing")
    server = LabServer(home=tmp_path_factory.mktemp(f"lab-kernel-{runs_in}"))
    if runs_in == "page":
        server.extra_env["YCOLLAB_UI_NBMODEL"] = "0"
        lab_config = server.home / "jupyter-config" / "labconfig"
        lab_config.mkdir(parents=True)
        disabled = {"disabledExtensions": {"@datalayer/jupyter-server-nbmodel": True}}
        (lab_config / "page_config.json").write_text(json.dumps(disabled))
    server.start()
    yield server
    server.stop()


def server_executions(*users: LabPage) -> list[str]:
    """The requests to run a cell on the server that these pages send, from now on."""
    sent: list[str] = []
    for user in users:
        user.page.on("request", lambda r: sent.append(r.url) if EXECUTE in r.url else None)
    return sent


def assert_ran_in(lab_server: LabServer, executions: list[str]) -> None:
    """The cells ran the way this server is set up for: in the page, or on the server."""
    if lab_server.extra_env.get("YCOLLAB_UI_NBMODEL") == "0":
        assert executions == [], "the page asked the server to run cells"
    else:
        assert executions, "the page ran the cells itself"


def open_with_kernel(path: str, *users: LabPage) -> None:
    """Open ``path`` in each page in turn, the first starting the kernel, the next joining it."""
    for user in users:
        user.goto(path, workspace=user.workspace)
        user.wait_loaded(user.cell_editors().first)
        user.choose_kernel()


def expect_saved(
    folder: TestFolder, name: str, expected: list[tuple[int | None, list[str]]], *, what: str
) -> None:
    """Wait until the file holds these execution counts and outputs (see ``saved_outputs``)."""
    wait_for_value(lambda: saved_outputs(folder, name), expected, timeout=30, what=what)


def saved_outputs(folder: TestFolder, name: str) -> list[tuple[int | None, list[str]]] | None:
    """Per cell on disk, its execution count and its outputs' text; None while mid-write."""
    try:
        notebook = json.loads(folder.read_text(name))
    except (OSError, json.JSONDecodeError):
        return None
    return [
        (
            cell.get("execution_count"),
            [
                "".join(output.get("text") or output.get("data", {}).get("text/plain", ""))
                for output in cell["outputs"]
            ],
        )
        for cell in notebook["cells"]
    ]


def test_outputs_of_cells_run_on_either_page_show_once_on_both_and_are_saved(
    folder: TestFolder, new_user: NewUser, lab_server: LabServer
) -> None:
    path = folder.write_notebook("run.ipynb", [COUNTING, ANSWER])
    alice, bob = new_user("A"), new_user("B")
    executions = server_executions(alice, bob)
    open_with_kernel(path, alice, bob)

    alice.run_cell(0)
    counted = [("[1]:", "0\n1\n2"), ("[]:", "")]
    bob.expect_outputs(counted)
    alice.expect_outputs(counted)

    bob.run_cell(1)  # Shift+Enter on the last cell also adds a cell below it
    answered = [("[1]:", "0\n1\n2"), ("[2]:", "42"), ("[]:", "")]
    alice.expect_outputs(answered)
    bob.expect_outputs(answered)
    expect_saved(
        folder,
        "run.ipynb",
        [(1, ["0\n1\n2\n"]), (2, ["42"]), (None, [])],
        what="the file to hold both cells' outputs",
    )

    alice.run_cell(0)  # run again: its outputs are replaced, not added to
    rerun = [("[3]:", "0\n1\n2"), ("[2]:", "42"), ("[]:", "")]
    bob.expect_outputs(rerun)
    alice.expect_outputs(rerun)
    expect_saved(
        folder,
        "run.ipynb",
        [(3, ["0\n1\n2\n"]), (2, ["42"]), (None, [])],
        what="the file to hold the outputs of the second run",
    )
    expect_no_dialog(alice, bob)
    assert_ran_in(lab_server, executions)


PROGRESS = (
    "import time\nfrom IPython.display import clear_output, display\n"
    "for i in range(5):\n    print(f'\\r{i}', end='', flush=True)\n    time.sleep(0.1)\n"
    "print()\nfor i in range(3):\n    clear_output(wait=True)\n    display(f'step {i}')\n"
    "    time.sleep(0.1)\n"
    "print('x' * 3 + '\\n' + 'y')"
)


def test_progress_and_cleared_outputs_end_the_same_on_both_pages_and_on_disk(
    folder: TestFolder, new_user: NewUser, lab_server: LabServer
) -> None:
    path = folder.write_notebook("progress.ipynb", [PROGRESS])
    alice, bob = new_user("A"), new_user("B")
    executions = server_executions(alice, bob)
    open_with_kernel(path, alice, bob)
    alice.run_cell(0, keys="Control+Enter")
    final = [("[1]:", "'step 2'|xxx\ny")]
    alice.expect_outputs(final)
    bob.expect_outputs(final)
    expect_saved(
        folder,
        "progress.ipynb",
        [(1, ["'step 2'", "xxx\ny\n"])],
        what="the file to hold the last outputs",
    )
    expect_no_dialog(alice, bob)
    assert_ran_in(lab_server, executions)
