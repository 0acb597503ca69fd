"""pycrdt documents -> file content: what a save gives the contents manager; and a text file's
line endings, kept apart from the shared text.

The codec's other parts: the kinds of document (kinds.py), building a document from a file
(building.py), the digest (digest.py).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from jupyter_ydoc import YNotebook
from nbformat.corpus.words import generate_corpus_id
from pycrdt import Array, Doc, Map

from .kinds import DocumentKind


def normalise_cell(cell: dict[str, Any], *, with_id: bool = True) -> None:
    """A notebook cell (plain data) normalised in place by jupyter_ydoc's rules, shared by all that
    compares cells: no ``execution_state``, no ``id`` before nbformat 4.5, no empty attachments."""
    cell.pop("execution_state", None)
    if not with_id:
        cell.pop("id", None)
    if cell.get("cell_type") in ("raw", "markdown") and not cell.get("attachments", True):
        del cell["attachments"]


def ids_kept(notebook: dict[str, Any]) -> bool:
    """Whether nbformat keeps the cells' ids as they are, reading or writing: not in a 4.5
    notebook where some repeat or lack, which its validation makes anew (two pages moving one
    cell at once leave two cells with its id)."""
    minor, cells = notebook.get("nbformat_minor", 0), notebook.get("cells", [])
    if not isinstance(minor, int) or minor < 5:
        return True
    ids = [cell.get("id") for cell in cells]
    return None not in ids and len(set(ids)) == len(ids)


def ids_made_anew(kind: DocumentKind, doc: Doc[Any], content: Any) -> bytes | None:
    """An update of ``doc`` (read as ``content``) giving each notebook cell whose id repeats an
    earlier one's, or that lacks one, a new id as nbformat does; None if it keeps them. The room
    takes it before it saves: merges of changes on disk go cell by id (tests/test_cell_ids.py)."""
    if kind.file_type != "notebook" or not isinstance(content, dict) or ids_kept(content):
        return None
    before, cells, seen = doc.get_state(), doc.get("cells", type=Array), set()
    with doc.transaction():
        for index, cell in enumerate(content.get("cells", [])):
            if cell.get("id") is None or cell["id"] in seen:
                cells[index]["id"] = generate_corpus_id()  # type: ignore[no-untyped-call]
            seen.add(cell.get("id"))
    return doc.get_update(before)


def read_content(kind: DocumentKind, doc: Doc[Any], newline: str = "\n") -> Any:
    """The document's content as the contents manager wants it in a save model."""
    if kind.ydoc_class is YNotebook:
        return read_notebook(doc)
    value = kind.wrap(doc).get()
    if kind.file_format == "base64":
        return base64.b64encode(value).decode("ascii")
    if newline != "\n" and isinstance(value, str):
        return value.replace("\n", newline)
    return value


def read_notebook(doc: Doc[Any]) -> dict[str, Any]:
    """The notebook as nbformat wants it (jupyter_ydoc's ``YNotebook.get``)."""
    meta, cells = plain(doc.get("meta", type=Map)), plain(doc.get("cells", type=Array))
    major, minor = int(meta.get("nbformat", 4)), int(meta.get("nbformat_minor", 5))
    for cell in cells:
        normalise_cell(cell, with_id=(major, minor) >= (4, 5))
    return {
        "cells": cells,
        "metadata": meta.get("metadata", {}),
        "nbformat": major,
        "nbformat_minor": minor,
    }


def plain(shared: Map[Any] | Array[Any]) -> Any:
    """The Python value of a shared map or array, read through pycrdt's JSON export (Rust,
    ~10x faster than ``to_py``)."""
    return json.loads(str(shared))


def split_newlines(kind: DocumentKind, content: Any) -> tuple[Any, str]:
    """Text with CRLF line endings only, as LF text plus "\r\n"; anything else unchanged.

    The editor counts a line break as one character: a CRLF in the shared text would shift every
    position after it. Saving puts the file's own line endings back (see ``read_content``).
    """
    if kind.file_format != "text" or not isinstance(content, str) or "\r\n" not in content:
        return content, "\n"
    lf_only = content.replace("\r\n", "\n")
    if "\r" in lf_only or lf_only.count("\n") != content.count("\r\n"):
        return content, "\n"  # mixed line endings: keep every byte as it is
    return lf_only, "\r\n"
