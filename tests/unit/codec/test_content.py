"""Deterministic loading and faithful reading of notebooks, text and binary files (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_ydoc import ydocs
from pycrdt import Doc

from jupyter_ycollab.codec.building import build_base
from jupyter_ycollab.codec.content import read_content, split_newlines
from jupyter_ycollab.codec.digest import digest_of
from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.errors import BadRequest

NOTEBOOK_44: dict[str, Any] = {
    "nbformat": 4,
    "nbformat_minor": 4,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "cells": [
        {
            "cell_type": "code",
            "source": "print(1)",
            "metadata": {},
            "execution_count": 3,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}],
        },
        {"cell_type": "markdown", "source": "# Title", "metadata": {}},
    ],
}
NOTEBOOK_EMPTY: dict[str, Any] = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}

NOTEBOOK = DocumentKind.parse("json", "notebook")
TEXT = DocumentKind.parse("text", "file")
BLOB = DocumentKind.parse("base64", "file")


def _load(kind: DocumentKind, content: Any) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.apply_update(build_base(kind, content))
    return doc


@pytest.mark.parametrize("attempt", range(10))
def test_same_content_gives_the_same_crdt_items(attempt: int) -> None:
    """Edits made on one load apply to another load of the same file: their items coincide.

    (Byte equality would be too strict: plain dict values are encoded in hash order.)
    """
    server, client = _load(NOTEBOOK, NOTEBOOK_44), _load(NOTEBOOK, NOTEBOOK_44)
    before = client.get_state()
    shared = NOTEBOOK.wrap(client)
    source = shared.ycells[0]["source"]
    source.insert(0, f"# edit {attempt}\n")
    shared.ycells[0]["metadata"]["tags"] = ["x"]
    second = shared.ycells[1]["source"]
    second.insert(len(second), "!")
    server.apply_update(client.get_update(before))
    assert read_content(NOTEBOOK, server) == read_content(NOTEBOOK, client)
    sources = [cell["source"] for cell in read_content(NOTEBOOK, server)["cells"]]
    assert sources == [f"# edit {attempt}\nprint(1)", "# Title!"]


@pytest.mark.parametrize(
    ("kind", "content"),
    [(NOTEBOOK, NOTEBOOK_44), (TEXT, "a\r\nb\n"), (BLOB, "AAEC/w==")],
)
def test_loading_adds_nothing_to_the_content(kind: DocumentKind, content: Any) -> None:
    """No default metadata, no cell ids in a 4.4 notebook, line endings kept, bytes kept."""
    assert read_content(kind, _load(kind, content)) == content


def test_a_notebook_with_no_cells_is_loaded_with_one_empty_code_cell() -> None:
    """As jupyter_ydoc loads it: JupyterLab's collaborative notebook adds no cell of its own,
    and a page of a new notebook had none to type in. Every load makes the same cell."""
    first, second = _load(NOTEBOOK, NOTEBOOK_EMPTY), _load(NOTEBOOK, NOTEBOOK_EMPTY)
    (cell,) = read_content(NOTEBOOK, first)["cells"]
    assert {key: value for key, value in cell.items() if key != "id"} == {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"trusted": True},
        "outputs": [],
        "source": "",
    }
    first.apply_update(second.get_update())
    assert read_content(NOTEBOOK, first)["cells"] == [cell]
    top = {key: value for key, value in read_content(NOTEBOOK, first).items() if key != "cells"}
    assert top == {key: value for key, value in NOTEBOOK_EMPTY.items() if key != "cells"}


def test_a_class_that_widens_its_undo_scope_as_it_is_made_is_built() -> None:
    """jupyter_ydoc's YUnicode (as JupyterCAD's YJCad) widens its undo manager's scope as it is
    made, which a ``Doc`` refuses inside a transaction (a panic in yrs): made outside one."""
    kind = DocumentKind.parse("text", "unicode")
    assert read_content(kind, _load(kind, "abc\n")) == "abc\n"


def test_two_loads_merge_without_duplicates() -> None:
    first, second = _load(NOTEBOOK, NOTEBOOK_44), _load(NOTEBOOK, NOTEBOOK_44)
    first.apply_update(second.get_update())
    assert read_content(NOTEBOOK, first) == NOTEBOOK_44


@pytest.mark.parametrize(("file_format", "file_type"), [("yaml", "file"), ("json", "")])
def test_unknown_formats_are_bad_requests(file_format: str, file_type: str) -> None:
    with pytest.raises(BadRequest):
        DocumentKind.parse(file_format, file_type)


@pytest.mark.parametrize(
    ("text", "shared", "newline"),
    [
        ("a\r\nb\r\n", "a\nb\n", "\r\n"),  # CRLF only: the editor sees LF, the file keeps CRLF
        ("a\nb\n", "a\nb\n", "\n"),
        ("a\nb\r\n", "a\nb\r\n", "\n"),  # mixed: every byte kept as it is
        ("a\rb\r\n", "a\rb\r\n", "\n"),
        ("no newline", "no newline", "\n"),
    ],
)
def test_crlf_files_are_shared_as_lf_and_saved_as_crlf(
    text: str, shared: str, newline: str
) -> None:
    assert split_newlines(TEXT, text) == (shared, newline)
    assert read_content(TEXT, _load(TEXT, shared), newline) == text


def test_digests_ignore_the_transient_trusted_flag() -> None:
    trusted = {**NOTEBOOK_44, "cells": [dict(c) for c in NOTEBOOK_44["cells"]]}
    trusted["cells"][0] = {**trusted["cells"][0], "metadata": {"trusted": True}}
    assert digest_of(trusted) == digest_of(NOTEBOOK_44)
    edited = {**NOTEBOOK_44, "cells": [{**NOTEBOOK_44["cells"][0], "source": "x"}]}
    assert digest_of(edited) != digest_of(NOTEBOOK_44)


# -- views keep nothing a document deletes (content.without_undo_history) ---------------------

_BIG = 50_000  # characters of each content a view is given


def _content(file_type: str, cycle: int) -> Any:
    """A content of about ``_BIG`` characters for the view class ``file_type``, new each cycle."""
    text = chr(ord("a") + cycle) * _BIG
    if file_type == "notebook":
        cell = {"cell_type": "markdown", "id": f"c{cycle}", "source": text, "metadata": {}}
        return {**NOTEBOOK_EMPTY, "cells": [cell]}
    if file_type == "blob":
        return text.encode()
    if file_type == "chat":
        return json.dumps({"metadata": {"topic": text}})
    if file_type == "jcad":  # JupyterCAD's model (jupytercad-core)
        return json.dumps({"objects": [], "metadata": {"topic": text}})
    return text


@pytest.mark.parametrize("file_type", sorted(ydocs))  # every class of the entry point group
def test_views_keep_nothing_their_document_deletes(file_type: str) -> None:
    kind = DocumentKind("base64" if file_type == "blob" else "json", file_type)
    doc: Doc[Any] = Doc()
    view = kind.wrap(doc)
    assert isinstance(view, ydocs[file_type])  # for a chat: codec/chats.py's own subclass
    for cycle in range(10):
        view.set(_content(file_type, cycle))
    assert len(doc.get_update()) < 2 * _BIG, "the view's undo manager kept deleted content"
    assert not view.undo_manager.can_undo()
