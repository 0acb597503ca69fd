"""A hash computed in a thread of its own for big data, beside other work (hashlib lets go of
the GIL while it hashes): reading a 20 MB notebook hashes it while parsing it and building its
base, rendering one hashes the file's bytes while encoding the document's merged state; ~10 ms
of each.
"""

from __future__ import annotations

import hashlib
import threading


class Hashing:
    """``hashlib.new(algorithm, data).hexdigest()``, started now, ready at ``result()``."""

    _MIN_BYTES = 1 << 20  # below this, a thread costs more than it saves

    def __init__(self, algorithm: str, data: bytes) -> None:
        self._hash = hashlib.new(algorithm)
        self._thread: threading.Thread | None = None
        if len(data) < self._MIN_BYTES:
            self._hash.update(data)
        else:
            self._thread = threading.Thread(target=self._hash.update, args=(data,), daemon=True)
            self._thread.start()

    def result(self) -> str:
        if self._thread is not None:
            self._thread.join()
        return self._hash.hexdigest()
