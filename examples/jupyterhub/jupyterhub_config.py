"""A local JupyterHub trial of jupyter_ycollab's cluster: two users, one shared folder, one Redis.

Not for production: ``SimpleLocalProcessSpawner`` runs every user's server as the hub's own Unix
user, and ``DummyAuthenticator`` accepts any password. See README.md (next to this file) for the
commands.

Layout under ``$HUBTRIAL_DIR`` (default ``/tmp/hubtrial``):

    shared/                     the one folder both users co-edit
    homes/alice/                alice's root dir: her private files, and
    homes/alice/shared -> ../../shared
    homes/bob/ (the same)
    state/<user>/{data,runtime} each server's own JUPYTER_DATA_DIR / JUPYTER_RUNTIME_DIR
                                (its own file-id database and update logs, as on separate pods)
"""

from __future__ import annotations

import os
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (injected by traitlets)

BASE = Path(os.environ.get("HUBTRIAL_DIR", "/tmp/hubtrial"))
REDIS_URL = os.environ["HUBTRIAL_REDIS_URL"]  # e.g. redis://127.0.0.1:6390/0
PORT = int(os.environ.get("HUBTRIAL_PORT", "8000"))  # the proxy's public port; +1 and +2 too

# Everything on the loopback interface.
c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORT + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.JupyterHub.db_url = f"sqlite:///{BASE / 'hub' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(BASE / "hub" / "jupyterhub_cookie_secret")

# Any password; only these two users.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {"alice", "bob"}

# One server process per user, as the hub's Unix user, rooted at the user's own home.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(BASE / "homes" / "{username}")
c.Spawner.default_url = "/lab"
# "Stop My Server" sends SIGINT first. A server whose stdin is no terminal (a hub started in the
# background, or by systemd) takes it as Ctrl-C: its loop stops without jupyter_server's shutdown,
# and the process often hangs until the hub's SIGKILL a minute later (upstream jupyter_server and
# JupyterHub, not jupyter_ycollab). Ignoring SIGINT lets the SIGTERM that follows stop it cleanly:
# the server saves, hands its shared files' lease over, and its users' cursors leave at once.
c.Spawner.cmd = [
    "sh",
    "-c",
    "trap '' INT; exec jupyterhub-singleuser \"$@\"",
    "jupyterhub-singleuser",
]
c.LocalProcessSpawner.interrupt_timeout = 1  # seconds before SIGTERM
c.Spawner.environment = {
    "JUPYTER_DATA_DIR": lambda spawner: str(BASE / "state" / spawner.user.name / "data"),
    "JUPYTER_RUNTIME_DIR": lambda spawner: str(BASE / "state" / spawner.user.name / "runtime"),
}
c.Spawner.args = [
    # What every user's server gets: the same Redis, and only shared/ is shared.
    f"--YCollabApp.redis_url={REDIS_URL}",
    "--YCollabApp.cluster_folder=shared",
]
if os.geteuid() == 0:  # a container as root: jupyter_server refuses root unless told
    c.Spawner.args.append("--ServerApp.allow_root=True")
