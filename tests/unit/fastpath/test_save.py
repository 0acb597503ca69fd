"""Local paths of API paths (fastpath/save.py ``os_path_of``): the stock contents manager's own
answer, remembered; refused where its ``get`` and ``save`` refuse (outside the root, hidden)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

from jupyter_ycollab.fastpath.save import os_path_of


def test_a_remembered_local_path_is_the_managers_for_its_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cm = AsyncLargeFileManager(root_dir=str(tmp_path / "a"))
    for root in ("a", "b", "a"):  # the root moved: the path follows it
        cm.root_dir = str(tmp_path / root)
        for _ in range(2):
            assert os_path_of(cm, "d/n.ipynb") == cm._get_os_path("d/n.ipynb")
            assert os_path_of(cm, "d/n.ipynb") == str(tmp_path / root / "d" / "n.ipynb")


def test_a_path_outside_the_root_is_refused_every_time(tmp_path: Path) -> None:
    cm = AsyncLargeFileManager(root_dir=str(tmp_path))
    for _ in range(2):
        with pytest.raises(HTTPError):
            os_path_of(cm, "../outside.ipynb")


@pytest.mark.parametrize("path", [".env.ipynb", ".private/n.ipynb", "d/.git/n.ipynb"])
def test_a_hidden_file_is_refused_every_time_unless_allowed(tmp_path: Path, path: str) -> None:
    """As the manager's ``get`` and ``save`` refuse it: 404, as for a missing file."""
    cm = AsyncLargeFileManager(root_dir=str(tmp_path))
    for _ in range(2):
        with pytest.raises(HTTPError) as refused:
            os_path_of(cm, path)
        assert refused.value.status_code == 404
    cm.allow_hidden = True
    assert os_path_of(cm, path) == str(tmp_path / path)


def test_a_hidden_root_is_no_hidden_file(tmp_path: Path) -> None:
    """Only the path under the root counts: a server may serve ``~/.local/share/work``."""
    root = tmp_path / ".work"
    root.mkdir()
    cm = AsyncLargeFileManager(root_dir=str(root))
    assert os_path_of(cm, "n.ipynb") == str(root / "n.ipynb")
