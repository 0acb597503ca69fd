"""Which server extensions our measured server runs: those of a plain ``pip install
jupyter_ycollab``, whatever else the interpreter has installed.

Installed extensions enable themselves for every server of their environment (a file in
``<prefix>/etc/jupyter/jupyter_server_config.d``), private config folder or not. A venv made with
the test extras has jupytext, jupyter-server-nbmodel, jupyterlab-chat and more: jupytext alone
replaces the contents manager, which turns our fast path off, and a benchmark run there measured
"ours with jupytext" (explicit save of 1,000 cells: 365 ms instead of ~20). Each of the others is
turned off in the server's own config, which takes precedence over what installed packages enable.
"""

from __future__ import annotations

from jupyter_core.paths import jupyter_config_path
from jupyter_server.extension.config import ExtensionConfigManager

#: What ``pip install jupyter_ycollab`` enables: ours, the file ids it names rooms by, and
#: JupyterLab with what it brings (the front end is part of the product).
PLAIN_INSTALL = frozenset(
    {
        "jupyter_ycollab",
        "jupyter_server_fileid",
        "jupyterlab",
        "jupyter_lsp",
        "jupyter_server_terminals",
        "notebook_shim",
    }
)


def foreign_extensions() -> list[str]:
    """The extensions enabled in this environment that a plain install would not have."""
    manager = ExtensionConfigManager(read_config_path=jupyter_config_path())
    enabled = manager.get_jpserver_extensions()
    return sorted(name for name, on in enabled.items() if on and name not in PLAIN_INSTALL)


def only_ours(extension: str) -> dict[str, bool]:
    """``jpserver_extensions`` for our server: ``extension`` on, every foreign one off."""
    return {**dict.fromkeys(foreign_extensions(), False), extension: True}
