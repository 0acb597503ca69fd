"""Local paths of API paths (localsave.os_path_of): remembered for stock managers, always the
contents manager's own answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def test_a_subclasss_own_local_paths_are_asked_every_time(tmp_path: Path) -> None:
    class Moving(AsyncLargeFileManager):
        calls = 0

        def _get_os_path(self, path: str) -> Any:
            Moving.calls += 1
            return f"{self.root_dir}/{Moving.calls}/{path}"

    cm = Moving(root_dir=str(tmp_path))
    assert [os_path_of(cm, "n.ipynb") for _ in range(2)] == [
        f"{tmp_path}/1/n.ipynb",
        f"{tmp_path}/2/n.ipynb",
    ]
