"""Which refusals are given again before the upgrade, with which status, and for how long
(web/refusals.py)."""

from __future__ import annotations

import pytest

from jupyter_ycollab.errors import (
    BadRequest,
    CollabError,
    HookFailed,
    InvalidUpdate,
    LoadFailed,
    NotFound,
    Refused,
    RoomFull,
    UnknownSession,
    UnsupportedFrame,
)
from jupyter_ycollab.web.refusals import REPEAT_WINDOW, Refusals, repeat_status

REQUEST = ("alice", "json:notebook:id", "lineage")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("error", "remembered"),
    [
        (Refused("quota"), True),  # 1003 and a dialog
        (UnknownSession("old"), True),  # 1003 and a dialog
        (NotFound("no file"), True),  # 4404: ignored by a page that had synced
        (LoadFailed("conflict markers"), True),  # 4500, likewise
        (HookFailed("a bug"), True),
        (BadRequest("no such format"), True),  # 4400
        (Refused("gone", close_code=4404), True),  # the hook's own code, likewise
        (Refused("busy", close_code=Refused.TRY_AGAIN_LATER), False),  # the front end backs off
        (RoomFull("full"), False),  # 1013, likewise
        (InvalidUpdate("garbage"), False),  # 1007: about a frame, not the request
        (UnsupportedFrame("text"), False),  # 1003 with no dialog
    ],
)
def test_only_a_refusal_the_front_end_does_not_stop_on_is_remembered(
    error: CollabError, remembered: bool
) -> None:
    refusals = Refusals(Clock())
    refusals.note(REQUEST, error)
    assert (refusals.repeated(REQUEST) is error) is remembered


def test_a_refusal_is_given_again_to_the_same_request_for_the_window_only() -> None:
    clock = Clock()
    refusals = Refusals(clock)
    error = Refused("quota")
    refusals.note(REQUEST, error)
    assert refusals.repeated(("bob", *REQUEST[1:])) is None
    assert refusals.repeated((*REQUEST[:2], "another lineage")) is None
    clock.now += REPEAT_WINDOW - 0.01
    assert refusals.repeated(REQUEST) is error
    clock.now += 0.01
    assert refusals.repeated(REQUEST) is None


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
    ],
)
def test_a_repeat_is_refused_with_its_errors_status_below_500(
    error: CollabError, status: int
) -> None:
    assert repeat_status(error) == status
