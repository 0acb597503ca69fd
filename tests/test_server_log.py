"""The extension's log records reach the server's log, at the server's level (serverlog.py):
``--log-level`` governs them, and they are formatted and written like Jupyter's own."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from jupyter_ycollab.serverlog import PACKAGE_LOGGER, follow_server_log

from .harness import Collab


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def package_logging() -> Iterator[None]:
    """The package logger's handlers and level as they were: a test must not leave its own."""
    package = logging.getLogger(PACKAGE_LOGGER)
    handlers, level = list(package.handlers), package.level
    yield
    package.handlers[:] = handlers
    package.setLevel(level)


async def test_a_modules_record_reaches_the_log_jupyter_gave_the_extension(
    collab: Collab,
) -> None:
    server_log = collab.extension.log  # the server's, or one it set up for the extension
    assert isinstance(server_log, logging.Logger)
    kept = Kept()
    server_log.addHandler(kept)
    try:
        logging.getLogger(f"{PACKAGE_LOGGER}.document").warning("a line of ours")
    finally:
        server_log.removeHandler(kept)

    assert [(r.name, r.getMessage()) for r in kept.records] == [
        (f"{PACKAGE_LOGGER}.document", "a line of ours")
    ]
    package_level = logging.getLogger(PACKAGE_LOGGER).getEffectiveLevel()
    assert package_level == server_log.getEffectiveLevel()


def test_the_servers_level_applies_and_a_new_server_replaces_the_last(
    package_logging: None,
) -> None:
    first, second = logging.getLogger("test.first"), logging.getLogger("test.second")
    first.setLevel(logging.DEBUG)
    second.setLevel(logging.WARNING)
    kept_first, kept_second = Kept(), Kept()
    first.addHandler(kept_first)
    second.addHandler(kept_second)
    ours = logging.getLogger(f"{PACKAGE_LOGGER}.manager")
    try:
        follow_server_log(first)
        follow_server_log(second)  # a second server in the same process
        ours.info("below the server's level")
        ours.warning("at the server's level")
    finally:
        first.removeHandler(kept_first)
        second.removeHandler(kept_second)

    assert kept_first.records == []
    assert [r.getMessage() for r in kept_second.records] == ["at the server's level"]


def test_a_handler_the_record_reaches_anyway_gets_it_once(package_logging: None) -> None:
    """A handler on both the server's logger and the root (pytest's capture does this with
    some versions) gets each record once."""
    server = logging.getLogger("test.shared_handler_server")
    server.setLevel(logging.INFO)
    shared = Kept()
    server.addHandler(shared)
    logging.getLogger().addHandler(shared)
    try:
        follow_server_log(server)
        logging.getLogger(f"{PACKAGE_LOGGER}.room").warning("once")
    finally:
        server.removeHandler(shared)
        logging.getLogger().removeHandler(shared)

    assert [r.getMessage() for r in shared.records] == ["once"]
