"""Generated notebooks: the same bytes for every server and every run (seeded, deterministic)."""

from __future__ import annotations

import base64
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUTPUT_TEXT_BYTES = 1024


@dataclass(frozen=True)
class Workload:
    """One generated notebook: `cells` cells; `big_outputs` cells carry `big_output_bytes` each."""

    name: str
    cells: int
    big_outputs: int = 0
    big_output_bytes: int = 0

    @property
    def filename(self) -> str:
        return f"{self.name}.ipynb"


SMALL = Workload("cells-10", 10)
MEDIUM = Workload("cells-1k", 1_000)
LARGE = Workload("cells-10k", 10_000)
HEAVY = Workload("outputs-20MB", 60, big_outputs=20, big_output_bytes=1_000_000)


def _cell_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def _source(rng: random.Random, index: int) -> str:
    words = " ".join(rng.choice(("alpha", "beta", "gamma", "delta", "x", "y")) for _ in range(8))
    return f"# cell {index}\nvalue_{index} = {rng.randint(0, 10**6)}\nprint('{words}')"


def _stream_output(rng: random.Random) -> dict[str, Any]:
    line = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(63)) + "\n"
    return {"output_type": "stream", "name": "stdout", "text": line * (OUTPUT_TEXT_BYTES // 64)}


def _image_output(rng: random.Random, size: int) -> dict[str, Any]:
    payload = base64.b64encode(rng.randbytes(size * 3 // 4)).decode()
    return {
        "output_type": "display_data",
        "data": {"image/png": payload, "text/plain": "<Figure>"},
        "metadata": {},
    }


def _cell(rng: random.Random, index: int, workload: Workload) -> dict[str, Any]:
    cell_id = _cell_id(rng)
    if index % 3 == 0:
        return {
            "cell_type": "markdown",
            "id": cell_id,
            "metadata": {},
            "source": f"## Part {index}",
        }
    outputs: list[dict[str, Any]] = []
    if index < workload.big_outputs * 3 and index % 3 == 1 and workload.big_output_bytes:
        outputs.append(_image_output(rng, workload.big_output_bytes))
    elif index % 3 == 1:
        outputs.append(_stream_output(rng))
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {},
        "execution_count": index if outputs else None,
        "outputs": outputs,
        "source": _source(rng, index),
    }


def notebook(workload: Workload) -> dict[str, Any]:
    """The nbformat 4.5 notebook of `workload` as a JSON-ready dict."""
    rng = random.Random(f"ycbench:{workload.name}")
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [_cell(rng, index, workload) for index in range(workload.cells)],
    }


class WorkloadCache:
    """Writes each workload once, then copies it wherever a scenario needs a fresh file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def source(self, workload: Workload) -> Path:
        path = self.directory / workload.filename
        if not path.exists():
            text = json.dumps(notebook(workload), indent=1, ensure_ascii=False) + "\n"
            temporary = path.with_suffix(".tmp")
            temporary.write_text(text)
            temporary.replace(path)
        return path

    def place(self, workload: Workload, root: Path, relative: str) -> str:
        """Copy the workload to `root/relative`; returns the API path (relative, `/`-separated)."""
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.source(workload), target)
        return relative
