"""The server's own values in a document's ``state`` map: the front end's signals that the file
was saved (``hash``, ``dirty``) or moved (``path``). Written as one transaction of their own
origin, and kept as they were when a view is made (``view_of_loaded``).
"""

from __future__ import annotations

from typing import Any

from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc, Map

from ..codec.kinds import DocumentKind
from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin

#: The ``state`` keys only servers write (``write_state``); peers write ``dirty`` too.
SERVER_KEYS = frozenset({"hash", "path"})


def write_state(doc: Doc[Any], **values: Any) -> None:
    """Set the ``state`` values (path, dirty, hash) that are not None and differ, in one
    transaction. Written as ``SERVER_STATE`` (codec/origins.py): no edit to save, and a recovered
    room sets them again, so their log record is unhurried."""
    state = doc.get("state", type=Map)  # also before the view exists (loading)
    with UpdateListeners.of(doc).writing(Origin.SERVER_STATE), doc.transaction():
        for key, value in values.items():
            if value is not None and state.get(key) != value:
                state[key] = value


def view_of_loaded(kind: DocumentKind, doc: Doc[Any]) -> YBaseDoc:
    """``kind.wrap(doc)`` for a loaded document (a room's), ``state.dirty`` left as it was.

    jupyterlab-chat's YChat sets ``dirty`` as it is made, for a document about to be loaded
    into it, and until a save clears it, takes no message for new: it neither gives it the
    server's time nor tells who observes its messages (jupyter-ai answers none). So it is put
    back at once, and the others hear the two writes as one update (not a transaction: a view's
    undo scope needs the ``Doc`` free): a server sharing the room that applied the mark alone
    would drop the message its own user sent next. Not in ``wrap``: a document filled after
    its view is made (codec/building.py, in a thread) is one being loaded."""
    dirty = doc.get("state", type=Map).get("dirty", False)
    with UpdateListeners.of(doc).as_one_update(Origin.SERVER_STATE):
        view = kind.wrap(doc)
        write_state(doc, dirty=dirty)
    return view
