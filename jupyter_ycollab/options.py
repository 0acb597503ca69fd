"""The extension's options: every trait a deployment sets (``c.YCollabApp.save_delay``), with its
help and its check, and the frozen ``Settings`` the core is given, built from them.

Apart from app.py, which wires the extension into the server: declaring and checking the
configuration is a job of its own, and most of the lines. ``CollabOptions`` is a plain
``HasTraits`` base of ``YCollabApp``, not a ``Configurable``, so that it adds no config section:
the options are set, listed and documented as ``YCollabApp``'s, as before.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, HasTraits, Int, TraitError, Type, Unicode, default, validate

from .hooks import CollabHooks, check_hooks_class
from .settings import Settings


class CollabOptions(HasTraits):
    """The options of ``YCollabApp`` (see the README's table)."""

    save_delay = Float(
        1.0,
        config=True,
        help="Seconds without edits after which a changed document is saved to its file.",
    )
    max_save_delay = Float(
        10.0,
        config=True,
        help="Longest time in seconds a change waits for its save while edits keep arriving.",
    )
    cleanup_delay = Float(
        60.0,
        config=True,
        help="Seconds a room stays open after its last peer left (it is saved before it closes).",
    )
    poll_interval = Float(
        1.0,
        config=True,
        help="Seconds between checks of open files for changes made outside the room.",
    )
    keepalive_interval = Float(
        15.0,
        config=True,
        help="Seconds between the server's awareness renewals: every peer hears from the server "
        "at least this often (the front end reconnects after 30 s of silence).",
    )
    max_message_size = Int(
        512 * 1024 * 1024,
        config=True,
        help="Largest websocket frame accepted from a peer, in bytes; larger frames close the "
        "connection with code 1009.",
    )
    max_readonly_message_size = Int(
        1024 * 1024,
        config=True,
        help="Largest websocket frame accepted from a read-only peer, in bytes (at most "
        "max_message_size counts); larger frames close the connection with code 1009, refused "
        "from the frame's header before its payload is read. Such a peer sends only state "
        "vectors and awareness: the default holds the state vector of a document edited by "
        "tens of thousands of clients, and 8 awareness states of the largest size.",
    )
    max_peer_buffer = Int(
        64 * 1024 * 1024,
        config=True,
        help="Bytes queued for a peer that is not reading before it is disconnected (code 1013).",
    )
    peer_stall_timeout = Float(
        30.0,
        config=True,
        help="Seconds a peer with bytes queued for it may go without reading any of them; then "
        "it is disconnected (code 1013) whatever its backlog. A peer that reads, however "
        "slowly, is kept.",
    )
    max_server_buffer = Int(
        1024 * 1024 * 1024,
        config=True,
        help="Bytes queued for all peers together; past it, the peers with the largest backlogs "
        "are disconnected (code 1013) until the total is under it again.",
    )
    max_awareness_state = Int(
        64 * 1024,
        config=True,
        help="Largest awareness state (cursor, user, selection) one client may announce, in "
        "bytes of JSON; a larger one, or more than 8 client ids on one connection, closes that "
        "connection with code 1009.",
    )
    max_peers_per_room = Int(
        200,
        config=True,
        help="Connections one room accepts; one more is refused (HTTP 503 before the upgrade, "
        "close code 1013 after it) and the front end retries with back-off.",
    )
    max_rooms = Int(
        1000,
        config=True,
        help="Document rooms open at once (rooms waiting cleanup_delay count); opening one more "
        "is refused (session PUT 503, websocket 503 or close code 1013) and opens nothing.",
    )
    validate_updates = Bool(
        True,
        config=True,
        help="Check every edit from a peer on a copy of the document before applying it, and "
        "refuse (close code 1007) one that would break the document's schema. Costs about 10 us "
        "per keystroke, and a second copy of a document in memory while a peer that may edit it "
        "is connected.",
    )
    log_dir = Unicode(
        "",
        config=True,
        help="Folder of the update logs that keep edits not yet in their files safe across "
        "crashes (default: <jupyter data dir>/ycollab/logs). Keep it outside the served folder.",
    )
    log_commit_delay = Float(
        0.1,
        config=True,
        help="Longest time in seconds an applied edit waits before its write to the update log "
        "starts (edits are written together, one fsync per batch); it is durable once that "
        "write and fsync end, which takes what the disk takes.",
    )
    log_max_bytes = Int(
        16 * 1024 * 1024,
        config=True,
        help="Size in bytes past which a document's update log is compacted (or twice its "
        "compacted size, when that is larger).",
    )
    timeline_step = Float(
        1.0,
        config=True,
        help="Seconds of edits that make one version on the document timeline (the history "
        "slider); 0 makes every logged commit a version.",
    )
    fast_path = Bool(
        True,
        config=True,
        help="Read, check and write the files of a plain stock contents manager directly "
        "(notebooks parsed and written cell by cell off the event loop, trust signatures "
        "stored in batches, big documents in a child process: see render_process), doing "
        "what its get and save do, several times faster. It applies only while the contents "
        "manager is a plain stock one: any other (a subclass, jupytext, S3) always gets its "
        "own get and save. False: every manager gets its own get and save.",
    )
    render_process = Bool(
        config=True,
        help="Read and render notebooks of 64 KiB and more in a child process, so that the "
        "event loop never waits while they load or save. It costs the child's memory (about "
        "40 MB, 70 MB after saving a 10,000-cell notebook). False: worker threads, less "
        "memory, but pauses of tens of milliseconds for every peer while a big notebook is "
        "saved. False by default on Windows, where the child's pipe cannot be polled.",
    )
    freeze_startup_objects = Bool(
        True,
        config=True,
        help="Once the server has started, move the objects alive then (modules, classes: about "
        "240,000 in a Jupyter server) out of Python's cycle collector's reach (gc.freeze), so "
        "that its full collections stop pausing every room for tens to hundreds of "
        "milliseconds. It affects the whole server process; False leaves the collector alone.",
    )
    disable_rtc = Bool(
        False, config=True, help="Tell the front end to open documents without collaboration."
    )
    server_side_execution = Bool(
        False,
        config=True,
        help="Tell the front end that kernels' outputs are written into documents by the server.",
    )

    hooks_class = Type(
        default_value=CollabHooks,
        klass=CollabHooks,
        config=True,
        help="Subclass of jupyter_ycollab.hooks.CollabHooks (or its import path) with the "
        "deployment's hooks: how rooms are named, connect-time checks, document initialisers, "
        "join and leave notifications. See the README, 'Extending jupyter_ycollab'.",
    )

    @validate("hooks_class")
    def _valid_hooks_class(self, proposal: dict[str, Any]) -> type[CollabHooks]:
        try:
            check_hooks_class(proposal["value"])
        except TypeError as error:
            raise TraitError(f"hooks_class: {error}") from error
        cls: type[CollabHooks] = proposal["value"]
        return cls

    @default("render_process")
    def _render_process_where_pipes_can_be_polled(self) -> bool:
        return sys.platform != "win32"  # there is no poll() there, and select() takes sockets only

    @validate("save_delay", "cleanup_delay", "poll_interval", "timeline_step")
    def _non_negative(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] < 0:
            raise TraitError(f"{proposal['trait'].name} must be >= 0, not {proposal['value']}")
        return float(proposal["value"])

    @validate("max_peers_per_room", "max_rooms")
    def _at_least_one(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1:
            raise TraitError(f"{proposal['trait'].name} must be >= 1, not {proposal['value']}")
        return int(proposal["value"])

    @validate("max_save_delay", "keepalive_interval", "log_commit_delay", "peer_stall_timeout")
    def _positive(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] <= 0:
            raise TraitError(f"{proposal['trait'].name} must be > 0, not {proposal['value']}")
        return float(proposal["value"])

    @validate(
        "max_message_size",
        "max_readonly_message_size",
        "max_peer_buffer",
        "max_server_buffer",
        "log_max_bytes",
        "max_awareness_state",
    )
    def _positive_size(self, proposal: dict[str, Any]) -> int:
        if proposal["value"] < 1024:
            raise TraitError(f"{proposal['trait'].name} must be at least 1024 bytes")
        return int(proposal["value"])

    def _core_settings(self) -> Settings:
        """``Settings``' fields are named as the traits; three take another trait into account."""
        values = {field.name: getattr(self, field.name) for field in fields(Settings)}
        values.update(
            max_save_delay=max(self.max_save_delay, self.save_delay),
            max_readonly_message_size=min(self.max_readonly_message_size, self.max_message_size),
            log_dir=Path(self.log_dir) if self.log_dir else Settings().log_dir,
        )
        return Settings(**values)
