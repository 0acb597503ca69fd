"""The update logs of all rooms commit together (groupcommit.py), on real files: one worker
thread call for every log with records waiting, no record later than its log's commit delay,
and one log's failing disk fails only that log."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from jupyter_ycollab.logfile import UpdateLog, read_log, write_fresh
from jupyter_ycollab.updatelog import CHECKPOINT, encode_record, header_record

from .client import wait_until

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


async def test_a_log_with_a_shorter_delay_is_not_held_back_by_another(tmp_path: Path) -> None:
    patient = _log(tmp_path / "patient.ylog", commit_delay=60)
    eager = _log(tmp_path / "eager.ylog", commit_delay=0.05)

    patient.append_update(b"p")
    eager.append_update(b"e")

    await wait_until(lambda: _updates(eager.path) == [b"e"], 5, "the eager log's commit")
    assert _updates(patient.path) == [b"p"]  # committed early with it: never later than due
    await patient.close()
    await eager.close()


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
    assert _updates(first.path) == [b"1"]  # the same commit went on
