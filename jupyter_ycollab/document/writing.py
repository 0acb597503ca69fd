"""One save of a document to its file; the save worker (saving.py) decides when, and answers.

What changed in the file since the last look is merged first (an outside change is never
written over), then the document is rendered off the event loop, written through ``Files`` (the
contents manager, or the fast path), and the save recorded: in the update log, in the
document's ``state`` (how the front end learns of it) and, when servers share the document, in
the cluster. Only the server that writes the file does this; one that finds it may not write
the file hands it to another (sharing.py ``hand_over``).
"""

from __future__ import annotations

from collections.abc import Callable

from tornado.web import HTTPError

from ..codec.listeners import UpdateListeners
from ..codec.origins import Origin
from ..errors import NotFound, may_not_write
from .files import FileState
from .render import Rendered, SaveAttempt
from .sharing import Alone, SavedFile, Sharing
from .snapshots import Snapshots
from .state import write_state
from .watch import FileWatch

#: A save that finds the file changed since its last look merges the change and tries again,
#: this many times at most (then it fails, and is retried later like any failed save).
_CATCH_UP_TRIES = 5
_CHANGED_MEANWHILE = "changed meanwhile"


class NotTheWriter(Exception):
    """Another server took over writing the file while this one was about to (or takes it
    over, as this one may not write it)."""


class FileWriter:
    def __init__(self, file: FileWatch, marked_unsaved: Callable[[], bool]) -> None:
        """``marked_unsaved`` tells whether ``state.dirty``, the front end's unsaved-changes
        mark, must stay: edits came since the save took the document."""
        self._marked_unsaved = marked_unsaved
        self._file = file
        self._history = file.history
        self._files = file.files
        self.snapshots: Snapshots | None = None  # set once the document is loaded
        self.sharing: Sharing = Alone()  # likewise
        self.preparation = file.files.save_preparation(file.kind, file.history)  # big ones' saves

    async def write(self) -> str:
        """Merge what changed in the file since the last look, then write it: again when it
        changed while the document was being rendered. An outside change is never written over."""
        for _ in range(_CATCH_UP_TRIES):
            await self._file.catch_up()
            status = await self._write()
            if status != _CHANGED_MEANWHILE:
                return status
        raise OSError(f"{self._file.path} kept changing while it was being saved")

    async def _write(self) -> str:
        await self.preparation.done()  # what was started ahead (a base's digest): not twice
        # The state is taken on the loop without encoding it (snapshots.py), and rendered off it.
        assert self.snapshots is not None, "saves start once the document is loaded"
        parts, mark = self.snapshots.take(), self._history.mark()
        saved_digest = self._history.base_digest
        base = self._history.base_update if saved_digest is None else None
        job = self._files.render_job(
            self._file.kind, parts, newline=self._file.newline, base=base, saved_digest=saved_digest
        )
        rendered = await self._files.render(job)
        self.snapshots.merged(parts, rendered.snapshot)
        if base is not None and rendered.base_digest is not None:
            self._history.digested(base, rendered.base_digest)  # lazily: most rooms never save
        # Before the skip: "the file holds it" is no answer for a file that is not there.
        if self._file.gone and not await self._files.exists(self._file.path):
            raise NotFound(f"{self._file.path} was deleted: not recreating it")
        if rendered.unchanged:
            write_state(self._file.doc, dirty=self._clean())
            return "skipped"
        if rendered.new_ids is not None:  # cells whose id repeats get new ones, then the save
            UpdateListeners.of(self._file.doc).apply(rendered.new_ids, Origin.SERVER_API)
            return _CHANGED_MEANWHILE
        recorded = await self._history.saving(mark, rendered.snapshot)  # else: compacted since
        if not recorded or not await self._file.unchanged():
            return _CHANGED_MEANWHILE
        if not await self.sharing.confirm_writer(rendered.digest):
            raise NotTheWriter
        self._file.attempt = SaveAttempt(rendered.snapshot, rendered.digest, mark)
        saved = self._file.state = await self._write_file(rendered)
        self._file.attempt = None
        self._history.file_path = self._file.path
        self._history.saved(rendered.snapshot, mark, saved.hash, rendered.digest)
        # The hash first: it reaches the other servers with the content, in this very turn,
        # and tells the next writer that the file holds this save (watch.py ``_adopt``).
        write_state(self._file.doc, path=self._file.path, dirty=self._clean(), hash=saved.hash)
        await self.sharing.saved(SavedFile(rendered.snapshot, saved.hash, rendered.digest))
        self._file.tell("INFO", "save")
        return "success"

    def _clean(self) -> bool | None:
        """``dirty = false``, unless the mark must stay (None: left as it is)."""
        return None if self._marked_unsaved() else False

    async def _write_file(self, rendered: Rendered) -> FileState:
        """Write the file. A refusal to write it (this server may not) hands it to another
        server of the cluster that has the room open, if any: it saves instead."""
        try:
            return await self._files.write_rendered(self._file.path, self._file.kind, rendered)
        except (HTTPError, OSError) as error:
            if not may_not_write(error) or not await self.sharing.hand_over():
                raise
            msg = f"This server may not write the file ({error}): another server writes it."
        # INFO, no action: the front end shows every WARNING as a dialog in every window, and
        # an INFO save is logged at DEBUG only; an operator should see this one.
        self._file.tell("INFO", msg=msg)
        raise NotTheWriter
