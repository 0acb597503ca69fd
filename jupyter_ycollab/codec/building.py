"""File content -> pycrdt documents, in the shared types JupyterLab's front end expects.

Loading is deterministic: the same content always becomes the same CRDT items (a fixed client id,
no random cell ids, no default metadata added), so state that a client built from the same file
merges into a rebuilt room without duplicating anything. The one addition is jupyter_ydoc's: a
notebook with no cells gets one empty code cell (``loaded_cells``). The base is built in its own
``Doc`` and handed over as an update; the room's ``Doc`` keeps a random client id for later
edits. The live shared types an edit inserts (the merge's new cells) are made here too.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from jupyter_ydoc import YBlob, YFile, YNotebook
from pycrdt import Array, Doc, Map, Text

from . import yplan
from .content import normalise_cell
from .kinds import DocumentKind, fill
from .yplan import NewArray, NewMap, NewText

#: Client id of every load. Yjs client ids are random 32-bit numbers; one fixed id for loads
#: makes equal content give equal items. Nothing but a load ever writes with it.
LOAD_CLIENT_ID = 0x5EED
#: Names what ``build_base`` makes of a file. Bump it with any change to the items it builds:
#: fresh histories are named after it and the file's hash (history/history.py), and clients holding
#: items of another build must not be taken for the same history.
BUILD_VERSION = 1
_CELL_ID_NAMESPACE = uuid.UUID("8d7a3f4e-0c4b-4f55-9c63-2b8f4f1f6a10")
#: The cell a notebook with none is loaded with, as jupyter_ydoc's ``YNotebook.set`` does:
#: JupyterLab adds it only when it does not collaborate, so a new notebook showed no cell to type
#: in. Its id is fixed, so every load makes the same items (a client of the build before holds a
#: subset: ``BUILD_VERSION`` stays), and the file is written once someone changes the cell.
FIRST_CELL: dict[str, Any] = {
    "cell_type": "code",
    "execution_count": None,
    "id": str(uuid.uuid5(_CELL_ID_NAMESPACE, "0")),
    "metadata": {"trusted": True},
    "outputs": [],
    "source": "",
}


def build_base(kind: DocumentKind, content: Any) -> bytes:
    """The Yjs update holding ``content``, built deterministically in a throwaway ``Doc``."""
    doc: Doc[Any] = Doc(client_id=LOAD_CLIENT_ID)
    cls = kind.ydoc_class
    # Any other class fills itself, through a view made before the transaction: making a view
    # may widen its undo manager's scope, which needs the ``Doc`` to itself (JupyterCAD's YJCad).
    view = None if cls is YNotebook or cls is YBlob or issubclass(cls, YFile) else kind.wrap(doc)
    with doc.transaction():
        if view is not None:
            fill(view, content)
        elif cls is YNotebook:
            _fill_notebook(doc, content)
        elif cls is YBlob:
            doc.get("source", type=Map)["bytes"] = base64.b64decode(content or "")
        else:
            doc.get("source", type=Text).insert(0, content or "")
    return doc.get_update()


def _fill_notebook(doc: Doc[Any], notebook: dict[str, Any]) -> None:
    direct = yplan.direct_writes()
    meta = notebook_meta(notebook)  # its metadata a shared map, in its place among the keys
    yplan.set_entries(doc, "meta", {**meta, "metadata": NewMap(meta["metadata"])}, direct=direct)
    # Inserted last to first at the head: appending walks the whole list each time (quadratic).
    cells = reversed(list(enumerate(loaded_cells(notebook))))
    planned = (_ycell(with_cell_id(cell, index)) for index, cell in cells)
    yplan.insert_each_at_head(doc, "cells", planned, direct=direct)


def notebook_meta(notebook: dict[str, Any]) -> dict[str, Any]:
    """The ``meta`` map a room reads ``notebook`` as, its keys in the order a load sets them."""
    return {
        "nbformat": notebook.get("nbformat", 4),
        "nbformat_minor": notebook.get("nbformat_minor", 5),
        "metadata": dict(notebook.get("metadata", {})),
    }


def loaded_cells(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells a room reads ``notebook`` as: its own, or ``FIRST_CELL`` when it has none."""
    return notebook.get("cells") or [FIRST_CELL]


def _ycell(cell: dict[str, Any]) -> NewMap:
    """A cell in jupyter_ydoc 2.0.0's schema (what ``@jupyter/ydoc`` reads).

    Keys keep the file's order, so equal files give equal items; nothing is copied deeply (the
    shared types copy plain values themselves).
    """
    fields = {key: value for key, value in cell.items() if key not in _SHARED_CELL_KEYS}
    fields["source"] = NewText(_joined(cell.get("source", "")))
    fields["metadata"] = NewMap(dict(cell.get("metadata", {})))
    normalise_cell(fields)
    if cell.get("cell_type") == "code":
        fields["outputs"] = NewArray([_youtput(output) for output in cell.get("outputs", [])])
        fields["execution_state"] = "idle"
    return NewMap(fields)


_SHARED_CELL_KEYS = ("source", "metadata", "outputs")


def _youtput(output: dict[str, Any]) -> NewMap:
    if output.get("output_type") != "stream":
        return NewMap(dict(output))
    return NewMap({**output, "text": NewText(_joined(output.get("text", "")))})


def _joined(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def with_cell_id(cell: dict[str, Any], index: int) -> dict[str, Any]:
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
    return yplan.prelim(_youtput(output)) if isinstance(output, dict) else output
