"""Jupyter configuration for the end-to-end tests (passed as ``--config=<this file>``).

It serves both servers under test: our ``jupyter_ycollab`` (config class ``YCollabApp``) and the
reference ``jupyter-collaboration`` (config class ``YDocExtension``). Traits of a class that is not
loaded are ignored, so both sets of delays are set here.

Per-run values (port, token, root folder, settings and workspace folders) are command-line options
chosen by the fixture in ``conftest.py``; this file holds what is the same for every run.

Identities: every browser context gets its own anonymous user from the server. A context that
carries the cookie ``ycollab-ui-role=reader`` is turned into a read-only user (its username starts
with ``reader-``): the authorizer below denies it ``write`` on ``contents``.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import typing as t

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import PasswordIdentityProvider, User

if t.TYPE_CHECKING:
    from tornado.web import RequestHandler

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (injected by traitlets)

READER_COOKIE = "ycollab-ui-role"
READER_PREFIX = "reader-"

# Short delays so that the tests observe saves and polling quickly.
c.YCollabApp.save_delay = 0.5
c.YCollabApp.max_save_delay = 2.0
c.YCollabApp.cleanup_delay = 10.0
c.YCollabApp.poll_interval = 0.5
c.YCollabApp.timeline_step = 0  # every logged commit is a version on the history slider

c.YDocExtension.document_save_delay = 0.5
c.YDocExtension.document_cleanup_delay = 10.0
c.YDocExtension.file_poll_interval = 0.5

# Enable our extension when the interpreter running the server has it (the reference virtualenv
# does not), and turn jupyter-collaboration's off: a test extra (jupyter-mcp-server) installs it,
# enabled, and beside it ours refuses to start. jupyter-mcp-server itself is off too (enabled
# where it is installed, it opens a notebook of its own at start).
if importlib.util.find_spec("jupyter_ycollab") is not None:
    c.ServerApp.jpserver_extensions = {
        "jupyter_ycollab": True,
        "jupyter_server_ydoc": False,
        "jupyter_mcp_server": False,
    }

# jupytext's server extension (enabled by its jupyter_server_config.d file wherever it is
# installed) replaces the contents manager: off, so that the other tests keep testing the stock
# one and its local fast paths; on for the server of test_jupytext.py.
JUPYTEXT = os.environ.get("YCOLLAB_UI_JUPYTEXT") == "1"
if importlib.util.find_spec("jupytext") is not None:
    c.ServerApp.jpserver_extensions.update({"jupyterlab_jupytext": JUPYTEXT})

# jupyter-server-nbmodel (enabled wherever it is installed) makes the server run the cells and
# write their outputs; off for the server of test_kernel.py where the page runs them, as
# JupyterLab does without it.
if os.environ.get("YCOLLAB_UI_NBMODEL") == "0":
    c.ServerApp.jpserver_extensions.update({"jupyter_server_nbmodel": False})

# test_refused.py's server: a deployment's check_connection refuses every document whose name
# starts with "refused" (as a quota would), with the dialog of jupyter_ycollab's Refused.
if os.environ.get("YCOLLAB_UI_REFUSE") == "1":
    from jupyter_ycollab.errors import Refused
    from jupyter_ycollab.hooks import CollabHooks

    class RefusingHooks(CollabHooks):
        async def check_connection(self, handler: t.Any, room_id: str) -> None:
            file_ids = self.app.serverapp.web_app.settings["file_id_manager"]
            path = file_ids.get_path(room_id.split(":", 2)[-1]) or ""
            if path.rpartition("/")[2].startswith("refused"):
                raise Refused("You have too many documents open")

    c.YCollabApp.hooks_class = RefusingHooks

# Nothing but the documents under test: no news prompt, no update check, no browser.
c.ServerApp.open_browser = False
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
# ``window.jupyterapp``: tests read what the front end concluded (a save completed or failed)
# and open a script with the Notebook factory ("Open With > Notebook").
c.LabApp.expose_app_in_browser = True


class RoleIdentityProvider(PasswordIdentityProvider):
    """Token/cookie authentication as usual; the reader cookie marks a read-only identity."""

    async def get_user(self, handler: RequestHandler) -> User | None:
        found = super().get_user(handler)
        user: User | None = await found if inspect.isawaitable(found) else found
        if user is None or handler.get_cookie(READER_COOKIE) != "reader":
            return user
        if user.username.startswith(READER_PREFIX):
            return user
        return User(
            username=READER_PREFIX + user.username,
            name="Read-only Reader",
            display_name="Read-only Reader",
            initials="RO",
        )


class ReadersCannotWrite(Authorizer):
    """Allow everything, except writing contents for read-only identities."""

    def is_authorized(
        self, handler: RequestHandler, user: User, action: str, resource: str
    ) -> bool:
        return not (
            user.username.startswith(READER_PREFIX) and resource == "contents" and action == "write"
        )


c.ServerApp.identity_provider_class = RoleIdentityProvider
c.ServerApp.authorizer_class = ReadersCannotWrite
