"""Versions of the timeline: logged updates grouped by time, one undo step per group."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.history.records import LogContents
from jupyter_ycollab.rooms.timeline import Timeline, _steps


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


async def test_a_chat_timeline_is_the_log_replayed_as_it_is() -> None:
    """jupyterlab-chat's YChat re-times and moves messages it sees arrive once the chat was
    saved; the timeline's copy must hold the logged messages as they were, not re-timed ones
    (a restore would apply those to the document). The author's client id is the largest a
    client id can be, so its ``dirty = false`` wins over anything a view of the copy writes."""
    author: Doc[Any] = Doc(client_id=2**53 - 1)
    messages = author.get("messages", type=Array)
    state = author.get("state", type=Map)
    state["dirty"] = True
    checkpoint = author.get_update()
    updates: list[bytes] = []
    author.observe(lambda event: updates.append(event.update))
    for body, saved in (("first", False), ("second", True)):
        message = {"id": body, "body": body, "time": 1.0, "sender": "ann", "raw_time": True}
        messages.append(Map(message))
        if not saved:
            state["dirty"] = False  # a save
    contents = LogContents("L", checkpoint, updates=updates, times=[10.0, 11.0, 12.0])

    timeline = await Timeline.replay(DocumentKind.parse("text", "chat"), contents, step=0.5)
    await asyncio.sleep(0)  # one turn of the loop: YChat schedules its changes for then

    assert timeline.doc.get("messages", type=Array).to_py() == messages.to_py()
    assert timeline.timestamps == [0.0, 10.0, 12.0]
