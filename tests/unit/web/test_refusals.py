"""Which refusals are given again before the upgrade, with which status, and for how long
(web/refusals.py)."""

from __future__ import annotations

import pytest

from jupyter_ycollab.errors import (
    BadRequest,
    ClusterBusy,
    CollabError,
    HookFailed,
    LoadFailed,
    NotFound,
    Refused,
    RoomFull,
    UnknownSession,
)
from jupyter_ycollab.web.refusals import REPEAT_WINDOW, RETRY_WINDOW, Refusals, repeat_status

REQUEST = ("alice", "json:notebook:id", "lineage")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("error", "window"),
    [
        (Refused("quota"), REPEAT_WINDOW),  # 1003 and a dialog
        (UnknownSession("old"), REPEAT_WINDOW),  # 1003 and a dialog
        (NotFound("no file"), REPEAT_WINDOW),  # 4404: ignored by a page that had synced
        (LoadFailed("conflict markers"), REPEAT_WINDOW),  # 4500, likewise
        (HookFailed("a bug"), REPEAT_WINDOW),
        (BadRequest("no such format"), REPEAT_WINDOW),  # 4400
        (Refused("gone", close_code=4404), REPEAT_WINDOW),  # the hook's own code
        (Refused("busy", close_code=Refused.TRY_AGAIN_LATER), RETRY_WINDOW),  # 1013
        (ClusterBusy("Redis did not answer"), RETRY_WINDOW),  # 1013
        (RoomFull("full"), RETRY_WINDOW),  # 1013
    ],
)
def test_a_refusal_is_remembered_for_long_and_one_to_try_again_later_for_a_moment(
    error: CollabError, window: float
) -> None:
    clock = Clock()
    refusals = Refusals(clock)
    refusals.note(REQUEST, error)
    clock.now += window - 0.01
    assert refusals.repeated(REQUEST) is error
    clock.now += 0.01
    assert refusals.repeated(REQUEST) is None


def test_a_refusal_is_given_again_to_the_same_request_only() -> None:
    refusals = Refusals(Clock())
    error = Refused("quota")
    refusals.note(REQUEST, error)
    assert refusals.repeated(("bob", *REQUEST[1:])) is None
    assert refusals.repeated((*REQUEST[:2], "another lineage")) is None
    assert refusals.repeated(REQUEST) is error


def test_old_refusals_are_forgotten_as_new_ones_come() -> None:
    clock = Clock()
    refusals = Refusals(clock)
    for user in range(1000):
        refusals.note((str(user), "room", ""), Refused("no"))
    clock.now += REPEAT_WINDOW
    refusals.note(REQUEST, Refused("no"))
    assert len(refusals._recent) == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Refused("quota"), 403),
        (UnknownSession("old"), 409),
        (NotFound("no file"), 404),
        (BadRequest("no such format"), 400),
        (LoadFailed("conflict markers"), 429),  # not 500: no ERROR, with headers, per retry
        (HookFailed("a bug"), 429),
        (ClusterBusy("Redis did not answer"), 429),
    ],
)
def test_a_repeat_is_refused_with_its_errors_status_below_500(
    error: CollabError, status: int
) -> None:
    assert repeat_status(error) == status
