"""Option defaults that depend on where the server runs (options.py)."""

from __future__ import annotations

import sys

import pytest

from jupyter_ycollab.options import CollabOptions


@pytest.mark.parametrize(("platform", "on"), [("linux", True), ("darwin", True), ("win32", False)])
def test_the_render_process_is_on_where_its_pipe_can_be_polled(
    monkeypatch: pytest.MonkeyPatch, platform: str, on: bool
) -> None:
    """Whether the child is ready is polled on its pipe (fastpath/process.py): Windows has no
    ``poll``, and its ``select`` takes only sockets, so there big notebooks render in threads."""
    monkeypatch.setattr(sys, "platform", platform)
    assert CollabOptions().render_process is on
