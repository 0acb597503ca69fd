"""The history slider (the "Document Timeline" status bar item): A slides back to the version
the notebook was loaded with, which B does not see until A restores it; then both see it and the
file holds it. A can look back again after that."""

from __future__ import annotations

from playwright.sync_api import expect

from conftest import NewUser
from documents import TestFolder
from pages import SYNC_TIMEOUT, LabPage

TIMELINE_BUTTON = '[title="Document Timeline"]'
SLIDER = "input.jp-Slider"
RESTORE = "button.jp-restoreBtn"


def slide_to(user: LabPage, version: int) -> None:
    """Open the timeline if needed and move its slider to ``version`` (0: the oldest)."""
    slider = user.page.locator(SLIDER)
    if not slider.is_visible():
        user.page.locator(TIMELINE_BUTTON).click()
        expect(slider).to_be_visible(timeout=SYNC_TIMEOUT * 1000)
    slider.fill(str(version))


def test_the_history_slider_shows_and_restores_an_earlier_version(
    folder: TestFolder, new_user: NewUser
) -> None:
    path = folder.write_notebook("history.ipynb", ["start"])
    alice, bob = new_user("A"), new_user("B")
    alice.open_notebook(path, workspace=alice.workspace)
    bob.open_notebook(path, workspace=bob.workspace)
    alice.append_to_cell(0, " one")
    bob.expect_cells(["start one"])
    bob.append_to_cell(0, " two")
    alice.expect_cells(["start one two"])

    slide_to(alice, 0)

    alice.expect_cells(["start"])
    bob.expect_cells(["start one two"])  # looking back changes nobody's document

    alice.page.locator(RESTORE).click()

    bob.expect_cells(["start"])
    alice.expect_cells(["start"])
    folder.expect_notebook("history.ipynb", ["start"])

    # A looks back again: a second timeline, which takes the place of the first (A left it).
    bob.append_to_cell(0, " three")
    alice.expect_cells(["start three"])
    slide_to(alice, 0)
    alice.expect_cells(["start"])
    bob.expect_cells(["start three"])
    assert alice.dialog_texts() == [] and bob.dialog_texts() == []
