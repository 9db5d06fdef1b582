"""``benchmark api``: seed N events, serve the API with gunicorn on 127.0.0.1, drive the locust mix, print figures.

Seeded rows are recognisable (sources named ``bench-api-NN``, event keys ``bench-api-N``), so a run reuses
the events a previous ``--keep`` run left and removes only its own rows otherwise. PostgreSQL generates them
itself (a million in under two minutes); the figures that matter are PostgreSQL's, so there is no other path.
Latency figures are locust's own percentiles over every request of the run.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection, transaction

from api import keys, response_cache
from api.models import ApiKey, Document, Mention, Source, TGEEvent
from tgesweeper.bench.local_process import ROOT, LocalProcess, free_port

LOCUSTFILE = ROOT / "deploy" / "loadtest" / "locustfile.py"
SOURCE_PREFIX = "bench-api-"
SOURCES = 20
CHUNK = 100_000
CHAINS = ("ethereum", "solana", "base", "arbitrum", "bnb", "sui", "aptos", "ton", "")
SYLLABLES = ("ka", "lo", "mi", "ra", "zen", "tor", "vi", "qua", "nex", "sol", "dra", "fen", "lum", "ori", "pax", "bit")


def bench_events():
    return TGEEvent.objects.filter(key__startswith=SOURCE_PREFIX)


def bench_sources():
    return Source.objects.filter(name__startswith=SOURCE_PREFIX)


def seed_events(count: int, *, progress=None) -> float:
    """Make exactly ``count`` benchmark events exist (each with one mention of one document); returns seconds spent."""
    if connection.vendor != "postgresql":
        raise RuntimeError("benchmark api measures the PostgreSQL deployment: set DATABASE_URL=postgresql://...")
    started = time.monotonic()
    if bench_events().count() == count:
        return 0.0
    remove_seeded()
    sources = [Source.objects.create(name=f"{SOURCE_PREFIX}{n:02d}", url=f"https://bench.invalid/{n}.xml",
                                     enabled=False) for n in range(SOURCES)]
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        _seed_chunk(numbers, sources)
        if progress:
            progress(numbers.stop, count)
    _analyze()
    response_cache.invalidate_events()
    return time.monotonic() - started


def _seed_chunk(numbers: range, sources: list[Source]) -> None:
    """Events ``numbers`` with a document and a mention each, generated inside PostgreSQL.

    ``hashint4(i)`` stands in for random draws (name, chain, dates, status, confidence), so the rows do not depend on
    the chunking; published events are those at or above KEYWORD_MIN_CONFIDENCE.
    """
    event, document, mention = (model._meta.db_table for model in (TGEEvent, Document, Mention))
    h = "(hashint4(i * 16 + {salt})::bigint & 2147483647)"
    params = {"first": numbers.start, "last": numbers.stop - 1, "prefix": SOURCE_PREFIX,
              "syllables": list(SYLLABLES), "chains": list(CHAINS), "statuses": TGEEvent.Status.values,
              "threshold": settings.CONFIG["KEYWORD_MIN_CONFIDENCE"], "sources": [s.pk for s in sources]}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {event} (key, project, ticker, chain, tge_date, venues, status, confidence, is_candidate,
                                 review, published, first_seen_at, last_seen_at, mention_count, source_count,
                                 date_sequence)
            SELECT %(prefix)s || i, project, upper(left(project, 3)) || (i %% 97), chain, tge_date, venues, status,
                   confidence, confidence < %(threshold)s, 'unreviewed', confidence >= %(threshold)s, seen, seen, 1, 1,
                   0
            FROM (
                SELECT i,
                       initcap((%(syllables)s::text[])[1 + {h.format(salt=1)} %% 16]
                               || (%(syllables)s::text[])[1 + {h.format(salt=2)} %% 16]
                               || (%(syllables)s::text[])[1 + {h.format(salt=3)} %% 16]) || ' ' || i AS project,
                       (%(chains)s::text[])[1 + {h.format(salt=4)} %% {len(CHAINS)}] AS chain,
                       DATE '2025-01-01' + ({h.format(salt=5)} %% 800)::int AS tge_date,
                       CASE WHEN i %% 5 = 0 THEN '["Binance"]'::jsonb ELSE '[]'::jsonb END AS venues,
                       (%(statuses)s::text[])[1 + {h.format(salt=6)} %% {len(TGEEvent.Status.values)}] AS status,
                       round((0.3 + 0.7 * ({h.format(salt=7)} %% 1000) / 1000.0)::numeric, 3)::float AS confidence,
                       TIMESTAMPTZ '2025-01-01 00:00:00+00'
                           + make_interval(secs => {h.format(salt=8)} %% (700 * 86400)) AS seen
                FROM generate_series(%(first)s, %(last)s) AS i
            ) AS generated""", params)
        cursor.execute(f"""
            INSERT INTO {document} (source_id, external_id, url, title, text, author, lang, published_at,
                                    date_missing, fetched_at, content_hash, matched)
            SELECT (%(sources)s::bigint[])[1 + i %% {len(sources)}], e.key, 'https://bench.invalid/a/' || i,
                   e.project || ' (' || e.ticker || ') sets its token generation event', '', '', '',
                   e.first_seen_at, false, e.first_seen_at, lpad(to_hex(i), 64, '0'), true
            FROM generate_series(%(first)s, %(last)s) AS i JOIN {event} e ON e.key = %(prefix)s || i""", params)
        cursor.execute(f"""
            INSERT INTO {mention} (event_id, document_id, source_id, kind, tge_date, chain, venues, matched_terms,
                                   snippet, confidence, model_version, created_at)
            SELECT e.id, d.id, d.source_id, 'launch', e.tge_date, e.chain, e.venues, '[]'::jsonb, d.title, e.confidence,
                   '', e.first_seen_at
            FROM generate_series(%(first)s, %(last)s) AS i
            JOIN {event} e ON e.key = %(prefix)s || i
            JOIN {document} d ON d.source_id = (%(sources)s::bigint[])[1 + i %% {len(sources)}]
                             AND d.external_id = e.key""", params)


def remove_seeded() -> None:
    """Plain DELETEs: the ORM's cascade would load a million rows into Python first."""
    tables = {model: model._meta.db_table for model in (Mention, Document, TGEEvent, Source)}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {tables[Mention]} WHERE event_id IN "
                       f"(SELECT id FROM {tables[TGEEvent]} WHERE key LIKE %s)", [SOURCE_PREFIX + "%"])
        cursor.execute(f"DELETE FROM {tables[Document]} WHERE source_id IN "
                       f"(SELECT id FROM {tables[Source]} WHERE name LIKE %s)", [SOURCE_PREFIX + "%"])
        cursor.execute(f"DELETE FROM {tables[TGEEvent]} WHERE key LIKE %s", [SOURCE_PREFIX + "%"])
    bench_sources().delete()
    response_cache.invalidate_events()


def _analyze() -> None:
    with connection.cursor() as cursor:
        for model in (TGEEvent, Document, Mention):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


class ApiServer(LocalProcess):
    """gunicorn serving the project on a free 127.0.0.1 port; ready when ``/health/live`` answers."""

    program = "gunicorn"

    def __init__(self, *, workers: int, threads: int, env: dict[str, str], log_path: Path):
        address = f"127.0.0.1:{free_port()}"
        self.url = f"http://{address}"
        super().__init__([sys.executable, "-m", "gunicorn", "tgesweeper.wsgi", "--bind", address,
                          "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
                          "--preload"], env=env, log_path=log_path)

    def is_ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/health/live", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def warm_up(host: str, api_key: str, *, rounds: int) -> None:
    """Open every worker's database connection and fill the metrics cache before anything is timed."""
    headers = {"X-API-Key": api_key}
    for _ in range(rounds):
        requests.get(f"{host}/api/v1/tge-events", headers=headers, timeout=30).raise_for_status()
        requests.post(f"{host}/api/v1/tge-events/search", json={"filters": {}}, headers=headers,
                      timeout=30).raise_for_status()
        requests.get(f"{host}/api/v1/system/metrics", headers=headers, timeout=30).raise_for_status()


def run_locust(host: str, api_key: str, *, users: int, spawn_rate: float, seconds: int, workdir: Path,
               env: dict[str, str]) -> list[dict]:
    prefix = workdir / "locust"
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
               "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s",
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"]
    locust_env = {**env, "TGE_API_KEY": api_key,
                  "LOCUST_SOURCES": ",".join(f"{SOURCE_PREFIX}{n:02d}" for n in range(SOURCES))}
    finished = subprocess.run(command, env=locust_env, cwd=ROOT, capture_output=True, text=True,
                              timeout=seconds + 120, start_new_session=True)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"locust wrote no statistics (exit {finished.returncode}):\n{finished.stderr[-3000:]}")
    with stats.open() as handle:
        return list(csv.DictReader(handle))


def _figures(row: dict) -> dict:
    requests_, failures = int(row["Request Count"]), int(row["Failure Count"])
    return {
        "requests": requests_,
        "requests_per_s": round(float(row["Requests/s"]), 1),
        "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
        "error_rate": round(failures / requests_, 4) if requests_ else None,
    }


def run_api_benchmark(events: int, *, users: int = 20, spawn_rate: float = 10, seconds: int = 60, workers: int = 3,
                      threads: int = 2, use_cache: bool = True, keep: bool = False,
                      server_env: dict[str, str] | None = None, progress=None) -> dict:
    seed_seconds = seed_events(events, progress=progress)
    api_key, raw_key = keys.create_key("benchmark api")
    env = {**os.environ, **(server_env or {}), "API_THROTTLE_RATE": "", "ALLOWED_HOSTS": "127.0.0.1"}
    if not use_cache:
        env["CACHE_TTL_SECONDS"] = "0"
    try:
        with tempfile.TemporaryDirectory(prefix="tge-api-bench-") as tmp, \
                ApiServer(workers=workers, threads=threads, env=env, log_path=Path(tmp) / "gunicorn.log") as server:
            warm_up(server.url, raw_key, rounds=workers * threads)
            rows = run_locust(server.url, raw_key, users=users, spawn_rate=spawn_rate, seconds=seconds,
                              workdir=Path(tmp), env=env)
    finally:
        ApiKey.objects.filter(pk=api_key.pk).delete()
        if not keep:
            remove_seeded()
    total = next(row for row in rows if row["Name"] == "Aggregated")
    return {
        "events": events,
        "seed_seconds": round(seed_seconds, 1),
        "cache": "on" if use_cache else "off",
        "users": users, "seconds": seconds, "gunicorn": f"{workers} workers x {threads} threads",
        **_figures(total),
        "by_request": {row["Name"]: _figures(row) for row in rows if row["Name"] != "Aggregated"},
    }
