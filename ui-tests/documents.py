"""Files under test: each test gets a folder of its own inside the served root."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waiting import wait_for_value

SAVE_TIMEOUT = 30.0


def notebook_json(sources: list[str]) -> dict[str, Any]:
    """A minimal nbformat 4.5 notebook of code cells, without kernel metadata."""
    cells: list[dict[str, Any]] = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": uuid.uuid4().hex[:8],
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for source in sources
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@dataclass(frozen=True)
class TestFolder:
    """``root/<test>/``: ``rel`` is the path as JupyterLab sees it, ``disk`` the real one."""

    root: Path
    name: str

    __test__ = False  # not a pytest test class

    @property
    def disk(self) -> Path:
        return self.root / self.name

    def rel(self, file_name: str) -> str:
        return f"{self.name}/{file_name}"

    def write_notebook(self, file_name: str, sources: list[str]) -> str:
        return self.write_text(file_name, json.dumps(notebook_json(sources), indent=1) + "\n")

    def write_text(self, file_name: str, text: str) -> str:
        """Write a file as another program would, making sure its mtime moves; return its path."""
        path = self.disk / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        before = path.stat().st_mtime_ns if path.exists() else 0
        path.write_text(text, encoding="utf-8", newline="")
        after = path.stat().st_mtime_ns
        if after <= before:  # coarse timestamps: step it so mtime-based watchers notice
            os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))
        return self.rel(file_name)

    def read_text(self, file_name: str) -> str:
        return (self.disk / file_name).read_text(encoding="utf-8")

    def notebook_sources(self, file_name: str) -> list[str] | None:
        """The cell sources on disk, or ``None`` while the file is not valid JSON (mid-write)."""
        try:
            notebook = json.loads(self.read_text(file_name))
        except (OSError, json.JSONDecodeError):
            return None
        return ["".join(cell["source"]) for cell in notebook["cells"]]

    def cell_ids(self, file_name: str) -> list[str]:
        return [cell["id"] for cell in json.loads(self.read_text(file_name))["cells"]]

    def expect_notebook(self, file_name: str, expected: list[str]) -> None:
        wanted: list[str] | None = expected
        wait_for_value(
            lambda: self.notebook_sources(file_name),
            wanted,
            timeout=SAVE_TIMEOUT,
            what=f"{file_name} on disk to hold the expected cells",
        )

    def expect_text(self, file_name: str, expected: str) -> None:
        wait_for_value(
            lambda: self.read_text(file_name),
            expected,
            timeout=SAVE_TIMEOUT,
            what=f"{file_name} on disk to hold the expected text",
        )
