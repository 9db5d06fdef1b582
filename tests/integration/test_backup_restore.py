"""The runbook's backup and restore (deploy/scripts/pg-backup.sh: pg_dump / pg_restore) round-trips the database:
the restored copy holds the same rows, and a restore over a changed database brings it back."""
from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.utils import timezone

from api.models import Document, Source, TGEEvent
from tests.conftest import needs_postgres
from tgesweeper.bench.local_process import database_url_for_processes

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres,
              pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs pg_dump / pg_restore")]
SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "scripts" / "pg-backup.sh"


def run(*args: str) -> str:
    done = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(url: str) -> tuple:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        counts = []
        for table in ("api_source", "api_document", "api_tgeevent"):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts.append(cur.fetchone()[0])
        cur.execute("SELECT project FROM api_tgeevent ORDER BY id")
        return (*counts, [r[0] for r in cur.fetchall()])


@pytest.fixture
def spare_database():
    """An empty database next to the test database, dropped afterwards."""
    url = database_url_for_processes()
    name = f"restore_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    yield url.rsplit("/", 1)[0] + f"/{name}"
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_a_dump_restores_into_an_empty_database_and_over_a_changed_one(tmp_path, spare_database):
    source = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    Document.objects.create(source=source, external_id="1", title="Quillstone TGE", content_hash="h",
                            published_at=timezone.now())
    TGEEvent.objects.create(key="quillstone", project="Quillstone", confidence=0.9)
    url = database_url_for_processes()
    dump = tmp_path / "tge.dump"

    assert "dumped to" in run("dump", url, str(dump))
    before = rows(url)
    assert before[:3] == (1, 1, 1)

    run("restore", str(dump), spare_database)
    assert rows(spare_database) == before

    TGEEvent.objects.create(key="ferrowind", project="Ferrowind", confidence=0.9)  # a change after the backup
    Document.objects.all().delete()
    run("restore", str(dump), url)
    assert rows(url) == before
