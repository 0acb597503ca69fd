"""Versions of the timeline: logged updates grouped by time, one undo step per group."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Doc, Map, Text

from jupyter_ycollab.content import DocumentKind
from jupyter_ycollab.timeline import Timeline, _steps
from jupyter_ycollab.updatelog import LogContents


@pytest.mark.parametrize(
    ("times", "step", "groups"),
    [
        ([], 1.0, []),
        ([0.0, 0.5, 1.2, 3.0, 3.1], 1.0, [[0.0, 0.5], [1.2], [3.0, 3.1]]),
        ([0.0, 0.9, 1.8, 2.7], 1.0, [[0.0, 0.9], [1.8, 2.7]]),  # measured from a group's start
        ([5.0, 5.0, 5.1], 0.0, [[5.0, 5.0], [5.1]]),  # 0: one version per commit
    ],
)
def test_updates_are_grouped_into_versions_by_time(
    times: list[float], step: float, groups: list[list[float]]
) -> None:
    updates = [str(index).encode() for index in range(len(times))]
    found = list(_steps(updates, times, step))
    sizes = [len(group) for group in groups]
    assert [len(group) for _, group in found] == sizes
    assert [when for when, _ in found] == [group[-1] for group in groups]


async def test_each_version_is_one_undo_step_and_state_changes_are_none() -> None:
    author: Doc[Any] = Doc()
    source = author.get("source", type=Text)
    checkpoint = author.get_update()
    updates = []
    author.observe(lambda event: updates.append(event.update))
    for word in ("one", " two", " three"):
        source.insert(len(source), word)
    author.get("state", type=Map)["dirty"] = True  # not content: not a version
    contents = LogContents("L", checkpoint, updates=updates, times=[10.0, 10.2, 12.0, 13.5])
    contents.checkpoint_time = 9.0

    timeline = await Timeline.replay(DocumentKind.parse("text", "file"), contents, step=1.0)

    assert timeline.timestamps == [9.0, 10.2, 12.0]
    text = timeline.doc.get("source", type=Text)
    assert str(text) == "one two three"
    assert timeline.undo(1) and str(text) == "one two"
    assert timeline.undo(5) and str(text) == ""
    assert not timeline.undo(1)
    assert timeline.redo(1) and str(text) == "one two"
    assert timeline.redo(1) and str(text) == "one two three"
    assert not timeline.redo(1)
