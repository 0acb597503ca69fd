"""CPU time and resident memory of a process and its descendants, read from Linux's /proc (no
psutil needed). Descendants count: a server that hands work to a child process (ours renders
big notebooks in one) must not look cheaper for it."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process and its descendants have used so far (those
    that exited count once their parent waited for them, as the kernel counts them)."""
    total = 0
    for member in _tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except FileNotFoundError:
            continue  # exited meanwhile: its parent's waited-for counters will have it
        # The command name (field 2) may contain spaces; the fields we need follow its ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / _TICKS_PER_SECOND


def rss_bytes(pid: int) -> int:
    """Resident set size of the process and its live descendants in bytes (pages they share
    count twice: an upper bound)."""
    total = 0
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def descendants(pid: int) -> list[int]:
    """The live descendants of ``pid``."""
    return _tree(pid)[1:]


def _tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    found, pending = [], [pid]
    while pending:
        member = pending.pop()
        found.append(member)
        for task in Path(f"/proc/{member}/task").glob("*"):
            try:
                pending.extend(int(child) for child in (task / "children").read_text().split())
            except FileNotFoundError:
                continue
    return found
