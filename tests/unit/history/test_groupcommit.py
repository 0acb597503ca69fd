"""The update logs of all rooms commit together (history/groupcommit.py), on real files: one worker
thread call for every log with records due, no record later than its log's commit delay, an
unhurried record sharing its log's next commit, and one log's failing disk fails only that log."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jupyter_ycollab.history import logfile
from jupyter_ycollab.history.logfile import UpdateLog, read_log, write_fresh
from jupyter_ycollab.history.records import CHECKPOINT, encode_record, header_record

from ...client import wait_until

T = TypeVar("T")


def _log(path: Path, commit_delay: float) -> UpdateLog:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_fresh(path, [header_record("L", "room"), encode_record(CHECKPOINT, b"base")])
    return UpdateLog(path, commit_delay=commit_delay, size=path.stat().st_size)


def _updates(path: Path) -> list[bytes]:
    contents = read_log(path)
    return [] if contents is None else contents.updates


def _count_thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions sent to worker threads from now on."""
    calls: list[str] = []
    to_thread = asyncio.to_thread

    async def counting(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        calls.append(function.__name__)
        return await to_thread(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    return calls


async def test_logs_with_records_waiting_commit_in_one_thread_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = [_log(tmp_path / f"{index}.ylog", commit_delay=0.05) for index in range(3)]
    calls = _count_thread_calls(monkeypatch)

    for index, log in enumerate(logs):
        log.append_update(bytes([index]))
    await wait_until(lambda: all(_updates(log.path) for log in logs), 5, "the commit")

    assert [_updates(log.path) for log in logs] == [[b"\x00"], [b"\x01"], [b"\x02"]]
    assert len(calls) == 1


async def test_a_log_due_much_later_is_neither_taken_early_nor_holds_another_back(
    tmp_path: Path,
) -> None:
    patient = _log(tmp_path / "patient.ylog", commit_delay=60)
    eager = _log(tmp_path / "eager.ylog", commit_delay=0.05)

    patient.append_update(b"p")
    eager.append_update(b"e")

    await wait_until(lambda: _updates(eager.path) == [b"e"], 5, "the eager log's commit")
    assert _updates(patient.path) == []  # an fsync of its own now would be one more in all
    await patient.close()
    assert _updates(patient.path) == [b"p"]
    await eager.close()


async def test_an_unhurried_record_shares_its_logs_next_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = _log(tmp_path / "saved.ylog", commit_delay=0.05)
    other = _log(tmp_path / "other.ylog", commit_delay=0.05)
    calls = _count_thread_calls(monkeypatch)

    saved.mark_saved("hash", 0)  # a save's SAVED mark: recovery can do without it
    other.append_update(b"o")  # another room's edit commits meanwhile, without it
    await wait_until(lambda: _updates(other.path) == [b"o"], 5, "the other log's commit")
    contents = read_log(saved.path)
    assert contents is not None and contents.saved_hash is None
    saved.append_update(b"edit")  # the next edit of its own room: the two share one commit
    await wait_until(lambda: _updates(saved.path) == [b"edit"], 5, "the edit's commit")

    contents = read_log(saved.path)
    assert contents is not None and contents.saved_hash == "hash"
    assert calls == ["_write_all", "_write_all"]


async def test_an_unhurried_record_alone_is_written_by_its_own_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logfile, "UNHURRIED_DELAY", 0.2)
    log = _log(tmp_path / "a.ylog", commit_delay=0.05)

    log.append_update(b"state", unhurried=True)

    await wait_until(lambda: _updates(log.path) == [b"state"], 5, "the unhurried commit")
    await log.close()


async def test_records_added_while_a_commit_writes_are_flushed_too(tmp_path: Path) -> None:
    log = _log(tmp_path / "a.ylog", commit_delay=60)
    log.append_update(b"1")
    first = asyncio.ensure_future(log.flush())
    await asyncio.sleep(0)  # the commit of "1" has started
    log.append_update(b"2")

    await log.flush()

    assert first.done()
    assert _updates(log.path) == [b"1", b"2"]


@pytest.mark.parametrize("expected_errors", [["^Could not write the update log"]])
async def test_a_failing_log_fails_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = _log(tmp_path / "gone" / "broken.ylog", commit_delay=0.05)
    healthy = _log(tmp_path / "healthy.ylog", commit_delay=0.05)
    shutil.rmtree(tmp_path / "gone")  # its folder disappeared: appending fails

    broken.append_update(b"b")
    healthy.append_update(b"h")
    with pytest.raises(OSError):
        await broken.flush()
    await healthy.flush()
    assert _updates(healthy.path) == [b"h"]

    with caplog.at_level(logging.ERROR):  # a commit nobody waits for: logged
        broken.append_update(b"again")
        await wait_until(lambda: "Could not write the update log" in caplog.text, 5, "the error")


async def test_a_cancelled_flush_does_not_stop_the_commit_others_wait_for(tmp_path: Path) -> None:
    first = _log(tmp_path / "first.ylog", commit_delay=60)
    second = _log(tmp_path / "second.ylog", commit_delay=60)
    first.append_update(b"1")
    second.append_update(b"2")
    impatient = asyncio.ensure_future(first.flush())
    await asyncio.sleep(0)  # the commit of both has started

    impatient.cancel()
    await second.flush()

    assert _updates(second.path) == [b"2"]
    assert _updates(first.path) == [b"1"]  # its commit went on
