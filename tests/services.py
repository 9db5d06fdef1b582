"""Chooses the servers the test suite runs on, then runs the command it is given (``make test``).

With CI=true, PostgreSQL and Redis on 127.0.0.1 are required and their absence fails loudly.
Without CI, they are used when reachable; otherwise the suite runs on the embedded default
(SQLite and the SQL broker), so a newcomer's laptop needs nothing but Python.
"""
from __future__ import annotations

import os
import sys

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Empty: Redis (or the embedded broker) is the broker too. An amqp:// URL runs the suite with RabbitMQ as the broker.
BROKER_URL = os.environ.get("TEST_BROKER_URL", "")


def postgres_problem(url: str) -> str | None:
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except psycopg2.Error as exc:
        return str(exc).strip()
    return None


def redis_problem(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


def broker_problem(url: str) -> str | None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises the transport's own errors
        return str(exc)
    return None


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: tests/services.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    env = dict(os.environ, APP_ENV="test")
    pg, rd = postgres_problem(PG_URL), redis_problem(REDIS_URL)
    if ci and (pg or rd):
        for name, url, problem in (("PostgreSQL", PG_URL, pg), ("Redis", REDIS_URL, rd)):
            if problem:
                print(f"CI=true but {name} at {url} is not reachable: {problem}", file=sys.stderr)
        print("CI needs both servers; start them (see .ci/run) and run again.", file=sys.stderr)
        return 1
    env["DATABASE_URL"] = "" if pg else PG_URL
    env["REDIS_URL"] = "" if rd else REDIS_URL
    if BROKER_URL and (problem := broker_problem(BROKER_URL)):
        print(f"TEST_BROKER_URL={BROKER_URL} is not reachable: {problem}", file=sys.stderr)
        return 1
    env["CELERY_BROKER_URL"] = BROKER_URL
    # Every local test server is 127.0.0.1, one "host" for the shared politeness budget; tests of the budget set their own.
    env.setdefault("NEWS_SCRAPER_RATE_LIMIT", "100000")
    print(f"tests use: database={'SQLite (embedded)' if pg else PG_URL}, "
          f"broker/cache={'embedded (SQL broker, file cache)' if rd else REDIS_URL}"
          + (f", broker={BROKER_URL}" if BROKER_URL else ""), flush=True)
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
