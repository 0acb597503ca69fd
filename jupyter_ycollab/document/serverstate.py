"""The server's own values in a document's ``state`` map (path, dirty, hash): the front end's
signals that the file was saved, moved or changed. Written as ``SERVER_STATE`` (codec/origins.py):
no edit to save, and a recovered room sets them again, so their log record is unhurried.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin


def write_state(doc: Doc[Any], **values: Any) -> None:
    """Set the values that are not None and differ, in one transaction."""
    state = doc.get("state", type=Map)  # also before the view exists (loading)
    with UpdateListeners.of(doc).writing(Origin.SERVER_STATE), doc.transaction():
        for key, value in values.items():
            if value is not None and state.get(key) != value:
                state[key] = value
