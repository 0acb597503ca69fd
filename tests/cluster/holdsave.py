"""A post-save hook for the servers of a cluster test: while the file ``hold-saves`` exists
beside the shared folder, it holds every save after the file is written and before the writer
tells the other servers (a writer killed in that window). It waits on that file, 60 s at most."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def hold(os_path: str, **_: Any) -> None:
    flag = Path(os_path).parent.parent / "hold-saves"
    deadline = time.monotonic() + 60
    while flag.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
