"""Which refusals are given again before the upgrade, and for how long (web/refusals.py)."""

from __future__ import annotations

import pytest

from jupyter_ycollab.errors import CollabError, NotFound, Refused, RoomFull, UnknownSession
from jupyter_ycollab.web.refusals import REPEAT_WINDOW, Refusals

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
        (Refused("busy", close_code=Refused.TRY_AGAIN_LATER), False),  # the hook's own code
        (Refused("gone", close_code=4404), False),
        (RoomFull("full"), False),  # 1013: the front end backs off by itself
        (NotFound("no file"), False),
    ],
)
def test_only_a_refusal_shown_in_a_dialog_is_remembered(
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
