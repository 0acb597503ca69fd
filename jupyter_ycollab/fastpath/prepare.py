"""What a big document's saves want done ahead of them (``FastFiles.save_preparation``): at its
first change, start the render process while the save waits for its delay (a document that is
only read never needs it), and the first time, digest its base there, so that the first save has
only the document to render.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from ..codec.kinds import DocumentKind
from ..document.files import SavePreparation
from ..history.history import History
from .serialise import FastJob

if TYPE_CHECKING:
    from .files import FastFiles

log = logging.getLogger(__name__)


class BigDocumentPreparation(SavePreparation):
    """One document's preparation: a task beside its worker (saves must not wait for it)."""

    def __init__(self, files: FastFiles, kind: DocumentKind, history: History) -> None:
        self._files = files
        self._kind = kind
        self._history = history
        self._task: asyncio.Task[None] | None = None
        self._digest_ahead = True  # the base's, once, at the first change

    def changed(self, newline: str) -> None:
        """Start if saves need the render process started, or (once) the base digested ahead."""
        big = self._files.renders_apart(len(self._history.base_update))
        if self._task is None and big and (self._digest_ahead or not self._files.renderer.running):
            name = f"prepare {self._history.room_id}"
            self._task = asyncio.create_task(self._prepare(newline), name=name)

    async def done(self) -> None:
        """The base's digest is being rendered: waiting for it beats rendering the base again
        in this save (and the digest job after it, which the next save would wait for)."""
        if self._task is not None:
            await asyncio.wait([self._task])

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _prepare(self, newline: str) -> None:
        try:
            await self._files.renderer.start()
            if self._digest_ahead:
                self._digest_ahead = False
                if self._history.base_digest is None:
                    await self._digest_base(newline)
        finally:
            self._task = None

    async def _digest_base(self, newline: str) -> None:
        """The base digest, rendered apart now rather than in the first save (a save that
        comes first renders it itself)."""
        base = self._history.base_update
        job = FastJob(self._kind, (base,), newline, digest_only=True)
        try:
            digest = (await self._files.render(job)).digest
        except (ValueError, RuntimeError) as error:  # pycrdt's; the first save will tell
            log.debug("Could not digest the base of %s: %s", self._history.room_id, error)
            return
        self._history.digested(base, digest)
