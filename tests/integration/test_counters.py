"""The shared cache's counters: exact under concurrency, counting on from where they start, expiring on time."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.core.cache import cache

from tests.conftest import needs_redis
from tgesweeper.counters import increment


def fresh_key() -> str:
    return f"test-counter:{uuid.uuid4().hex}"


def test_a_counter_counts_from_its_start_and_returns_each_new_value():
    key = fresh_key()
    assert [increment(key, timeout=60) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3
    versioned = fresh_key()
    assert [increment(versioned, timeout=None, start=1) for _ in range(2)] == [2, 3]


@needs_redis
def test_processes_counting_at_once_never_share_or_lose_a_count():
    key = fresh_key()
    with ThreadPoolExecutor(max_workers=8) as pool:
        values = list(pool.map(lambda _: increment(key, timeout=60), range(400)))
    assert sorted(values) == list(range(1, 401))
    assert cache.get(key) == 400


@needs_redis
def test_a_window_runs_from_its_first_count_and_then_starts_again():
    key = fresh_key()
    assert increment(key, timeout=2) == 1
    time.sleep(1.2)
    assert increment(key, timeout=2) == 2  # counting does not push the window's end back
    time.sleep(1.2)
    assert increment(key, timeout=2) == 1
