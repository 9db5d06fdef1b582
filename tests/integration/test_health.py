"""``/health/ready`` names the database, cache, broker and Redis actually configured, and checks those."""
import pytest

from tests.conftest import needs_redis, redis_url
from tgesweeper.bench.local_process import free_port
from tgesweeper.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def use(settings, config):
    """``use(redis=..., cache=..., broker=...)``: the served probe runs as if the process had started so."""
    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}

    def configure(*, redis: str, cache: dict, broker: str) -> None:
        config(REDIS_URL=redis, CELERY_BROKER_URL="")
        settings.CACHES = {"default": cache}
        app.conf.update(broker_url=broker, broker_transport_options={})

    yield configure
    app.conf.update(saved)


def database_ok(checks: dict) -> bool:
    return checks["database"] in {"sqlite3: ok", "postgresql: ok"}


def embedded(tmp_path) -> dict:
    return {"redis": "", "broker": f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
            "cache": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": tmp_path / "cache"}}


def on_redis(tmp_path) -> dict:
    url = redis_url()
    return {"redis": url, "broker": url, "cache": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                                   "LOCATION": url}}


@pytest.mark.parametrize("servers, expected", [
    (embedded, {"cache": "filebased: ok", "broker": "sqla+sqlite: ok", "redis": "not configured"}),
    pytest.param(on_redis, {"cache": "redis: ok", "broker": "redis: ok", "redis": "redis: ok"}, marks=needs_redis),
], ids=["embedded default", "redis"])
def test_each_check_names_what_is_configured_and_checks_it(anon, use, tmp_path, servers, expected):
    use(**servers(tmp_path))
    response = anon.get("/health/ready")
    assert response.status_code == 200, response.content
    checks = response.json()["checks"]
    assert database_ok(checks)
    assert {k: v for k, v in checks.items() if k != "database"} == expected


def test_a_configured_redis_that_does_not_answer_makes_the_probe_unready(anon, use, caplog):
    down = f"redis://127.0.0.1:{free_port()}/0"
    use(redis=down,
        cache={"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": down}, broker=down)
    response = anon.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and database_ok(body["checks"])
    assert body["checks"]["cache"] == "redis: ConnectionError"
    assert body["checks"]["redis"] == "redis: ConnectionError"
    assert body["checks"]["broker"].startswith("redis: ") and not body["checks"]["broker"].endswith(": ok")
    assert "127.0.0.1" not in response.content.decode() and "127.0.0.1" in caplog.text
