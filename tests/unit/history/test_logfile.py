"""The update log (format and file) on real files: group commit, torn tails, damage, versions,
compaction."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Text

from jupyter_ycollab.codec.updates import merged_update
from jupyter_ycollab.history.history import History
from jupyter_ycollab.history.logfile import UpdateLog, read_log, write_fresh
from jupyter_ycollab.history.records import (
    CHECKPOINT,
    HEADER,
    SAVING,
    UPDATE,
    encode_record,
    header_record,
    parse_log,
    saved_record,
)
from jupyter_ycollab.settings import Settings

from ...client import wait_until


def _text_doc(text: str = "") -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.get("source", type=Text).insert(0, text)
    return doc


def _fresh_log(path: Path, lineage: str = "L1") -> bytes:
    base = _text_doc("hello").get_update()
    write_fresh(path, [header_record(lineage, "room"), encode_record(CHECKPOINT, base)])
    return base


def test_a_fresh_log_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "a.ylog"
    base = _fresh_log(path)
    contents = read_log(path)
    assert contents is not None
    assert (contents.lineage, contents.checkpoint, contents.updates) == ("L1", base, [])


def test_a_missing_log_is_none(tmp_path: Path) -> None:
    assert read_log(tmp_path / "none.ylog") is None


def test_a_torn_last_record_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "a.ylog"
    _fresh_log(path)
    whole = encode_record(UPDATE, b"\x01\x02\x03")
    with open(path, "ab") as file:
        file.write(whole + whole[:-2])  # the crash cut the second record short
    contents = read_log(path)
    assert contents is not None and contents.updates == [b"\x01\x02\x03"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:20] + b"\xff" + data[21:], id="flipped-byte-mid-log"),
        pytest.param(lambda data: b"garbage" + data, id="no-header"),
    ],
)
def test_a_damaged_log_is_moved_aside_not_trusted(tmp_path: Path, damage: Any) -> None:
    path = tmp_path / "a.ylog"
    _fresh_log(path)
    with open(path, "ab") as file:
        file.write(encode_record(UPDATE, b"\x00\x00"))
    path.write_bytes(damage(path.read_bytes()))
    assert read_log(path) is None
    assert not path.exists()
    assert len(list(tmp_path.glob("a.ylog.unreadable-*"))) == 1


def test_an_unknown_version_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "a.ylog"
    header = encode_record(HEADER, json.dumps({"version": 99, "lineage": "x"}).encode())
    write_fresh(path, [header, encode_record(CHECKPOINT, b"\x00\x00")])
    assert read_log(path) is None
    assert list(tmp_path.glob("a.ylog.unreadable-*"))


def test_saved_records_say_how_much_of_the_log_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "a.ylog"
    _fresh_log(path)
    with open(path, "ab") as file:
        file.write(
            encode_record(UPDATE, b"u1") + saved_record("h1", 1) + encode_record(UPDATE, b"u2")
        )
    contents = parse_log(path.read_bytes())
    assert (contents.saved_hash, contents.saved_seq) == ("h1", 1)
    assert contents.base_updates() == [contents.checkpoint, b"u1"]


async def test_appends_reach_the_disk_within_the_commit_delay(tmp_path: Path) -> None:
    path = tmp_path / "a.ylog"
    _fresh_log(path)
    log = UpdateLog(path, commit_delay=0.05, size=path.stat().st_size)
    for index in range(100):
        log.append_update(bytes([index]))
    assert read_log(path).updates == []  # type: ignore[union-attr]  # buffered, not yet written

    def committed() -> bool:
        contents = read_log(path)
        return contents is not None and len(contents.updates) >= 100

    await wait_until(committed, 5, "the group commit")
    contents = read_log(path)
    assert contents is not None and contents.updates == [bytes([i]) for i in range(100)]
    await log.close()


@pytest.mark.alone
async def test_history_stays_bounded_and_keeps_its_lineage(tmp_path: Path) -> None:
    settings = Settings(log_dir=tmp_path, log_commit_delay=0.01, log_max_bytes=64 * 1024)
    doc = _text_doc("start")
    history = History("text:file:abc", settings)
    history.begin(doc.get_update(), "hash0")
    await history.open(doc)
    lineage = history.lineage
    text = doc.get("source", type=Text)
    for index in range(100_000):
        text.insert(len(text), f"{index % 10}")
        if index % 1000 == 0:
            await asyncio.sleep(0)  # let the loop run, as between peers' messages
    await history._log.flush()  # type: ignore[union-attr]
    compacted = len(doc.get_update()) + 1024  # base + one update holding everything, + headers
    assert history.path.stat().st_size < max(64 * 1024, 2 * compacted)
    recovered = read_log(history.path)
    assert recovered is not None and recovered.lineage == lineage
    rebuilt: Doc[Any] = Doc()
    rebuilt.apply_update(merged_update([recovered.checkpoint, *recovered.updates]))
    assert str(rebuilt.get("source", type=Text)) == str(text)
    await history.close()


@pytest.mark.parametrize("expected_errors", [["Exception in callback"]])
async def test_a_compaction_that_fails_does_not_hold_commits_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected_errors: list[str]
) -> None:
    settings = Settings(log_dir=tmp_path, log_commit_delay=0.01, log_max_bytes=1024)
    doc = _text_doc("start")
    history = History("text:file:abc", settings)
    history.begin(doc.get_update(), "hash0")
    await history.open(doc)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no room for the compacted log")

    monkeypatch.setattr(history, "_compact_records", broken)
    text = doc.get("source", type=Text)
    text.insert(len(text), "x" * 4096)  # past the bound: a compaction is requested, and fails
    log = history._log
    assert log is not None and log.rewrite_requested
    await wait_until(lambda: not log.rewrite_requested, 5, "the failed request to be dropped")
    text.insert(len(text), "y")
    await asyncio.wait_for(history._log.flush(), 5)  # type: ignore[union-attr]
    recovered = read_log(history.path)
    assert recovered is not None and len(recovered.updates) == 2  # both appended
    await history.close()


def test_a_save_that_started_but_was_not_recorded_is_known(tmp_path: Path) -> None:
    path = tmp_path / "a.ylog"
    _fresh_log(path)
    saving = encode_record(SAVING, b'{"seq": 1}')
    with open(path, "ab") as file:
        file.write(encode_record(UPDATE, b"u1") + saving + encode_record(UPDATE, b"u2"))
    contents = parse_log(path.read_bytes())
    assert contents.saving_updates() == [contents.checkpoint, b"u1"]
    with open(path, "ab") as file:
        file.write(saved_record("h", 1))
    assert parse_log(path.read_bytes()).saving_updates() is None


async def test_each_commit_stamps_its_updates_with_the_time(tmp_path: Path) -> None:
    path = tmp_path / "a.ylog"
    _fresh_log(path)
    log = UpdateLog(path, commit_delay=0.01, size=path.stat().st_size)
    before = time.time()
    log.append_update(b"u1")
    await log.flush()
    middle = time.time()
    log.append_update(b"u2")
    log.append_update(b"u3")
    await log.close()
    contents = parse_log(path.read_bytes())
    assert contents.updates == [b"u1", b"u2", b"u3"]
    first, second, third = contents.times
    assert before <= first <= middle <= second == third <= time.time()


async def test_a_resumed_log_is_appended_to_after_its_torn_tail_is_cut(tmp_path: Path) -> None:
    settings = Settings(log_dir=tmp_path, log_commit_delay=0.01)
    doc = _text_doc("start")
    history = History("text:file:abc", settings)
    history.begin(doc.get_update(), "hash0")
    await history.open(doc)
    text = doc.get("source", type=Text)
    append_text(text, " one")
    await history.close()
    with open(history.path, "ab") as file:
        file.write(encode_record(UPDATE, b"torn")[:-2])  # a crash in the middle of a write

    recovered = read_log(history.path)
    assert recovered is not None and len(recovered.updates) == 1
    again = History("text:file:abc", settings)
    again.resume(recovered)
    resumed: Doc[Any] = Doc()
    resumed.apply_update(merged_update([recovered.checkpoint, *recovered.updates]))
    await again.open(resumed)
    append_text(resumed.get("source", type=Text), " two")
    await again.close()

    contents = parse_log(history.path.read_bytes())
    assert contents.checkpoint == recovered.checkpoint  # appended to, not rewritten
    assert len(contents.updates) == 2 and contents.valid_length == history.path.stat().st_size
    rebuilt: Doc[Any] = Doc()
    rebuilt.apply_update(merged_update([contents.checkpoint, *contents.updates]))
    assert str(rebuilt.get("source", type=Text)) == "start one two"


def append_text(text: Text, suffix: str) -> None:
    text.insert(len(text), suffix)


async def test_a_resumed_log_over_its_bound_is_compacted_at_open(tmp_path: Path) -> None:
    roomy = Settings(log_dir=tmp_path, log_commit_delay=0.01, log_max_bytes=1 << 20)
    settings = Settings(log_dir=tmp_path, log_commit_delay=0.01, log_max_bytes=4096)
    doc = _text_doc("start")
    history = History("text:file:abc", roomy)  # grows past 4096 bytes without compacting
    history.begin(doc.get_update(), "hash0")
    await history.open(doc)
    text = doc.get("source", type=Text)
    for index in range(300):  # a few kilobytes of small updates
        append_text(text, str(index % 10))
        if index % 50 == 0:
            await asyncio.sleep(0)
    await history.close()
    recovered = read_log(history.path)
    assert recovered is not None and recovered.valid_length > 4096
    updates_before = len(recovered.updates)

    again = History("text:file:abc", settings)
    again.resume(recovered)
    resumed: Doc[Any] = Doc()
    resumed.apply_update(merged_update([recovered.checkpoint, *recovered.updates]))
    await again.open(resumed)
    await again.close()

    compacted = parse_log(history.path.read_bytes())
    assert len(compacted.updates) == 1 < updates_before  # base + one update holding the rest
    assert compacted.lineage == recovered.lineage
    rebuilt: Doc[Any] = Doc()
    rebuilt.apply_update(merged_update([compacted.checkpoint, *compacted.updates]))
    assert str(rebuilt.get("source", type=Text)) == str(text)


def test_a_saved_record_may_carry_the_contents_digest(tmp_path: Path) -> None:
    doc = _text_doc("a")
    path = tmp_path / "d.ylog"
    header = header_record("lineage", "room", "d.txt")
    write_fresh(path, [header, encode_record(CHECKPOINT, doc.get_update())])
    assert read_log(path).saved_digest is None  # type: ignore[union-attr]

    with open(path, "ab") as file:
        file.write(saved_record("hash-1", 0, "digest-1") + saved_record("hash-2", 0))
    contents = read_log(path)
    assert contents is not None
    assert (contents.saved_hash, contents.saved_digest) == ("hash-2", None)  # per record

    with open(path, "ab") as file:
        file.write(saved_record("hash-3", 0, "digest-3"))
    contents = read_log(path)
    assert contents is not None
    assert (contents.saved_hash, contents.saved_digest) == ("hash-3", "digest-3")


async def test_a_log_of_little_more_than_a_big_checkpoint_is_reused(tmp_path: Path) -> None:
    settings = Settings(log_dir=tmp_path, log_commit_delay=0.01, log_max_bytes=1024)
    doc = _text_doc("x" * 4096)  # a checkpoint past log_max_bytes on its own
    history = History("text:file:big", settings)
    history.begin(doc.get_update(), "hash0")
    await history.open(doc)
    await history.close()
    inode = history.path.stat().st_ino

    again = History("text:file:big", settings)
    recovered = await again.recover()
    assert recovered is not None
    reopened: Doc[Any] = Doc()
    reopened.apply_update(recovered.checkpoint)
    again.resume(recovered)
    await again.open(reopened)
    assert again.path.stat().st_ino == inode  # appended to, not rewritten
    await again.close()
