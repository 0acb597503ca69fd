"""The deployment's hooks as the cluster calls them: each shared room told of its ``Room`` once
made (the global awareness room too: presence.py), and room ids from another server's file-id
database found by their file.

Servers on separate pods index files separately, so a client that a load balancer moves to
another server comes back with a room id this one never issued. Every server records its file
ids in one Redis hash (file id -> the name of the room, whose state says where its file is now:
renamed since, it is found at its new path); an id unknown here is looked up there, and the
client joins this server's room for that file (the session id is the cluster's, the same on
every server, so it merges without duplicates).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..document.files import Files
from ..rooms.ids import GLOBAL_AWARENESS, DocumentRoomId, parse_room_id
from ..rooms.room import Room
from ..web.hookcalls import HookCalls
from .keys import RoomKeys, as_text, file_ids_key
from .reconcile import record_file_id
from .shared import SharedRoom

if TYPE_CHECKING:
    from ..hooks import CollabHooks
    from ..web.websocket import RoomHandler
    from .cluster import Cluster


class ClusterHookCalls(HookCalls):
    def __init__(self, hooks: CollabHooks, cluster: Cluster, files: Files) -> None:
        super().__init__(hooks)
        self._cluster = cluster
        self._files = files
        self._file_ids = file_ids_key(cluster.settings.namespace)

    async def name_room(self, handler: RoomHandler, requested: str) -> str:
        room_id = await super().name_room(handler, requested)
        parsed = None if room_id in handler.services.manager.rooms else parse_room_id(room_id)
        if parsed is None or self._files.ids.get_path(parsed.file_id) is not None:
            return room_id
        try:
            room = await self._cluster.redis.hget(self._file_ids, parsed.file_id)
            path = room and await self._cluster.redis.hget(RoomKeys(as_text(room)).state, "path")
        except self._cluster.errors as error:
            self._cluster.trouble(error)
            return room_id  # unknown here: 404, as on a single server
        if not path:
            return room_id
        path = as_text(path)
        local = self._files.ids.get_id(path) or self._files.ids.index(path)
        return room_id if local is None else str(DocumentRoomId(parsed.kind, local))

    async def initialise(self, room: Room) -> None:
        if room.room_id == GLOBAL_AWARENESS:
            self._cluster.share_presence(room)
        document = room.document
        if document is not None and isinstance(document.sharing, SharedRoom):
            document.sharing.attach(room)
            # A writer whose file ids did not see a rename asks where the room records the file.
            document.file.path_elsewhere = document.sharing.where.recorded
            try:
                await record_file_id(document.sharing)
            except self._cluster.errors as error:
                self._cluster.trouble(error)
        await super().initialise(room)

    def release(self, room: Room) -> None:
        self._cluster.presence.detach(room)
        super().release(room)
