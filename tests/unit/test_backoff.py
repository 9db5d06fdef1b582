"""net.backoff_delay: full jitter in [0, min(cap, base·2^attempt)]; a Retry-After wins, uncapped, plus a little jitter."""
import random

import pytest

from tgesweeper import net


@pytest.fixture
def ceiling(monkeypatch):
    """random.uniform answers its upper bound: backoff_delay then returns the top of its jitter range."""
    monkeypatch.setattr(net.random, "uniform", lambda low, high: high)


@pytest.mark.parametrize("attempt, expected", [(0, 1.0), (1, 2.0), (2, 4.0), (5, 32.0), (6, 60.0), (7, 60.0),
                                               (-3, 1.0), (10_000, 60.0)])
def test_the_range_doubles_per_attempt_up_to_the_cap(ceiling, attempt, expected):
    assert net.backoff_delay(attempt, base=1.0, cap=60.0) == expected


def test_base_and_cap_are_the_callers(ceiling):
    assert net.backoff_delay(3, base=0.5, cap=600) == 4.0
    assert net.backoff_delay(3, base=10, cap=25) == 25
    assert net.backoff_delay(3, base=0, cap=60) == 0


def test_the_jitter_is_full_from_zero_to_the_ceiling(monkeypatch):
    monkeypatch.setattr(net.random, "uniform", lambda low, high: low)
    assert net.backoff_delay(4, base=1.0, cap=60.0) == 0.0
    monkeypatch.setattr(net.random, "uniform", random.Random(7).uniform)  # seeded, without touching the global one
    delays = [net.backoff_delay(4, base=1.0, cap=60.0) for _ in range(2000)]
    assert all(0 <= d <= 16 for d in delays)
    assert min(delays) < 1 and max(delays) > 15  # spread over the whole range, not bunched at the ceiling
    assert len(set(delays)) > 1900  # workers retrying together do not come back together
    capped = [net.backoff_delay(20, base=1.0, cap=60.0) for _ in range(2000)]
    assert all(0 <= d <= 60 for d in capped) and max(capped) > 55


def test_retry_after_wins_is_not_capped_and_gets_a_little_jitter():
    delays = [net.backoff_delay(0, base=1.0, cap=60.0, retry_after=300) for _ in range(500)]
    assert all(300 <= d <= 301 for d in delays) and len(set(delays)) > 1
    assert 0 <= net.backoff_delay(0, base=1.0, cap=60.0, retry_after=-5) <= 1.0  # a date in the past: now, jittered
