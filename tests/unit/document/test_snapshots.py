"""A document's state kept as parts (document/snapshots.py), merged where saves are rendered
(document/render.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from pycrdt import Doc, Text

from jupyter_ycollab.codec.building import build_base
from jupyter_ycollab.codec.content import read_content
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.document.render import RenderJob, render
from jupyter_ycollab.document.snapshots import Snapshots

TEXT = DocumentKind.parse("text", "file")


def _loaded(text: str) -> tuple[Doc[Any], bytes]:
    base = build_base(TEXT, text)
    doc: Doc[Any] = Doc()
    doc.apply_update(base)
    return doc, base


def _type(doc: Doc[Any], text: str) -> None:
    source = doc.get("source", type=Text)
    for char in text:
        source.insert(len(source), char)


async def test_the_parts_render_as_the_document_and_merge_into_one_head() -> None:
    doc, base = _loaded("ab")
    snapshots = Snapshots(doc, [base])
    _type(doc, "cd")

    parts = snapshots.take()
    rendered = render(RenderJob(TEXT, parts))
    _type(doc, "e")  # while the save renders
    snapshots.merged(parts, rendered.snapshot)

    assert len(parts) == 3 and rendered.content == "abcd"
    assert snapshots.take()[0] is rendered.snapshot and len(snapshots.take()) == 2
    assert render(RenderJob(TEXT, snapshots.take())).content == "abcde"
    snapshots.close()


async def test_many_updates_are_folded_and_a_stale_merge_is_ignored() -> None:
    doc, base = _loaded("")
    snapshots = Snapshots(doc, [base])
    parts = snapshots.take()
    _type(doc, "x" * 20_000)  # far more update bytes than the fold bound
    await asyncio.sleep(0)  # the fold runs on the next turn of the loop

    snapshots.merged(parts, base)  # taken before the fold: ignored

    (head,) = snapshots.take()
    assert read_content(TEXT, _doc(head)) == "x" * 20_000
    snapshots.close()


def _doc(update: bytes) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return doc


def test_the_full_state_is_encoded_once_per_change() -> None:
    doc, base = _loaded("ab")
    snapshots = Snapshots(doc, [base])
    assert snapshots.full_state() is base  # unchanged since loaded: nothing encoded

    _type(doc, "c")
    first = snapshots.full_state()
    assert read_content(TEXT, _doc(first)) == "abc"
    assert snapshots.full_state() is first and snapshots.take() == (first,)

    snapshots.close()
    _type(doc, "d")  # closed: no longer followed, so never served stale
    assert read_content(TEXT, _doc(snapshots.full_state())) == "abcd"


def test_the_state_may_start_as_a_log_replay() -> None:
    doc, base = _loaded("ab")
    before = doc.get_state()
    _type(doc, "c")
    parts = [base, doc.get_update(before)]  # a checkpoint and an update, as a log holds them
    snapshots = Snapshots(doc, parts)
    assert snapshots.take() == tuple(parts)
    assert read_content(TEXT, _doc(snapshots.full_state())) == "abc"
    snapshots.close()
