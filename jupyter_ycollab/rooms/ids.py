"""Room ids: ``{format}:{type}:{fileId}`` for documents, plus the global awareness room."""

from __future__ import annotations

from dataclasses import dataclass

from ..codec.kinds import DocumentKind
from ..errors import BadRequest, NotFound

GLOBAL_AWARENESS = "JupyterLab:globalAwareness"


@dataclass(frozen=True)
class DocumentRoomId:
    kind: DocumentKind
    file_id: str

    def __str__(self) -> str:
        return room_id_of(self.kind.file_format, self.kind.file_type, self.file_id)


def room_id_of(file_format: str, file_type: str, file_id: str) -> str:
    """The id of a document's room, formatted here only (parse_room_id reads it back)."""
    return f"{file_format}:{file_type}:{file_id}"


def parse_room_id(room_id: str) -> DocumentRoomId | None:
    """The document a room id names, or None for the global awareness room.

    Raises ``NotFound`` for ids with no colon that no route registered (never a room for them)
    and ``BadRequest`` for ids with an unknown format or an empty part.
    """
    if room_id == GLOBAL_AWARENESS:
        return None
    parts = room_id.split(":", 2)
    if len(parts) != 3:
        raise NotFound(f"unknown room {room_id!r}")
    file_format, file_type, file_id = parts
    if not file_id:
        raise BadRequest(f"room id {room_id!r} has no file id")
    return DocumentRoomId(DocumentKind.parse(file_format, file_type), file_id)
