"""Extensions that look for jupyter-collaboration as the ``jupyter_server_ydoc`` extension find
jupyter_ycollab's stand-in (compat/standin.py), with the real packages loaded in the server."""

from __future__ import annotations

from typing import Any

import pytest
from jupyter_server.serverapp import ServerApp
from jupyterlab_chat.rtc_lib import get_rtc_provider

from .harness import Collab

EXTENSIONS = {
    "jupyter_ycollab": True,
    "jupyter_server_fileid": True,
    "jupyter_server_nbmodel": True,
    "jupyterlab_chat": True,
    "jupyter_live_content": True,
}


@pytest.fixture
def jp_server_config(ycollab_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": EXTENSIONS},
        "YCollabApp": ycollab_settings,
    }


def nbmodel_rtc_extension(serverapp: ServerApp) -> Any:
    """What jupyter_server_nbmodel took as the collaboration server when it loaded (it keeps
    it in its execution stack and writes outputs through it)."""
    (extension,) = serverapp.extension_manager.extension_apps["jupyter_server_nbmodel"]
    stack = extension._Extension__execution_stack
    return stack._ExecutionStack__ydoc


async def test_jupyter_server_nbmodel_finds_us_as_jupyter_server_ydoc(collab: Collab) -> None:
    assert nbmodel_rtc_extension(collab.serverapp) is collab.compat


async def test_jupyterlab_chat_sees_collaboration_on(collab: Collab) -> None:
    assert get_rtc_provider(collab.serverapp) == "jupyter_server_ydoc"
    info = collab.serverapp.web_app.settings["page_config_data"]["serverSessionRtcInfo"]
    assert info["enabled"] is True  # what it told the front end when it loaded


async def test_the_stand_in_is_not_configured_and_not_a_conflict(collab: Collab) -> None:
    """It is not in ``jpserver_extensions`` (what the refusal to run beside the real package
    reads, test_server_process.py) and the server runs."""
    assert "jupyter_server_ydoc" not in collab.serverapp.jpserver_extensions
    extension = collab.serverapp.extension_manager.extensions["jupyter_server_ydoc"]
    assert extension.enabled
    assert extension.extension_points["jupyter_server_ydoc"].app is collab.compat


async def test_jupyter_live_content_leaves_open_documents_to_the_rooms(collab: Collab) -> None:
    """jupyter-live-content (jupyter-ai 3.2 installs it) watches the files of open documents and
    has the front end reload each from its file when the file changes, unless collaboration is
    on. The rooms take such changes in themselves, merged with the edits not saved yet: the two
    must not both act on one change, so it must find collaboration on, and turn itself off."""
    settings = collab.serverapp.web_app.settings
    assert settings["page_config_data"]["liveContentServerDisabled"] is True
    assert "live_content_manager" not in settings  # no watcher, no websocket route


@pytest.mark.ycollab(disable_rtc=True)
async def test_disable_rtc_reaches_those_who_read_it_from_the_extension(collab: Collab) -> None:
    assert get_rtc_provider(collab.serverapp) is None


class TestARealJupyterServerYdocDisabled:
    """jupyter-collaboration installed but disabled (how users switch to us): the stand-in
    replaces its disabled entry. (The module need not exist for a disabled entry.)"""

    @pytest.fixture
    def jp_server_config(self, ycollab_settings: dict[str, Any]) -> dict[str, Any]:
        extensions = {**EXTENSIONS, "jupyter_server_ydoc": False}
        return {"ServerApp": {"jpserver_extensions": extensions}, "YCollabApp": ycollab_settings}

    async def test_the_stand_in_takes_its_place(self, collab: Collab) -> None:
        assert nbmodel_rtc_extension(collab.serverapp) is collab.compat
        assert get_rtc_provider(collab.serverapp) == "jupyter_server_ydoc"
