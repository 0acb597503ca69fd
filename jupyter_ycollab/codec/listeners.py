"""Who hears an update of a room's ``Doc``, in which order, and why: one subscription per ``Doc``
that calls each listener with the update and where it came from (origins.py).

First, while pycrdt commits the transaction and before any of the listeners below (it calls the
shared types' observers before the ``Doc``'s), the document's jupyter_ydoc view hears *which part*
changed (document/document.py): an edit of the content, not of the ``state`` map, that is not in
``NOT_EDITS`` makes the document dirty, to be saved. It reads the origin here (``origin``). Then,
in the order of ``Hears``:

1. ``LOG``: the history (history/history.py) appends the update to the crash-safe log, the
   server's ``state`` values without hurry.
2. ``CLUSTER``: when servers share the room (cluster/), the update is queued for the room's
   stream, unless another server sent it: durable here first, then on its way to the others.
3. ``SNAPSHOTS``: the document (document/snapshots.py) keeps it as a part of its full state,
   which new peers and saves get without an encoding on the event loop.
4. ``RELAY``: the room (rooms/room.py): its guard's shadow follows the document, then every peer
   but the update's sender gets it.
5. ``FORKS``: forks kept in step with the room (rooms/forks.py) apply it to their copy, whose
   own listeners (its room's relay) hear it then, inside this commit.
6. ``LATE``: once the room closed, what server code still writes to its ``Doc`` is carried into
   the room opened again (rooms/closing.py); the others have stopped listening by then.

The order is the one these parts were made in before this module (a document's history and
snapshots exist before its room, forks after it), now written down; only the forks must come
after the others, as their copy's listeners run inside the call. A listener that raises does not
keep the later ones from hearing (as with separate observers); the first error is raised after.

One per ``Doc``, found from it (``of``), so the parts that hold the ``Doc`` reach the same one
without it being passed through their constructors. The registry holds neither alive: the ``Doc``
is a weak key, and the listeners hold it weakly. It subscribes to pycrdt only while someone
listens: a ``Doc`` filled update by update before anyone does (a log replayed) pays no observer.

Why its subscription is made on pycrdt's Rust document (``Doc._doc``), with a callback that
holds the listeners weakly: what the Rust side holds, Python's cycle collector cannot see. So a
cycle through it is never freed, and ``Doc.observe`` makes one: it wraps the callback with the
``Doc`` itself. A closed room's ``Doc`` is still heard (``LATE``) while server code holds it; with
``observe``, every room ever closed kept its whole document (a 10,000-cell notebook: ~40 MB).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from functools import partial
from typing import Any

from pycrdt import Doc, Subscription, TransactionEvent, merge_updates

from .origins import Origin, TransactionOrigin

Listener = Callable[[bytes, TransactionOrigin], None]


class Hears(IntEnum):
    """The listeners' places, in the order they hear an update (the module docstring says why)."""

    LOG = 1
    CLUSTER = 2
    SNAPSHOTS = 3
    RELAY = 4
    FORKS = 5
    LATE = 6


class UpdateListeners:
    def __init__(self, doc: Doc[Any]) -> None:
        self._doc = weakref.ref(doc)
        self._listeners: list[tuple[Hears, Listener]] = []
        self._subscription: Subscription | None = None
        #: Where the transaction being made comes from (server code unless someone said).
        self.origin: TransactionOrigin = Origin.SERVER_API
        self._held: list[bytes] | None = None

    @classmethod
    def of(cls, doc: Doc[Any]) -> UpdateListeners:
        """The listeners of ``doc``, made at the first ask."""
        listeners = _BY_DOC.get(doc)
        if listeners is None:
            listeners = _BY_DOC[doc] = cls(doc)
        return listeners

    def listen(self, place: Hears, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every update from now on, in ``place``; return what stops it."""
        entry = (place, listener)
        # A new list, never one changed in place: a listener may come or go during a dispatch.
        self._listeners = sorted([*self._listeners, entry], key=lambda each: each[0])
        if self._subscription is None:
            self._subscription = _subscribe(self._the_doc(), weakref.WeakMethod(self._on_update))
        return partial(self._stop, entry)

    def apply(self, update: bytes, origin: TransactionOrigin) -> None:
        """Apply ``update`` to the ``Doc``; its listeners hear it as coming from ``origin``.

        Every peer's update comes through here: a plain try/finally, not ``writing``'s
        generator."""
        outer, self.origin = self.origin, origin
        try:
            self._the_doc().apply_update(update)
        finally:
            self.origin = outer

    @contextmanager
    def writing(self, origin: TransactionOrigin) -> Iterator[None]:
        """The changes made inside come from ``origin`` (the outer origin is back on exit)."""
        outer, self.origin = self.origin, origin
        try:
            yield
        finally:
            self.origin = outer

    @contextmanager
    def as_one_update(self, origin: TransactionOrigin) -> Iterator[None]:
        """The changes made inside reach the listeners as one update from ``origin``: for
        changes that cannot be one transaction but must not be seen half done (state.py)."""
        held: list[bytes] = []
        self._held = held
        try:
            with self.writing(origin):
                yield
        finally:  # what was written is heard, even if the code that wrote it raised then
            self._held = None
            if held:
                self._dispatch(merge_updates(*held), origin)

    def from_another_server(self) -> bool:
        """The change being made came from another server sharing the room (cluster/): code
        that acts on new content acts on the server it was made on, not on each."""
        return self.origin is Origin.CLUSTER

    def _the_doc(self) -> Doc[Any]:
        doc = self._doc()
        assert doc is not None, "whoever uses the listeners holds their Doc"
        return doc

    def _stop(self, entry: tuple[Hears, Listener]) -> None:
        self._listeners = [each for each in self._listeners if each is not entry]
        if not self._listeners and self._subscription is not None:
            self._subscription.drop()
            self._subscription = None

    def _on_update(self, event: TransactionEvent) -> None:
        update: bytes = event.update  # read once: each read copies it out of pycrdt
        if self._held is None:
            return self._dispatch(update, self.origin)
        self._held.append(update)

    def _dispatch(self, update: bytes, origin: TransactionOrigin) -> None:
        failed: Exception | None = None
        for _, listener in self._listeners:
            try:
                listener(update, origin)
            except Exception as error:  # the later listeners still hear it
                failed = failed or error
        if failed is not None:
            raise failed


def _subscribe(doc: Doc[Any], on_update: weakref.WeakMethod[Any]) -> Subscription:
    """Call ``on_update`` with each transaction of ``doc``, holding neither alive (the module's
    docstring says why): the subscription, which the listeners hold, holds what pycrdt calls."""

    def heard(event: TransactionEvent) -> None:
        method = on_update()
        if method is not None:
            method(event)

    subscription: Subscription = doc._doc.observe(heard)
    return subscription


_BY_DOC: weakref.WeakKeyDictionary[Doc[Any], UpdateListeners] = weakref.WeakKeyDictionary()
