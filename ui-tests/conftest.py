"""Fixtures: one ``jupyter lab`` for the session, one Chromium, a browser context per user."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from documents import TestFolder
from lab_server import JUPYTER_ENV, REFERENCE, LabServer, jupyter_command
from network import Relay
from pages import LabPage

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READER_COOKIE = "ycollab-ui-role"  # see jupyter_server_test_config.py

FAILED = pytest.StashKey[bool]()

NewUser = Callable[..., LabPage]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reference_bug(reason): jupyter-collaboration 5.0.4 fails this test (a bug ours fixes); "
        "expected to fail when that server is under test",
    )


def pytest_report_header() -> list[str]:
    return [f"jupyter: {' '.join(jupyter_command())} (set {JUPYTER_ENV} to change)"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether setup or the test body raised, for the artifact-saving teardown."""
    report: pytest.TestReport = yield
    if report.when in ("setup", "call") and call.excinfo is not None:
        item.stash[FAILED] = True
    return report


def test_slug(item: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", item.name).strip("-")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    server = LabServer(home=tmp_path_factory.mktemp("lab"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def reference_bugs(request: pytest.FixtureRequest, lab_server: LabServer) -> None:
    """Against the reference server, tests marked ``reference_bug`` are expected to fail."""
    marker = request.node.get_closest_marker("reference_bug")
    if marker is not None and lab_server.collaboration == REFERENCE:
        reason = f"reference server bug: {marker.args[0] if marker.args else ''}"
        # Not strict: some of these bugs are races that the reference occasionally wins.
        request.applymarker(pytest.mark.xfail(reason=reason, raises=AssertionError))


@pytest.fixture
def folder(lab_server: LabServer, request: pytest.FixtureRequest) -> TestFolder:
    """A fresh folder in the served root, named after the test."""
    test_folder = TestFolder(lab_server.root, test_slug(request.node))
    if test_folder.disk.exists():
        shutil.rmtree(test_folder.disk)
    test_folder.disk.mkdir(parents=True)
    return test_folder


@pytest.fixture
def autosave_off(lab_server: LabServer) -> Iterator[None]:
    """JupyterLab's "Autosave Documents" off for the pages opened after this fixture.

    Each front end then announces ``autosave: false`` in its awareness, so the server saves only
    on Ctrl-S (or never, leaving edits unsaved).
    """
    settings = lab_server.settings_dir / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True, exist_ok=True)
    settings_file = settings / "plugin.jupyterlab-settings"
    settings_file.write_text(json.dumps({"autosave": False}))
    yield
    settings_file.unlink()


@pytest.fixture
def new_user(
    browser: Browser, lab_server: LabServer, request: pytest.FixtureRequest
) -> Iterator[NewUser]:
    """Make users: ``new_user("A")``, ``new_user("R", reader=True)``, each a browser context;
    ``new_user("A", via=relay)`` reaches the server through a ``network.Relay``.

    On failure, each user's screenshot and console log, and the server log written during the
    test, go to ``ui-tests/artifacts/<test name>/``.
    """
    slug = test_slug(request.node)
    log_offset = lab_server.log_size()
    made: list[LabPage] = []

    def make(label: str, *, reader: bool = False, via: Relay | None = None) -> LabPage:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        if reader:
            context.add_cookies(
                [{"name": READER_COOKIE, "value": "reader", "url": lab_server.base_url}]
            )
        page = context.new_page()
        page.set_default_timeout(30_000)
        base_url = lab_server.base_url if via is None else via.base_url
        user = LabPage(page, base_url=base_url, token=lab_server.token, label=label)
        user.workspace = re.sub(r"[^a-z0-9-]+", "-", f"{slug}-{label}".lower())
        made.append(user)
        return user

    yield make

    if request.node.stash.get(FAILED, False):
        save_artifacts(ARTIFACTS / slug, made, lab_server.log_since(log_offset))
    for user in made:
        user.settle()
        user.page.context.close()


def save_artifacts(target: Path, users: list[LabPage], server_log: str) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for user in users:
        try:
            user.page.screenshot(path=target / f"{user.label}.png", full_page=True, timeout=15_000)
        except PlaywrightError as error:  # a crashed page must not hide the other artifacts
            user.note(f"[artifacts] screenshot failed: {error}")
        (target / f"{user.label}-console.log").write_text("\n".join(user.log) + "\n")
    (target / "server.log").write_text(server_log)
