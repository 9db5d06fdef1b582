"""Every migration of the app reverses: `migrate api zero` and back again on PostgreSQL, the rollback path of a
release (docs/operations.md: roll back a release), with rows in the tables on the way down."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from api.models import Document, Source
from tests.conftest import needs_postgres

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def api_migrations_applied() -> list[str]:
    executor = MigrationExecutor(connection)
    return sorted(name for app, name in executor.loader.applied_migrations if app == "api")


def test_every_api_migration_reverses_and_applies_again():
    leaves = [name for app, name in MigrationExecutor(connection).loader.graph.leaf_nodes() if app == "api"]
    source = Source.objects.create(name="Wire", url="https://news.example.com/rss", options={})
    Document.objects.create(source=source, external_id="1", title="t", content_hash="h", published_at=timezone.now())
    applied = api_migrations_applied()
    assert len(applied) >= 11 and leaves

    # One step at a time, newest first: each migration's own reverse runs, with data in the tables.
    for name in reversed(applied[1:]):
        previous = applied[applied.index(name) - 1]
        call_command("migrate", "api", previous, verbosity=0)
        assert api_migrations_applied()[-1] == previous, name
    call_command("migrate", "api", "zero", verbosity=0)
    assert api_migrations_applied() == []
    with connection.cursor() as cursor:
        assert "api_document" not in connection.introspection.table_names(cursor)

    call_command("migrate", verbosity=0)
    assert api_migrations_applied() == applied
    call_command("makemigrations", "api", "--check", "--dry-run", verbosity=0)
