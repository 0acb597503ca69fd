"""File content <-> pycrdt documents, in the shared types JupyterLab's front end expects.

Loading is deterministic: the same content always becomes the same CRDT items (a fixed client id,
no random cell ids, no default metadata added), so state that a client built from the same file
merges into a rebuilt room without duplicating anything. The base is built in its own ``Doc``
and handed over as an update; the room's ``Doc`` keeps a random client id for later edits.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from jupyter_ydoc import YBlob, YFile, YNotebook, YUnicode, ydocs
from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Array, Doc, Map, Text

from ..errors import BadRequest
from . import yplan
from .digest import digest_of as digest_of  # imported from here too
from .yplan import NewArray, NewMap, NewText

#: Client id of every load. Yjs client ids are random 32-bit numbers; one fixed id for loads
#: makes equal content give equal items. Nothing but a load ever writes with it.
LOAD_CLIENT_ID = 0x5EED
#: Names what ``build_base`` makes of a file. Bump it with any change to the items it builds:
#: fresh histories are named after it and the file's hash (history/history.py), and clients holding
#: items of another build must not be taken for the same history.
BUILD_VERSION = 1
_CELL_ID_NAMESPACE = uuid.UUID("8d7a3f4e-0c4b-4f55-9c63-2b8f4f1f6a10")
FORMATS = ("json", "text", "base64")
#: The one transaction origin the undo managers of the server's views track: no transaction has it.
_UNDO_NOTHING = object()
ViewT = TypeVar("ViewT", bound=YBaseDoc)


@dataclass(frozen=True)
class DocumentKind:
    """What a room holds: the contents-manager format and type, and the jupyter_ydoc class."""

    file_format: str
    file_type: str

    @classmethod
    def parse(cls, file_format: str, file_type: str) -> DocumentKind:
        """The kind of a room that may open: one whose file can be read in ``file_format`` as
        ``file_type``'s document class reads it, so that the room holds the file's content.

        Any other pair would open a room that does not (``json:chat``: an empty chat) and save
        it over the file at the first edit: ``BadRequest`` (400 / 4400), nothing opened.
        """
        if file_format not in FORMATS or not file_type:
            raise BadRequest(f"unsupported document format {file_format!r} / type {file_type!r}")
        readable = read_formats(ydocs.get(file_type, YFile))
        if file_format not in readable:
            raise BadRequest(
                f"type {file_type!r} cannot be read in format {file_format!r}:"
                f" use {' or '.join(map(repr, readable))}"
            )
        return cls(file_format, file_type)

    @property
    def ydoc_class(self) -> type[YBaseDoc]:
        if self.file_format == "base64":
            return YBlob
        cls: type[YBaseDoc] = ydocs.get(self.file_type, YFile)
        return cls

    def wrap(self, doc: Doc[Any]) -> YBaseDoc:
        """The jupyter_ydoc view of a ``Doc`` (cheap: it only looks up root types), keeping
        nothing the document deletes (``without_undo_history``). Every view the server makes
        is made here: the room's own, its hooks' and compatibility views, copies."""
        return without_undo_history(self.ydoc_class(doc))


def without_undo_history(view: ViewT) -> ViewT:
    """``view``, its undo manager recording no transaction, so that deleted content is freed.

    Why: jupyter_ydoc's views make an ``UndoManager`` on their document (``YBaseDoc.__init__``;
    ``YNotebook`` scopes it to the cells, ``YUnicode`` to the text), and an undo manager keeps
    every item the transactions it records delete, content included, so that undo can bring
    them back: yrs never collects them. A room's ``Doc`` lives as long as the room, and with
    its views recording, the ``Doc`` and its encoding (a new peer's first sync, the update
    log's compactions, what a save renders) hold everything ever typed and deleted, not the
    document: 30 replacements of 1 MB make a 29 MB state instead of 1 MB. Nothing on the server
    undoes: undo is each front end's own, and the timeline routes use their own manager on a
    copy (rooms/timeline.py).

    How: a yrs undo manager given origins to track records only transactions with one of them,
    and the one given here is private, so it records nothing. The view keeps the manager
    jupyter_ydoc made (its class and attributes are what extensions expect, stacks empty), and
    a scope it adds later is not recorded either. Not ``clear()``: yrs collects deleted items
    only when the transaction that deletes them commits, so clearing later frees nothing.
    """
    view.undo_manager.include_origin(_UNDO_NOTHING)
    return view


def read_formats(cls: type[YBaseDoc]) -> tuple[str, ...]:
    """The contents-manager formats a document class reads a file in faithfully.

    The contents API gives a notebook as JSON, and a file as text or base64 only: the stock
    manager answers a file asked for as ``json`` with base64 (its fallback), and a notebook
    asked for as text or base64 with its JSON all the same. A notebook room is ``json``, a
    blob ``base64``; a text file may also be opened as a blob (``base64:file``, its bytes
    kept as they are). Any other class (YChat, custom types) is given the file's text, which
    is what ``set`` parses: as base64 or JSON it would parse nothing (YChat then makes an
    empty chat, which its first save writes over the file).
    """
    if issubclass(cls, YNotebook):
        return ("json",)
    if issubclass(cls, YBlob):
        return ("base64",)
    if issubclass(cls, YUnicode):
        return ("text", "base64")
    return ("text",)


def build_base(kind: DocumentKind, content: Any) -> bytes:
    """The Yjs update holding ``content``, built deterministically in a throwaway ``Doc``."""
    doc: Doc[Any] = Doc(client_id=LOAD_CLIENT_ID)
    with doc.transaction():
        if kind.ydoc_class is YNotebook:
            _fill_notebook(doc, content)
        elif kind.ydoc_class is YBlob:
            doc.get("source", type=Map)["bytes"] = base64.b64decode(content or "")
        elif issubclass(kind.ydoc_class, YFile):
            doc.get("source", type=Text).insert(0, content or "")
        else:
            kind.wrap(doc).set(content)
    return doc.get_update()


def _fill_notebook(doc: Doc[Any], notebook: dict[str, Any]) -> None:
    direct = yplan.direct_writes()
    meta = {
        "nbformat": notebook.get("nbformat", 4),
        "nbformat_minor": notebook.get("nbformat_minor", 5),
        "metadata": NewMap(dict(notebook.get("metadata", {}))),
    }
    yplan.set_entries(doc, "meta", meta, direct=direct)
    # Inserted last to first at the head: appending walks the whole list each time (quadratic).
    cells = reversed(list(enumerate(notebook.get("cells", []))))
    planned = (_ycell(_with_id(cell, index)) for index, cell in cells)
    yplan.insert_each_at_head(doc, "cells", planned, direct=direct)


def _ycell(cell: dict[str, Any]) -> NewMap:
    """A cell in jupyter_ydoc 2.0.0's schema (what ``@jupyter/ydoc`` reads).

    Keys keep the file's order, so equal files give equal items; nothing is copied deeply (the
    shared types copy plain values themselves).
    """
    fields = {key: value for key, value in cell.items() if key not in _SHARED_CELL_KEYS}
    fields["source"] = NewText(_joined(cell.get("source", "")))
    fields["metadata"] = NewMap(dict(cell.get("metadata", {})))
    if cell.get("cell_type") == "code":
        fields["outputs"] = NewArray([_youtput(output) for output in cell.get("outputs", [])])
        fields["execution_state"] = "idle"
    elif not fields.get("attachments", True):
        del fields["attachments"]
    return NewMap(fields)


_SHARED_CELL_KEYS = ("source", "metadata", "outputs")


def _youtput(output: dict[str, Any]) -> NewMap:
    if output.get("output_type") != "stream":
        return NewMap(dict(output))
    return NewMap({**output, "text": NewText(_joined(output.get("text", "")))})


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def _with_id(cell: dict[str, Any], index: int) -> dict[str, Any]:
    """Give a cell without an id (nbformat < 4.5) one derived from its position, not random."""
    if "id" in cell:
        return cell
    return {**cell, "id": str(uuid.uuid5(_CELL_ID_NAMESPACE, str(index)))}


def new_cell(cell: dict[str, Any]) -> Map[Any]:
    """A cell map as a load makes it (``YNotebook.create_ycell``): shared source and outputs.

    Live shared types, for an edit to insert (the merge); a load plans its cells (``_ycell``)."""
    values = {key: shared_value(key, value) for key, value in cell.items()}
    if cell.get("cell_type") == "code":
        values.setdefault("execution_state", "idle")
    return Map(values)


def shared_value(key: str, value: Any) -> Any:
    """``value`` as cell entry ``key`` holds it: source as text, metadata and outputs shared."""
    if key == "source" and isinstance(value, str):
        return Text(value)
    if key == "metadata" and isinstance(value, dict):
        return Map(dict(value))
    if key == "outputs" and isinstance(value, list):
        return Array([shared_output(output) for output in value])
    return value


def shared_output(output: Any) -> Any:
    """An output as a cell's ``outputs`` array holds it: a map, a stream's text shared."""
    if not isinstance(output, dict):
        return output
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        return Map({**output, "text": Text("".join(text) if isinstance(text, list) else text)})
    return Map(dict(output))


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
    """The notebook as nbformat wants it, read through pycrdt's JSON export (Rust, ~10x faster
    than ``to_py``), by the rules of jupyter_ydoc's ``YNotebook.get``: no ``execution_state``,
    no cell ids before nbformat 4.5, no empty attachments."""
    meta = json.loads(str(doc.get("meta", type=Map)))
    cells = json.loads(str(doc.get("cells", type=Array)))
    major, minor = int(meta.get("nbformat", 4)), int(meta.get("nbformat_minor", 5))
    for cell in cells:
        cell.pop("execution_state", None)
        if (major, minor) < (4, 5):
            cell.pop("id", None)
        if cell.get("cell_type") in ("raw", "markdown") and not cell.get("attachments", True):
            del cell["attachments"]
    return {
        "cells": cells,
        "metadata": meta.get("metadata", {}),
        "nbformat": major,
        "nbformat_minor": minor,
    }


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
