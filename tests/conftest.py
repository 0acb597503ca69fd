"""Fixtures: a real Jupyter server with jupyter_ycollab, and helpers to talk to it.

Per-test settings: ``@pytest.mark.ycollab(save_delay=5)`` overrides the YCollabApp defaults below.
Every test that starts a server runs under both ways a document reaches its file (harness.py's
``Variant``): ``[fast]`` (the stock manager, read and written directly) and ``[contents]`` (the
fast path off: the contents manager's own get and save). Markers change that set:
``fast_path_only(reason)``, ``also_other_managers`` (plus ``[subclass]``, ``[sync]`` and
``[jupyterfs]``), ``also_jupytext`` (plus ``[jupytext]``), ``jupytext_only``, ``s3_only``
(``[s3]``: s3contents' manager over an S3 endpoint). ``--variants fast,contents`` runs only
those variants. Unexpected ERROR log records fail the test; a test that provokes one on purpose
lists a regular expression for it in the ``expected_errors`` fixture.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from jupyter_server.serverapp import ServerApp
from nbformat.sign import SQLiteSignatureStore

from .harness import (
    CONTENTS,
    FAST,
    JUPYTERFS,
    JUPYTEXT,
    S3,
    SUBCLASS,
    SYNC,
    Collab,
    Fetch,
    Variant,
)
from .s3server import S3Folder, S3Server

pytest_plugins = ["pytest_jupyter.jupyter_server"]

FAST_SETTINGS: dict[str, Any] = {
    "save_delay": 0.1,
    "max_save_delay": 1.0,
    "cleanup_delay": 0.5,
    "poll_interval": 0.2,
    "keepalive_interval": 0.5,
    "freeze_startup_objects": False,  # tests share one process: tests/test_lifecycle.py has it
}


MARKERS = {
    "ycollab(**settings)": "override YCollabApp settings for this test",
    "fast_path_only(reason)": "run only as [fast]: the test is about the fast path itself",
    "also_other_managers": "also run as [subclass] (a subclass of the stock contents manager), "
    "as [sync] (the synchronous stock manager) and as [jupyterfs] (jupyter-fs's, which hands "
    "each path to another manager)",
    "also_jupytext": "also run as [jupytext], under jupytext's contents manager",
    "jupytext_only": "run only as [jupytext]: the test is about jupytext's formats",
    "s3_only": "run only as [s3]: files kept in object storage by s3contents' manager",
    "alone": "asserts a time or memory bound, or loads the CPU: CI runs these one at a time, "
    "after the others ran in parallel (-m alone)",
}


def pytest_configure(config: pytest.Config) -> None:
    for marker, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {meaning}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--variants",
        help="run only these variants, comma-separated (fast,contents,subclass,jupyterfs,"
        "jupytext,s3); tests that start no server run always",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the variants ``--variants`` leaves out (a CI job per variant, a quick run)."""
    wanted = config.getoption("variants")
    if not wanted:
        return
    names = set(wanted.split(","))
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        variant = callspec.params.get("variant") if callspec else None
        if variant is not None and variant.name not in names:
            dropped.append(item)
        else:
            kept.append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def variants_of(item: pytest.Item) -> list[Variant]:
    """The variants a test's markers ask for (see the module's docstring)."""
    if item.get_closest_marker("jupytext_only"):
        return [JUPYTEXT]
    if item.get_closest_marker("s3_only"):
        return [S3]
    fast_only = item.get_closest_marker("fast_path_only")
    if fast_only:
        if not (fast_only.args or fast_only.kwargs.get("reason")):
            raise pytest.UsageError(f"{item.nodeid}: fast_path_only needs a reason")
        return [FAST]
    variants = [FAST, CONTENTS]
    if item.get_closest_marker("also_other_managers"):
        variants += [SUBCLASS, SYNC, JUPYTERFS]
    if item.get_closest_marker("also_jupytext"):
        variants.append(JUPYTEXT)
    return variants


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that starts a server (its fixtures need ``variant``) over its
    variants, the way pycrdt-websocket parametrizes its fixtures over its two APIs."""
    if "variant" in metafunc.fixturenames:
        variants = variants_of(metafunc.definition)
        metafunc.parametrize("variant", variants, ids=[v.name for v in variants])


@pytest.fixture
async def jp_asyncio_loop() -> asyncio.AbstractEventLoop:
    """Run the server on pytest-asyncio's loop, the one async tests and fixtures run on."""
    return asyncio.get_running_loop()


@pytest.fixture
def ycollab_settings(request: pytest.FixtureRequest, variant: Variant) -> dict[str, Any]:
    settings = dict(FAST_SETTINGS)
    if not variant.fast_path:  # the default stays unset: [fast] runs what users run
        settings["fast_path"] = False
    for marker in reversed(list(request.node.iter_markers("ycollab"))):
        settings.update(marker.kwargs)
    return settings


@pytest.fixture
def jp_server_config(
    ycollab_settings: dict[str, Any], variant: Variant, request: pytest.FixtureRequest
) -> dict[str, Any]:
    extensions = {"jupyter_ycollab": True, "jupyter_server_fileid": True}
    extensions.update(dict.fromkeys(variant.extensions, True))
    server: dict[str, Any] = {"jpserver_extensions": extensions}
    if variant.manager is not None:
        server["contents_manager_class"] = variant.manager
    config = {"ServerApp": server, "YCollabApp": ycollab_settings}
    if variant is S3:
        config["S3ContentsManager"] = request.getfixturevalue("s3").manager_config
    return config


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One S3 endpoint for the session, started by the first test that needs it."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: S3Server, request: pytest.FixtureRequest) -> S3Folder:
    """The test's own folder of the bucket, which its ``[s3]`` server serves."""
    return S3Folder(s3_server, re.sub(r"\W+", "-", request.node.name))


def assert_serving(serverapp: ServerApp, variant: Variant) -> None:
    """The server runs the variant's contents manager (else the test would silently test the
    stock one)."""
    manager = serverapp.web_app.settings["contents_manager"]
    if isinstance(variant.manager, str):
        assert type(manager).__name__ == variant.manager.rpartition(".")[2], repr(manager)
    elif variant.manager is not None:
        assert type(manager) is variant.manager, f"{variant.name}: {manager!r} is serving"
    if "jupyterlab_jupytext" in variant.extensions:
        assert "Jupytext" in type(manager).__name__, f"jupytext is not serving: {manager!r}"


@pytest.fixture
async def collab(
    jp_serverapp: ServerApp,
    jp_fetch: Fetch,
    jp_root_dir: Path,
    jp_http_port: int,
    jp_base_url: str,
    error_logs: ErrorLogCollector,
    variant: Variant,
) -> AsyncIterator[Collab]:
    assert_serving(jp_serverapp, variant)
    for apps in jp_serverapp.extension_manager.extension_apps.values():
        for app in apps:
            error_logs.watch(app.log)
    # pytest-jupyter keeps signatures in memory; a server keeps them in a file, which local
    # notebooks are read against directly (fastpath/read.py): test what runs in production.
    signatures = jp_root_dir.parent / "nbsignatures.db"
    jp_serverapp.contents_manager.notary.store = SQLiteSignatureStore(str(signatures))
    harness = Collab(jp_serverapp, jp_fetch, jp_root_dir, jp_http_port, jp_base_url)
    yield harness
    await harness.close_all()


@pytest.fixture
def expected_errors() -> list[str]:
    """Regular expressions of ERROR log messages this test provokes on purpose."""
    return [r"^\s*To access the server"]  # the server's CRITICAL-level startup banner


class ErrorLogCollector(logging.Handler):
    """Collects ERROR (and worse) records from the root logger and from loggers it is told to
    watch: an extension app's logger does not propagate to the root, so it is watched apart."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.loggers: list[logging.Logger] = [logging.getLogger()]
        self.loggers[0].addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        # One record, seen twice: ours reach the root and, forwarded, the server's logger.
        if not any(seen is record for seen in self.records):
            self.records.append(record)

    def watch(self, logger: logging.Logger) -> None:
        if logger not in self.loggers and not logger.propagate:
            logger.addHandler(self)
            self.loggers.append(logger)

    def detach(self) -> None:
        for logger in self.loggers:
            logger.removeHandler(self)


@pytest.fixture(autouse=True)
def error_logs(expected_errors: list[str]) -> Iterator[ErrorLogCollector]:
    """Fails the test on an ERROR log record it did not list in ``expected_errors``."""
    collector = ErrorLogCollector()
    yield collector
    collector.detach()
    unexpected = [
        f"{record.name}: {record.getMessage()}"
        for record in collector.records
        if not any(re.search(pattern, record.getMessage()) for pattern in expected_errors)
    ]
    assert not unexpected, "unexpected ERROR log records:\n" + "\n".join(unexpected)


@pytest.fixture
def zmq_contexts_closed() -> Iterator[None]:
    """For the modules whose server runs kernels (``usefixtures``: torn down after the server):
    the zmq contexts its kernel clients left are closed with linger 0. Left to the collector, a
    context with a socket still open blocks it forever (pyzmq's ``__del__`` waits for it): the
    next test hung, once closed rooms no longer kept each test's server alive (listeners.py)."""
    yield
    for obj in gc.get_objects():  # garbage included: collecting it first is what hangs
        if issubclass(type(obj), zmq.Context) and not obj.closed:  # not via weak proxies
            obj.destroy(linger=0)
