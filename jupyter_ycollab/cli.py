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
import sys
from pathlib import Path

from .settings import Settings
from .statuscli import add_arguments as add_status_arguments
from .statuscli import run as run_status

#: Kept out of the command's process, as out of the render process (fastpath/process.py):
#: jupyter_ydoc loads its plugins' document types (jupyterlab-chat's bring jupyter_events), and
#: ``status`` asks jupyter_server for the running servers: both import jsonschema, which loads
#: this format checker if installed. Building its grammar took 2.9 of the 4 s ``list`` and
#: ``status`` took here; nothing here validates, and jsonschema treats the module as absent
#: when importing it fails.
SLOW_OPTIONAL_MODULE = "rfc3987_syntax"


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
    if argv is None and SLOW_OPTIONAL_MODULE not in sys.modules:  # run as the command
        sys.modules[SLOW_OPTIONAL_MODULE] = None  # type: ignore[assignment]  # its import fails
    if args.command == "status":
        return run_status(args)
    from . import logtools  # after that line: it imports jupyter_ydoc, and jsonschema with it

    if args.command == "list":
        return logtools.list_unsaved(args.log_dir)
    if args.command == "export":
        return logtools.export(args.log_dir, args.room, args.output)
    return logtools.restore(args.log_dir, args.room, args.root_dir, args.to)


if __name__ == "__main__":
    sys.exit(main())
