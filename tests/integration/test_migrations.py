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


def api_migrations_applied() -> set[str]:
    return {name for app, name in MigrationExecutor(connection).loader.applied_migrations if app == "api"}


def test_every_api_migration_reverses_and_applies_again():
    graph = MigrationExecutor(connection).loader.graph
    [leaf] = [node for node in graph.leaf_nodes() if node[0] == "api"]
    order = [name for app, name in graph.forwards_plan(leaf) if app == "api"]  # parents before children
    source = Source.objects.create(name="Wire", url="https://news.example.com/rss", options={})
    Document.objects.create(source=source, external_id="1", title="t", content_hash="h", published_at=timezone.now())
    applied = api_migrations_applied()
    assert applied == set(order) and len(order) >= 11

    # Back one migration at a time, newest first, with data in the tables: migrating to a migration unapplies
    # everything that depends on it, each through its own reverse.
    for target in reversed(order[:-1]):
        call_command("migrate", "api", target, verbosity=0)
        now = api_migrations_applied()
        later = {name for app, name in graph.backwards_plan(("api", target)) if app == "api"} - {target}
        assert target in now and not now & later, target
    call_command("migrate", "api", "zero", verbosity=0)
    assert api_migrations_applied() == set()
    with connection.cursor() as cursor:
        assert "api_document" not in connection.introspection.table_names(cursor)

    call_command("migrate", verbosity=0)
    assert api_migrations_applied() == applied
    call_command("makemigrations", "api", "--check", "--dry-run", verbosity=0)
