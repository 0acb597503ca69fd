"""What the results were measured on and against: date, machine, versions."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from .extensions import foreign_extensions


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _commit(repo: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def describe(repo: Path, mode: str) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "nproc": os.cpu_count(),
        "RAM": f"{_memory_gib():.0f} GiB",
        "python": platform.python_version(),
        "ours": f"jupyter_ycollab @ {_commit(repo)}",
        "extensions turned off for ours": ", ".join(foreign_extensions()) or "none",
        "reference": "jupyter-collaboration 5.0.4",
    }
