"""The shape a document must keep for saving to work, the file to stay valid and the front end
to read it: checked by the guard (guard.py) on the parts of its copy that an update touched.

Notebook cells and metadata are checked against nbformat's own JSON schema (its compiled
fastjsonschema validator: about 20 us a cell), after the same clean-up that saving does, plus
the shared types ``@jupyter/ydoc`` expects: a cell is a map, its ``source`` a text, its
``metadata`` a map, a code cell's ``outputs`` an array of maps.
"""

from __future__ import annotations

from typing import Any

from nbformat.validator import ValidationError, get_validator
from pycrdt import Array, Map, Text

from ..codec.content import normalise_cell, plain

_NEWEST_MINOR = 5


def _whole(value: object) -> int | None:
    """``value`` as an int when it is a whole number: numbers written by the front end (or by
    any Yjs client) are doubles, so 4 arrives as 4.0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def nbformat_minor(meta: Map[Any]) -> int:
    """The notebook's minor format version, or the newest one when it is not a number."""
    minor = _whole(meta.get("nbformat_minor", _NEWEST_MINOR))
    return minor if minor is not None and 0 <= minor <= _NEWEST_MINOR else _NEWEST_MINOR


def cell_problem(cell: object, minor: int) -> str | None:
    """Why ``cell`` (an element of the ``cells`` array) would break the notebook, or None."""
    if not isinstance(cell, Map):
        return f"a cell that is a {type(cell).__name__}, not a map"
    if not isinstance(cell.get("source"), Text):
        return "a cell whose source is not a text"
    if not isinstance(cell.get("metadata"), Map):
        return "a cell whose metadata is not a map"
    if cell.get("cell_type") == "code":
        outputs = cell.get("outputs")
        if not isinstance(outputs, Array) or not all(isinstance(o, Map) for o in outputs):
            return "a code cell whose outputs are not an array of maps"
    data = plain(cell)
    normalise_cell(data, with_id=minor >= 5)
    return _schema_problem({"cells": [data], "metadata": {}}, minor)


def meta_problem(meta: Map[Any]) -> str | None:
    """Why the notebook's ``meta`` map would break saving or the file, or None."""
    if _whole(meta.get("nbformat", 4)) != 4:
        return "nbformat is not 4"
    minor = _whole(meta.get("nbformat_minor", _NEWEST_MINOR))
    if minor is None or not 0 <= minor <= _NEWEST_MINOR:
        return f"nbformat_minor is not an integer from 0 to {_NEWEST_MINOR}"
    metadata = meta.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, Map):
        return "the notebook metadata is not a map"
    return _schema_problem({"cells": [], "metadata": plain(metadata)}, minor)


def blob_problem(source: Map[Any]) -> str | None:
    """A binary file's ``bytes`` must stay bytes (saving base64-encodes them); pycrdt reads
    them back as ``bytearray``."""
    if isinstance(source.get("bytes", b""), (bytes, bytearray)):
        return None
    return "a binary file whose bytes are not bytes"


def _schema_problem(notebook: dict[str, Any], minor: int) -> str | None:
    validator = get_validator(version=4, version_minor=minor)  # type: ignore[no-untyped-call]
    try:
        validator.validate({**notebook, "nbformat": 4, "nbformat_minor": minor})
    except ValidationError as error:
        return f"not a valid notebook: {error.message}"[:200]
    return None
