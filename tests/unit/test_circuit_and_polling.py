"""The pure decisions behind fetching politely: the per-source circuit breaker and adaptive polling."""
from datetime import datetime, timedelta, timezone

from tgesweeper import circuit, polling

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def test_a_closed_circuit_admits_every_fetch():
    assert circuit.admit(circuit.CLOSED, None, NOW, 60).allowed


def test_an_open_circuit_refuses_until_the_recovery_time_then_admits_one_trial():
    opened = NOW - timedelta(seconds=30)
    refused = circuit.admit(circuit.OPEN, opened, NOW, 60)
    assert not refused.allowed and refused.resume_at == opened + timedelta(seconds=60)
    trial = circuit.admit(circuit.OPEN, opened, NOW + timedelta(seconds=31), 60)
    assert trial.allowed and trial.trial


def test_a_half_open_trial_that_never_reported_is_retried_after_the_recovery_time():
    assert not circuit.admit(circuit.HALF_OPEN, NOW, NOW + timedelta(seconds=10), 60).allowed
    assert circuit.admit(circuit.HALF_OPEN, NOW, NOW + timedelta(seconds=61), 60).trial


def test_failures_open_the_circuit_at_the_threshold_and_a_failed_trial_reopens_it():
    assert circuit.state_after_failure(circuit.CLOSED, 4, 5) == circuit.CLOSED
    assert circuit.state_after_failure(circuit.CLOSED, 5, 5) == circuit.OPEN
    assert circuit.state_after_failure(circuit.HALF_OPEN, 1, 5) == circuit.OPEN


def test_new_items_halve_the_interval_and_empty_fetches_grow_it_within_bounds():
    assert polling.next_interval(300, 12, low=60, high=3600) == 150
    assert polling.next_interval(300, 0, low=60, high=3600) == 450
    assert polling.next_interval(70, 5, low=60, high=3600) == 60
    assert polling.next_interval(3000, 0, low=60, high=3600) == 3600


def test_a_busy_source_converges_to_the_lower_bound_and_a_quiet_one_to_the_upper():
    busy = quiet = 300
    for _ in range(10):
        busy = polling.next_interval(busy, 3, low=60, high=3600)
        quiet = polling.next_interval(quiet, 0, low=60, high=3600)
    assert (busy, quiet) == (60, 3600)
