"""A threads-pool worker (the fetch worker compose runs with 20 threads) shares one match engine: one thread builds
it, the others wait for that one instead of each building its own."""
import threading

import pytest

from api import keyword_rules
from workers import pipeline


@pytest.mark.django_db(transaction=True)  # the threads read the keyword rules on connections of their own
def test_threads_asking_at_once_share_one_engine_built_once(monkeypatch):
    builds = []
    real_build = keyword_rules.build_engine

    def counted_build(*args, **kwargs):
        builds.append(threading.get_ident())
        return real_build(*args, **kwargs)

    monkeypatch.setattr(keyword_rules, "build_engine", counted_build)
    monkeypatch.setattr(pipeline, "_engines", None)
    barrier = threading.Barrier(6)
    engines = []

    def ask():
        barrier.wait()
        engines.append(pipeline.engine())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert len(engines) == 6 and all(engine is engines[0] for engine in engines)
