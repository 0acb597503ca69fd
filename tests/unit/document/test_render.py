"""Rendering saves (document/render.py): the bytes written directly are nbformat's, byte for byte,
and
the signature is the one the contents manager's ``check_and_sign`` would store (pure)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.sign import NotebookNotary
from pycrdt import Array, Doc, Text, get_state

from jupyter_ycollab.codec.building import build_base
from jupyter_ycollab.codec.digest import digest_of
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.codec.updates import replayed
from jupyter_ycollab.document import render as render_module
from jupyter_ycollab.document.render import content_of, holds_and_digest, state_held
from jupyter_ycollab.fastpath.nbwrite import WrittenNotebook, notebook_bytes
from jupyter_ycollab.fastpath.serialise import FastJob, RenderedBytes, Signing, notary_of, render

NOTEBOOK = DocumentKind.parse("json", "notebook")
TEXT = DocumentKind.parse("text", "file")
BLOB = DocumentKind.parse("base64", "file")
SIGNING = Signing(b"a secret", "sha256")


def _rich_notebook(minor: int = 5) -> dict[str, Any]:
    cells: list[dict[str, Any]] = [
        {
            "cell_type": "code",
            "id": "c1",
            "source": "print('é')\nx = 1\n",
            "metadata": {"trusted": True, "tags": ["a"]},
            "execution_count": 1,
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": "é\nline two\n"},
                {
                    "output_type": "display_data",
                    "data": {"text/html": "<b>x</b>\n<i>y</i>", "image/png": "iVBOR\nw0K"},
                    "metadata": {},
                },
                {
                    "output_type": "execute_result",
                    "execution_count": 1,
                    "data": {"application/json": {"a": [1, 2.5, None]}, "text/plain": "1"},
                    "metadata": {"isolated": True},
                },
                {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t\n1"]},
            ],
        },
        {
            "cell_type": "markdown",
            "id": "m1",
            "source": "# Title\n\n![a](attachment:a.png)",
            "metadata": {},
            "attachments": {"a.png": {"image/png": "iVBOR\nw0K"}},
        },
        {"cell_type": "raw", "id": "r1", "source": "", "metadata": {"format": "text/plain"}},
    ]
    if minor < 5:
        for cell in cells:
            del cell["id"]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3"}, "zé": 1}
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": metadata, "cells": cells}


def _nbformat_bytes(content: dict[str, Any]) -> tuple[bytes, str | None]:
    """What the contents manager's ``save`` writes and signs, with nbformat's own functions."""
    nb = nbformat.from_dict(copy.deepcopy(content))
    notary = NotebookNotary(secret=SIGNING.secret, algorithm=SIGNING.algorithm)
    signature = notary.compute_signature(nb) if notary.check_cells(nb) else None
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    return (text if text.endswith("\n") else text + "\n").encode(), signature


@pytest.mark.parametrize("minor", [4, 5])
def test_notebook_bytes_and_signature_are_nbformats(minor: int) -> None:
    content = _rich_notebook(minor)
    assert notebook_bytes(copy.deepcopy(content), notary_of(SIGNING))[:2] == _nbformat_bytes(
        content
    )


def test_an_untrusted_notebook_is_written_unsigned() -> None:
    content = _rich_notebook()
    del content["cells"][0]["metadata"]["trusted"]  # an HTML output nobody trusted
    data, signature, trusted = notebook_bytes(copy.deepcopy(content), notary_of(SIGNING))
    assert (trusted, signature) == (False, None)
    assert data == _nbformat_bytes(content)[0]


def _flawed(flaw: str) -> dict[str, Any]:
    """A 4.5 notebook whose last cell repeats the first one's id, or lacks one."""
    content = _rich_notebook()
    if flaw == "repeated":
        content["cells"][2]["id"] = "c1"
    else:
        del content["cells"][2]["id"]
    return content


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "contents"])
@pytest.mark.parametrize("flaw", ["repeated", "missing"])
def test_a_render_gives_the_new_ids_the_room_takes_before_it_saves(flaw: str, fast: bool) -> None:
    """Two pages moving one cell at once leave two cells with its id (and a peer's cell may lack
    one, with the update guard off). A render asks the room to make it anew (an update) instead
    of saving; rendered again, it saves them as they are."""
    doc = replayed([build_base(NOTEBOOK, _flawed(flaw))])
    if flaw == "missing":  # the build gives every cell an id: a peer's may lack one
        del doc.get("cells", type=Array)[2]["id"]
    job = FastJob(NOTEBOOK, (doc.get_update(),), to_bytes=True, signing=SIGNING)
    first = render(job) if fast else render_module.render(job)
    assert first.new_ids is not None and not isinstance(first, RenderedBytes)
    doc.apply_update(first.new_ids)
    ids = [str(cell["id"]) for cell in doc.get("cells", type=Array)]
    assert ids[:2] == ["c1", "m1"] and ids[2] not in ("c1", "m1"), ids
    again = FastJob(NOTEBOOK, (doc.get_update(),), to_bytes=True, signing=SIGNING)
    second = render(again) if fast else render_module.render(again)
    assert second.new_ids is None
    if isinstance(second, RenderedBytes):
        assert [cell["id"] for cell in json.loads(second.data)["cells"]] == ids


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(sources=st.lists(_TEXT, max_size=4), outputs=st.lists(_TEXT, max_size=3))
def test_any_sources_and_outputs_give_nbformats_bytes(
    sources: list[str], outputs: list[str]
) -> None:
    content = _rich_notebook()
    for index, source in enumerate(sources):
        cell = {"cell_type": "markdown", "id": f"h{index}", "source": source, "metadata": {}}
        content["cells"].append(cell)
    for text in outputs:
        output = {"output_type": "stream", "name": "stderr", "text": text}
        content["cells"][0]["outputs"].append(output)
    assert notebook_bytes(copy.deepcopy(content), notary_of(SIGNING))[:2] == _nbformat_bytes(
        content
    )


def test_render_skips_the_bytes_of_an_unchanged_document() -> None:
    base = build_base(NOTEBOOK, _rich_notebook())
    rendered = render(FastJob(NOTEBOOK, (base,), base=base, to_bytes=True, signing=SIGNING))
    assert rendered.unchanged and not isinstance(rendered, RenderedBytes)


@pytest.mark.parametrize(
    ("kind", "content", "data"),
    [(TEXT, "a\nb\n", b"a\r\nb\r\n"), (BLOB, "AAEC", b"\x00\x01\x02")],
)
def test_render_gives_text_and_binary_files_bytes_and_hash(
    kind: DocumentKind, content: str, data: bytes
) -> None:
    newline = "\r\n" if kind is TEXT else "\n"
    rendered = render(FastJob(kind, (build_base(kind, content),), newline, to_bytes=True))
    assert rendered.data == data
    assert rendered.file_hash == hashlib.sha256(data).hexdigest()
    assert rendered.digest == digest_of(content.replace("\n", newline))


def test_render_for_the_contents_manager_gives_the_content() -> None:
    content = _rich_notebook()
    base = build_base(NOTEBOOK, content)
    rendered = render(FastJob(NOTEBOOK, (base,), base=base))
    assert not isinstance(rendered, RenderedBytes) and rendered.unchanged
    assert rendered.content == content_of(NOTEBOOK, base)


def test_a_notebook_nbformat_cannot_write_is_left_to_the_contents_manager() -> None:
    content = _rich_notebook()
    del content["cells"][0]["cell_type"]  # possible only with validate_updates off
    rendered = render(FastJob(NOTEBOOK, (build_base(NOTEBOOK, content),), to_bytes=True))
    assert not isinstance(rendered, RenderedBytes) and rendered.content["cells"][0]["id"] == "c1"


def _variants() -> list[dict[str, Any]]:
    transient = _rich_notebook()
    transient["metadata"].update(orig_nbformat=3, orig_nbformat_minor=0, signature="sha256:x")
    marked = _rich_notebook()
    marked["cells"][1]["metadata"]["trusted"] = True  # signed as it is, not written
    empty = {**_rich_notebook(), "cells": []}
    return [transient, marked, empty]


@pytest.mark.parametrize("content", _variants())
def test_remembered_cells_give_nbformats_bytes_and_signature(content: dict[str, Any]) -> None:
    """Twice: the second time from the cells remembered the first time."""
    for _ in range(2):
        data, signature, _trusted = notebook_bytes(copy.deepcopy(content), notary_of(SIGNING))
        assert (data, signature) == _nbformat_bytes(content)


def test_a_remembered_cell_is_taken_only_while_it_equals_the_cell_to_write() -> None:
    content = _rich_notebook()
    notebook_bytes(copy.deepcopy(content), notary_of(SIGNING))  # remembered, by cell id
    content["cells"][0]["source"] = "y = 2\n"  # same id, other content
    content["cells"][0]["outputs"][0]["text"] = "other\n"
    assert notebook_bytes(copy.deepcopy(content), notary_of(SIGNING))[:2] == _nbformat_bytes(
        content
    )


def test_a_remembered_top_level_is_taken_only_while_it_equals_the_notebooks() -> None:
    """The top level is remembered by the first cell's id: a save after a metadata change, and
    another notebook with the same cell ids (a copy), get their own bytes and signature."""
    content = _rich_notebook()
    notebook_bytes(copy.deepcopy(content), notary_of(SIGNING))  # remembered
    changed = copy.deepcopy(content)
    changed["metadata"]["kernelspec"]["display_name"] = "Python 3 (changed)"
    changed["metadata"]["title"] = "a title"
    copied = copy.deepcopy(content)
    copied["metadata"] = {"language_info": {"name": "python"}}
    for other in (changed, copied, content, changed):
        expected = _nbformat_bytes(other)
        assert notebook_bytes(copy.deepcopy(other), notary_of(SIGNING))[:2] == expected
    digests = {WrittenNotebook(copy.deepcopy(other)).digest for other in (content, changed)}
    assert len(digests) == 2


def test_big_cells_are_remembered_and_taken_again() -> None:
    """A notebook of 20 outputs of 1 MB: every cell is remembered (the budget holds them) and
    the next save takes them as they are instead of serialising 20 MB again."""
    image = {"output_type": "display_data", "data": {"image/png": "A" * 2**20}, "metadata": {}}
    cells = [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "source": f"plot({i})",
            "metadata": {},
            "execution_count": i,
            "outputs": [{**image, "data": {"image/png": f"{i}" * 2**20}}],
        }
        for i in range(20)
    ]
    content = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    first = WrittenNotebook(copy.deepcopy(content))
    again = WrittenNotebook(copy.deepcopy(content))
    assert all(a is b for a, b in zip(first.cells, again.cells, strict=True))
    assert again.data() == _nbformat_bytes(content)[0]


def test_the_digest_tells_equal_content_without_its_transient_keys() -> None:
    base = build_base(NOTEBOOK, _rich_notebook())
    same = render(FastJob(NOTEBOOK, (base,), base=base))
    marked = _rich_notebook()
    marked["metadata"]["signature"] = "sha256:x"
    marked["cells"][0]["metadata"]["trusted"] = False
    edited = _rich_notebook()
    edited["cells"][2]["source"] = "changed"
    for content, unchanged in ((marked, True), (edited, False)):
        job = FastJob(NOTEBOOK, (build_base(NOTEBOOK, content),), base=base)
        assert render(job).unchanged is unchanged
    assert same.unchanged


def test_a_big_files_hash_is_its_bytes() -> None:
    """Hashed in a thread beside encoding the merged state (which is still the parts merged)."""
    base = build_base(TEXT, "x" * 3_000_000)
    doc: Doc[Any] = Doc()
    doc.apply_update(base)
    doc.get("source", type=Text).insert(0, "y")
    edit = doc.get_update(get_state(base))
    rendered = render(FastJob(TEXT, (base, edit), to_bytes=True))
    assert rendered.data == b"y" + b"x" * 3_000_000
    assert rendered.file_hash == hashlib.sha256(rendered.data).hexdigest()
    assert rendered.snapshot == doc.get_update()


def test_a_look_at_a_file_builds_its_content_once_for_both_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A takeover's first look at the file (watch.py ``_adopt``) needs both whether the file
    holds the document and the file's digest: one build of the file gives both (for 10,000
    cells, 0.65 s instead of 1). Cell ids count unless the manager makes them anew at each read."""
    file = _rich_notebook()
    renamed = copy.deepcopy(file)
    for cell in renamed["cells"]:
        cell["id"] += "-new"
    builds = []

    def counted(kind: DocumentKind, content: Any) -> bytes:
        builds.append(kind)
        return build_base(kind, content)

    monkeypatch.setattr(render_module, "build_base", counted)
    file_digest = digest_of(content_of(NOTEBOOK, build_base(NOTEBOOK, file)))
    ours = build_base(NOTEBOOK, renamed)

    assert holds_and_digest(NOTEBOOK, ours, file, "\n", False) == (True, file_digest)
    assert holds_and_digest(NOTEBOOK, ours, file, "\n", True) == (False, file_digest)
    assert len(builds) == 2  # once per look


def _typed(*texts: str) -> tuple[list[bytes], list[bytes]]:
    """A text document typed into, one insertion a step: its log (checkpoint, then updates)
    and its state after each step."""
    doc: Doc[Any] = Doc()
    source = doc.get("source", type=Text)
    steps, states = [doc.get_update()], [doc.get_update()]
    for text in texts:
        seen = doc.get_state()
        source += text
        steps.append(doc.get_update(seen))
        states.append(doc.get_update())
    return steps, states


def test_state_held_is_the_step_a_file_holds_with_the_files_digest() -> None:
    steps, states = _typed("a", "b", "-", "c")
    digest = digest_of(content_of(TEXT, build_base(TEXT, "ab-")))

    assert state_held(TEXT, steps, "ab-", "\n", True, last=10) == (states[3], digest)
    latest = state_held(TEXT, steps, "ab-c", "\n", True, last=1)
    assert latest is not None and latest[0] == states[4]
    assert state_held(TEXT, steps, "abc", "\n", True, last=10) is None  # never this content


def test_state_held_looks_only_at_the_last_steps() -> None:
    steps, _ = _typed("a", "b", "c", "d")

    assert state_held(TEXT, steps, "ab", "\n", True, last=2) is not None
    assert state_held(TEXT, steps, "ab", "\n", True, last=1) is None


def test_state_held_sets_cell_ids_aside_for_a_manager_that_makes_them_anew() -> None:
    notebook = _rich_notebook()
    state = build_base(NOTEBOOK, notebook)
    renamed = copy.deepcopy(notebook)
    for number, cell in enumerate(renamed["cells"]):
        cell["id"] = f"new-{number}"

    assert state_held(NOTEBOOK, [state], renamed, "\n", False, last=5) is not None
    assert state_held(NOTEBOOK, [state], renamed, "\n", True, last=5) is None
