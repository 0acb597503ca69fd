"""Table tests of the save debounce (pure, injected clock)."""

from __future__ import annotations

from jupyter_ycollab.document.savepolicy import SavePolicy


def test_nothing_pending_means_no_save() -> None:
    policy = SavePolicy(delay=1.0, max_delay=10.0)
    assert not policy.pending
    assert policy.due_at() is None


def test_quiet_period_debounces() -> None:
    policy = SavePolicy(delay=1.0, max_delay=10.0)
    policy.changed(0.0)
    assert policy.due_at() == 1.0
    policy.changed(0.5)
    assert policy.due_at() == 1.5


def test_max_delay_caps_a_burst_that_never_pauses() -> None:
    policy = SavePolicy(delay=1.0, max_delay=3.0)
    for tick in range(20):
        policy.changed(tick * 0.5)  # an edit every half second for ten seconds
    assert policy.due_at() == 3.0


def test_edits_during_a_save_start_a_new_burst() -> None:
    policy = SavePolicy(delay=1.0, max_delay=10.0)
    policy.changed(0.0)
    ticket = policy.take()
    assert ticket == 0.0 and not policy.pending
    policy.changed(1.2)  # arrives while the save runs
    assert policy.due_at() == 2.2


def test_a_failed_save_is_retried_not_before_its_back_off() -> None:
    policy = SavePolicy(delay=1.0, max_delay=10.0)
    policy.changed(0.0)
    ticket = policy.take()
    policy.give_back(ticket, retry_at=5.0)
    assert policy.pending
    assert policy.due_at() == 5.0
    policy.take()
    assert policy.due_at() is None


def test_give_back_keeps_the_earliest_change() -> None:
    policy = SavePolicy(delay=1.0, max_delay=4.0)
    policy.changed(0.0)
    ticket = policy.take()
    policy.changed(2.0)
    policy.give_back(ticket, retry_at=2.5)
    assert policy.first_change == 0.0
    assert policy.due_at() == 3.0  # max(min(2+1, 0+4), 2.5)


def test_retry_now_lifts_a_back_off() -> None:
    policy = SavePolicy(delay=1.0, max_delay=10.0)
    policy.changed(0.0)
    policy.give_back(policy.take(), retry_at=float("inf"))
    assert policy.due_at() == float("inf")
    policy.retry_now()
    assert policy.due_at() == 1.0
