"""The shared cache's counters: exact under concurrency, counting on from where they start, expiring on time."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache

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
    assert cache.get(f"{key}:expires-at") is None  # Redis keeps the expiry itself: no second key, no extra trips
    time.sleep(1.2)
    assert increment(key, timeout=2) == 1


def test_on_the_embedded_file_cache_a_counter_keeps_the_expiry_it_was_created_with(tmp_path, monkeypatch):
    """Django's generic incr rewrites the value with the cache's default timeout (300 s): a version number would
    vanish five minutes after a change, a 900 s lockout window would end after 300 s."""
    file_cache = FileBasedCache(str(tmp_path / "cache"), {})
    monkeypatch.setattr("tgesweeper.counters.backend", lambda: file_cache)
    forever, window = fresh_key(), fresh_key()
    assert [increment(forever, timeout=None, start=1) for _ in range(2)] == [2, 3]
    assert [increment(window, timeout=900) for _ in range(2)] == [1, 2]
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 600)  # past the default timeout, inside the window
    assert increment(forever, timeout=None) == 4
    assert increment(window, timeout=900) == 3
    monkeypatch.setattr(time, "time", lambda: now + 1000)  # past the window
    assert increment(window, timeout=900) == 1
