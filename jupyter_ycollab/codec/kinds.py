"""What a room holds (``DocumentKind``): a contents-manager format and type, and the jupyter_ydoc
class that views it; and the one way the server makes such a view (``wrap``), recording no undo
history.

A type's class comes from the ``jupyter_ydoc`` entry point of its name when first used, not from
``jupyter_ydoc.ydocs`` (all, loaded at import): so the render process (fastpath/process.py) imports
no jupyter_server for jupyterlab-chat's nor pydantic for JupyterCAD's (15 MB) until it renders one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar, cast

from jupyter_ydoc import YBlob, YFile, YNotebook, YUnicode
from jupyter_ydoc.ybasedoc import YBaseDoc
from pycrdt import Doc

from ..errors import BadRequest, LoadFailed

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
        readable = read_formats(document_class(file_type))
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
        return for_rooms(document_class(self.file_type))

    @property
    def dirty_is_a_mark(self) -> bool:
        """Whether ``state.dirty`` only marks unsaved changes: jupyter_ydoc's own documents."""
        return issubclass(self.ydoc_class, (YNotebook, YUnicode, YBlob))

    def wrap(self, doc: Doc[Any]) -> YBaseDoc:
        """The jupyter_ydoc view of a ``Doc`` (cheap: it only looks up root types), keeping
        nothing the document deletes (``without_undo_history``). Every view the server makes
        is made here: the room's own, its hooks' and compatibility views, copies."""
        return without_undo_history(self.ydoc_class(doc))


def document_class(file_type: str) -> type[YBaseDoc]:
    """The class of the ``jupyter_ydoc`` entry point named ``file_type`` (of two, the last, as
    ``ydocs`` keeps it); ``YFile`` where none is."""
    return _loaded(file_type) if file_type in _declared() else YFile


@cache
def _declared() -> dict[str, EntryPoint]:
    return {point.name: point for point in entry_points(group="jupyter_ydoc")}


@cache  # declared names only: a dict lookup after the first, as ``ydocs`` was (saves ask often)
def _loaded(file_type: str) -> type[YBaseDoc]:
    return cast("type[YBaseDoc]", _declared()[file_type].load())


def for_rooms(cls: type[YBaseDoc]) -> type[YBaseDoc]:
    """The class rooms view ``cls``'s documents with: for jupyterlab-chat's YChat, codec/chats.py's
    (which imports jupyterlab-chat: only once a chat is seen), else ``cls``."""
    if (cls.__module__, cls.__name__) != ("jupyterlab_chat.ychat", "YChat"):
        return cls
    from .chats import ROOM_CHAT

    return ROOM_CHAT


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


def fill(view: YBaseDoc, content: Any) -> None:
    """``view.set(content)``, for a class rooms do not know the shapes of: one that cannot
    read the content (JupyterCAD's model of a newer version, a file that is not JSON) raises
    ``LoadFailed``, which says so and which rooms handle, instead of whatever it raised."""
    try:
        view.set(content)
    except Exception as error:
        raise LoadFailed(f"{type(view).__name__} cannot read the file: {error}") from error


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
