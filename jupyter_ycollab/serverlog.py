"""The extension's log records go where the server's own go, at the server's log level.

Why: the modules log to ``logging.getLogger(__name__)`` (``jupyter_ycollab.*``), whose records
reach only the root logger, while Jupyter writes its own through the server's logger
(``ServerApp``), which does not propagate to the root. Left alone, our INFO and DEBUG lines were
dropped whatever ``--log-level`` said, and our warnings were printed bare (no level, no time) by
Python's last-resort handler. Records still propagate to the root too (pytest's capture, a
deployment's own logging configuration).
"""

from __future__ import annotations

import logging

PACKAGE_LOGGER = "jupyter_ycollab"


class _ToServerLog(logging.Handler):
    """Hands each record to the server logger's own handlers, which format and write it as
    the server's. Not to that logger's parents: the record propagates to those itself."""

    def __init__(self, server_log: logging.Logger) -> None:
        super().__init__()
        self.server_log = server_log

    def emit(self, record: logging.LogRecord) -> None:
        reached = _handlers_reached(logging.getLogger(record.name))
        for handler in self.server_log.handlers:
            if record.levelno >= handler.level and handler not in reached:
                handler.handle(record)


def _handlers_reached(logger: logging.Logger | None) -> list[logging.Handler]:
    """The handlers a record of ``logger`` reaches by propagating: it must not get them twice
    (a test's capture, or a deployment that put one handler on the root and the server)."""
    reached: list[logging.Handler] = []
    while logger is not None:
        reached.extend(logger.handlers)
        logger = logger.parent if logger.propagate else None
    return reached


def follow_server_log(server_log: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
    """Send the package's records to ``server_log`` from now on, at its level (a server started
    again in the same process replaces the last one's)."""
    if isinstance(server_log, logging.LoggerAdapter):
        server_log = server_log.logger
    package = logging.getLogger(PACKAGE_LOGGER)
    for handler in [h for h in package.handlers if isinstance(h, _ToServerLog)]:
        package.removeHandler(handler)
    package.addHandler(_ToServerLog(server_log))
    package.setLevel(server_log.getEffectiveLevel())
