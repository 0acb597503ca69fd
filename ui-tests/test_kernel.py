"""Two users run cells of one notebook on a real kernel (ipykernel): what is run on one page,
its outputs and its execution count, shows on both, once, and is saved to the file.

JupyterLab writes a cell's outputs into the shared notebook as the kernel sends them (a
stream's text grows message by message), so the room carries every one of those writes."""

from __future__ import annotations

import json

from conftest import NewUser
from documents import TestFolder
from pages import expect_no_dialog
from waiting import wait_for_value

COUNTING = "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)"
ANSWER = "6 * 7"


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
    folder: TestFolder, new_user: NewUser
) -> None:
    path = folder.write_notebook("run.ipynb", [COUNTING, ANSWER])
    alice, bob = new_user("A"), new_user("B")
    alice.goto(path, workspace=alice.workspace)
    alice.wait_loaded(alice.cell_editors().first)
    alice.choose_kernel()
    bob.goto(path, workspace=bob.workspace)
    bob.wait_loaded(bob.cell_editors().first)
    bob.choose_kernel()

    alice.run_cell(0)
    counted = [("[1]:", "0\n1\n2"), ("[]:", "")]
    bob.expect_outputs(counted)
    alice.expect_outputs(counted)

    bob.run_cell(1)  # Shift+Enter on the last cell also adds a cell below it
    answered = [("[1]:", "0\n1\n2"), ("[2]:", "42"), ("[]:", "")]
    alice.expect_outputs(answered)
    bob.expect_outputs(answered)
    wait_for_value(
        lambda: saved_outputs(folder, "run.ipynb"),
        [(1, ["0\n1\n2\n"]), (2, ["42"]), (None, [])],
        timeout=30,
        what="the file to hold both cells' outputs",
    )

    alice.run_cell(0)  # run again: its outputs are replaced, not added to
    rerun = [("[3]:", "0\n1\n2"), ("[2]:", "42"), ("[]:", "")]
    bob.expect_outputs(rerun)
    alice.expect_outputs(rerun)
    wait_for_value(
        lambda: saved_outputs(folder, "run.ipynb"),
        [(3, ["0\n1\n2\n"]), (2, ["42"]), (None, [])],
        timeout=30,
        what="the file to hold the outputs of the second run",
    )
    expect_no_dialog(alice, bob)


PROGRESS = (
    "import time\nfrom IPython.display import clear_output, display\n"
    "for i in range(5):\n    print(f'\\r{i}', end='', flush=True)\n    time.sleep(0.1)\n"
    "print()\nfor i in range(3):\n    clear_output(wait=True)\n    display(f'step {i}')\n"
    "    time.sleep(0.1)\n"
    "print('x' * 3 + '\\n' + 'y')"
)


def test_progress_and_cleared_outputs_end_the_same_on_both_pages_and_on_disk(
    folder: TestFolder, new_user: NewUser
) -> None:
    path = folder.write_notebook("progress.ipynb", [PROGRESS])
    alice, bob = new_user("A"), new_user("B")
    for user in (alice, bob):
        user.goto(path, workspace=user.workspace)
        user.wait_loaded(user.cell_editors().first)
        user.choose_kernel()
    alice.run_cell(0, keys="Control+Enter")
    final = [("[1]:", "'step 2'|xxx\ny")]
    alice.expect_outputs(final)
    bob.expect_outputs(final)
    wait_for_value(
        lambda: saved_outputs(folder, "progress.ipynb"),
        [(1, ["'step 2'", "xxx\ny\n"])],
        timeout=30,
        what="the file to hold the last outputs",
    )
