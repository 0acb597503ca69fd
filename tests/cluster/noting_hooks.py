"""A deployment's hooks that note, in the server's runtime dir, where each change to a document's
content came from: this server (``here``) or another sharing the room (``elsewhere``), as
``Room.from_another_server`` tells an observer. Servers import it by name (``hooks_class``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_ycollab.hooks import CollabHooks, Room


def heard_file(runtime_dir: Path) -> Path:
    return runtime_dir / "heard.txt"


class NotingHooks(CollabHooks):
    async def initialise_document(self, room: Room, document: Any) -> None:
        heard = heard_file(Path(os.environ["JUPYTER_RUNTIME_DIR"]))

        def note(topic: str, _event: object) -> None:
            if topic != "state":  # dirty flags and hashes, not content
                with heard.open("a") as file:
                    file.write("elsewhere\n" if room.from_another_server() else "here\n")

        document.observe(note)
