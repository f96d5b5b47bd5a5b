"""The dispatcher loop: its wait grows while rounds fail and resets after one that works; a
wake-up cuts the wait short; a stop waits for the round in flight."""

from __future__ import annotations

import threading

import structlog.testing

from tanggap.errors import RoundCutShort
from tanggap.jobs import MAX_BACKOFF_SECONDS, Dispatcher


def test_the_wait_doubles_while_rounds_fail_and_resets_after_one_that_works() -> None:
    outcomes: list[Exception | int] = [OSError("database away")] * 3 + [2]

    def job() -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    dispatcher = Dispatcher("triage", job, 1.5)
    waits = []
    for _ in range(4):
        dispatcher.attempt()
        waits.append(dispatcher.wait_seconds())
    assert waits == [3.0, 6.0, 12.0, 1.5]
    dispatcher.failures = 20
    assert dispatcher.wait_seconds() == MAX_BACKOFF_SECONDS
    assert Dispatcher("slow", job, 600).wait_seconds() == 600  # never shorter than the interval


def test_a_wake_up_cuts_the_wait_short_and_a_stop_waits_for_the_round() -> None:
    rounds: list[int] = []
    second_round = threading.Event()
    release = threading.Event()

    def job() -> int:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            second_round.set()
            release.wait(10)
        return 1

    dispatcher = Dispatcher("triage", job, 3600)
    dispatcher.start()
    dispatcher.wake()
    assert second_round.wait(10)  # an hour's interval, yet a second round
    stopping = threading.Thread(target=dispatcher.stop)
    stopping.start()
    stopping.join(0.2)
    assert stopping.is_alive()  # the round in flight is not cut off
    release.set()
    stopping.join(10)
    assert not stopping.is_alive() and rounds == [0, 1]


def test_a_round_cut_short_logs_what_it_committed() -> None:
    def job() -> int:
        try:
            raise OSError("database away")
        except OSError as error:
            raise RoundCutShort(3) from error

    with structlog.testing.capture_logs() as logs:
        Dispatcher("triage", job, 1.5).attempt()
        Dispatcher("deadlines", lambda: 1 // 0, 1.5).attempt()
    failed = [(e["dispatcher"], e["done"]) for e in logs if e["event"] == "dispatcher.round_failed"]
    assert failed == [("triage", 3), ("deadlines", 0)]
