"""fastpath/read.py: a notebook read directly has the contents manager's hash, small or big (a big
file is hashed in a thread of its own, beside the parse)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import nbformat
import pytest

from jupyter_ycollab.codec.kinds import DocumentKind
from jupyter_ycollab.fastpath.read import ReadJob, read_notebook_file
from jupyter_ycollab.fastpath.serialise import Signing

from ...harness import make_notebook


@pytest.mark.parametrize("size", [10, 3 * 2**20])
def test_the_hash_is_the_files(tmp_path: Path, size: int) -> None:
    path = tmp_path / "nb.ipynb"
    nbformat.write(make_notebook(["x" * size, "y"]), path)
    database = tmp_path / "signatures.db"
    sqlite3.connect(database).execute(
        "CREATE TABLE nbsignatures (id integer PRIMARY KEY AUTOINCREMENT, algorithm text,"
        " signature text, path text, last_seen timestamp)"
    )
    kind = DocumentKind.parse("json", "notebook")
    job = ReadJob(kind, str(path), "sha256", Signing(b"s", "sha256"), str(database))

    read = read_notebook_file(job)

    assert read is not None
    assert read.file_hash == hashlib.sha256(path.read_bytes()).hexdigest()
