"""The reference server's own virtualenv: created on first use, reused while its pin matches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REQUIREMENTS = ("jupyter-collaboration==5.0.4", "jupyterlab")
_MARKER = ".ycbench-requirements"


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def is_ready(venv: Path) -> bool:
    marker = venv / _MARKER
    return marker.exists() and marker.read_text() == " ".join(REQUIREMENTS)


def ensure(venv: Path) -> Path:
    """Create `venv` with the pinned reference if it is missing or stale; return its python."""
    if not is_ready(venv):
        print(f"creating {venv} with {' '.join(REQUIREMENTS)} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [
            str(python_of(venv)),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, *REQUIREMENTS], check=True)
        subprocess.run([str(python_of(venv)), "-c", "import jupyter_server_ydoc"], check=True)
        (venv / _MARKER).write_text(" ".join(REQUIREMENTS))
    return python_of(venv)


def uses_pinned_reference(python: Path) -> bool:
    """Whether an existing interpreter (e.g. --reference-python) has the pinned server."""
    check = "import importlib.metadata as m; print(m.version('jupyter-collaboration'))"
    done = subprocess.run([str(python), "-c", check], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip() == "5.0.4"
