"""A document's history, replayed from its update log into a copy that can step back and forth.

The JupyterLab history slider asks for the timestamps of the document's versions, connects to a
room holding a copy, and moves through the versions with undo and redo steps. Here the copy is
built from the log: its checkpoint (the first version), then the logged updates, grouped into one
step per ``step`` seconds of editing so that typing a sentence is one step, not one per key. An
undo manager over the document's content (every root but the ``state`` map) records each step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

from pycrdt import Doc, UndoManager

from ..codec.kinds import DocumentKind
from ..codec.updates import replayed
from ..history.records import LogContents

_UPDATES_PER_TURN = 500  # replaying a long log gives the event loop a turn this often


class Timeline:
    def __init__(self, doc: Doc[Any], undo: UndoManager, timestamps: list[float]) -> None:
        self.doc = doc
        self.timestamps = timestamps  # epoch seconds of each version, oldest first
        self._undo = undo

    @classmethod
    async def replay(cls, kind: DocumentKind, contents: LogContents, step: float) -> Timeline:
        """Build the copy: the checkpoint, then one undo step per group of logged updates."""
        doc = replayed([contents.checkpoint])
        _type_roots(kind, doc)
        roots = doc.keys()
        content = [doc[name] for name in roots if name != "state"]
        undo = UndoManager(scopes=content, capture_timeout_millis=0)  # 0: never merge steps
        timestamps = [contents.checkpoint_time]
        applied = 0
        for when, group in _steps(contents.updates, contents.times, step):
            before = len(undo.undo_stack)
            with doc.transaction():  # one transaction: one undo step
                for update in group:
                    doc.apply_update(update)
            if len(undo.undo_stack) > before:  # state-only changes are not versions
                timestamps.append(when)
            applied += len(group)
            if applied >= _UPDATES_PER_TURN:
                applied = 0
                await asyncio.sleep(0)
        return cls(doc, undo, timestamps)

    def undo(self, steps: int) -> bool:
        """Go ``steps`` versions back (fewer if there are not that many); False if none."""
        return _repeat(self._undo.can_undo, self._undo.undo, steps)

    def redo(self, steps: int) -> bool:
        """Go ``steps`` versions forward (fewer if there are not that many); False if none."""
        return _repeat(self._undo.can_redo, self._undo.redo, steps)

    def close(self) -> None:
        self._undo.clear()


def _type_roots(kind: DocumentKind, doc: Doc[Any]) -> None:
    """Give ``doc``'s roots the types the document class gives them, learnt from a view of an
    empty ``Doc``: a view of ``doc`` itself might observe the replay and change the copy in
    answer (jupyterlab-chat's YChat re-times and moves the messages it sees arrive), making
    versions that never were, which a restore would then apply to the document."""
    probe: Doc[Any] = Doc()
    kind.wrap(probe)
    for name in tuple(probe.keys()):
        doc.get(name, type=type(probe[name]))


def _steps(
    updates: list[bytes], times: list[float], step: float
) -> Iterator[tuple[float, list[bytes]]]:
    """Consecutive updates in groups spanning at most ``step`` seconds, with the time of the
    group's last update."""
    group: list[bytes] = []
    start = last = 0.0
    for update, when in zip(updates, times, strict=True):
        if group and when - start > step:
            yield last, group
            group = []
        if not group:
            start = when
        group.append(update)
        last = when
    if group:
        yield last, group


def _repeat(possible: Callable[[], bool], step: Callable[[], Any], times: int) -> bool:
    if not possible():
        return False
    for _ in range(times):
        if not possible():
            break
        step()
    return True
