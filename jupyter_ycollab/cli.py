"""``jupyter ycollab``: look into the update logs on the day something went wrong.

    jupyter ycollab list                   documents whose logs hold edits their files lack
    jupyter ycollab export ROOM [-o FILE]  write a document's last known content (stdout: -)
    jupyter ycollab restore ROOM [--root-dir DIR] [--to PATH]
                                           write it back over its file (server stopped!)
    jupyter ycollab status [--port N | --url URL [--token T]] [--json]
                                           the open rooms of a running server (statuscli.py)

ROOM is a room id (``json:notebook:<file id>``) or a log file name. The logs live in
``<jupyter data dir>/ycollab/logs`` unless ``--log-dir`` says otherwise.
"""

from __future__ import annotations

import argparse
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
from .settings import Settings
from .statuscli import add_arguments as add_status_arguments
from .statuscli import run as run_status


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


def _list(log_dir: Path) -> int:
    for path in sorted(log_dir.glob("*.ylog")):
        contents = parse_log(path.read_bytes())
        if has_unsaved_edits(contents):
            print(f"{contents.room_id}\t{contents.path}\t{path.name}")
    return 0


def _export(log_dir: Path, room: str, out: str) -> int:
    data = _serialise(_open(log_dir, room))
    if out == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(out).write_bytes(data)
    return 0


def _restore(log_dir: Path, room: str, root_dir: Path, to: str | None) -> int:
    contents = _open(log_dir, room)
    target = root_dir / (to or contents.path)
    target.write_bytes(_serialise(contents))
    print(f"restored {contents.room_id} to {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jupyter ycollab",
        description="Look into the update logs (list, export, restore) or a running server "
        "(status).",
    )
    parser.add_argument("--log-dir", type=Path, default=Settings().log_dir)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="documents whose logs hold edits their files lack")
    export = commands.add_parser("export", help="write a document's last known content")
    export.add_argument("room")
    export.add_argument("-o", "--output", default="-")
    restore = commands.add_parser("restore", help="write it back over its file")
    restore.add_argument("room")
    restore.add_argument("--root-dir", type=Path, default=Path.cwd())
    restore.add_argument("--to", default=None)
    add_status_arguments(commands.add_parser("status", help="the open rooms of a server"))
    args = parser.parse_args(argv)
    if args.command == "status":
        return run_status(args)
    if args.command == "list":
        return _list(args.log_dir)
    if args.command == "export":
        return _export(args.log_dir, args.room, args.output)
    return _restore(args.log_dir, args.room, args.root_dir, args.to)


if __name__ == "__main__":
    sys.exit(main())
