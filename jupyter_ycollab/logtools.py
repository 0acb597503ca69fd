"""The update logs read back as documents, for ``jupyter ycollab list / export / restore``
(cli.py): what a log holds that its file lacks, on the day something went wrong."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from .codec.content import read_content
from .codec.kinds import DocumentKind
from .codec.updates import replayed
from .errors import BadRequest
from .history.logfile import log_path
from .history.records import LogContents, parse_log
from .rooms.ids import parse_room_id


def _kind(contents: LogContents) -> DocumentKind:
    try:
        parsed = parse_room_id(contents.room_id)
    except BadRequest:
        # Left by a room of a pair that no longer opens (``json:chat`` opened an empty chat, and
        # the messages written into it are only here): read it as it was written.
        file_format, file_type, _ = contents.room_id.split(":", 2)
        return DocumentKind(file_format, file_type)
    if parsed is None:
        raise SystemExit(f"log of {contents.room_id!r} is not a document's")
    return parsed.kind


def latest_content(contents: LogContents) -> Any:
    """The document as the log last knew it (unsaved edits included)."""
    return read_content(_kind(contents), replayed([contents.checkpoint, *contents.updates]))


def has_unsaved_edits(contents: LogContents) -> bool:
    base = read_content(_kind(contents), replayed(contents.base_updates()))
    return bool(base != latest_content(contents))


def _serialise(contents: LogContents) -> bytes:
    content = latest_content(contents)
    kind = _kind(contents)
    if kind.file_type == "notebook":
        return (json.dumps(content, indent=1, ensure_ascii=False) + "\n").encode()
    if kind.file_format == "base64":
        return base64.b64decode(content)
    return str(content).encode()


def _open(log_dir: Path, room: str) -> LogContents:
    path = Path(room) if room.endswith(".ylog") else log_path(log_dir, room)
    if not path.is_absolute() and not path.exists():
        path = log_dir / path
    return parse_log(path.read_bytes())


def unsaved(log_dir: Path) -> list[tuple[str, str, str]]:
    """The logs that hold edits their files lack: room id, path, log file name."""
    found = []
    for path in sorted(log_dir.glob("*.ylog")):
        contents = parse_log(path.read_bytes())
        if has_unsaved_edits(contents):
            found.append((contents.room_id, contents.path, path.name))
    return found


def list_unsaved(log_dir: Path) -> int:
    for row in unsaved(log_dir):
        print("\t".join(row))
    return 0


def export(log_dir: Path, room: str, out: str) -> int:
    data = _serialise(_open(log_dir, room))
    if out == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(out).write_bytes(data)
    return 0


def restore(log_dir: Path, room: str, root_dir: Path, to: str | None) -> int:
    contents = _open(log_dir, room)
    target = root_dir / (to or contents.path)
    target.write_bytes(_serialise(contents))
    print(f"restored {contents.room_id} to {target}")
    return 0
