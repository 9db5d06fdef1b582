"""The served site (uvicorn, ``tgesweeper.asgi``): one request stuck in Django does not hold up the others of the
same process (the live channel shares it: its follower and handlers must never wait on Django's threads either)."""
from __future__ import annotations

import threading

import psycopg2
import pytest
import requests

from api.keys import create_key
from api.models import Source
from tests.conftest import needs_postgres
from tgesweeper.bench.local_process import database_url_for_processes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_postgres]


def test_a_request_waiting_on_a_lock_does_not_hold_up_the_others(start_web, staff_user):
    source = Source.objects.create(name="Locked", url="https://news.example.com/rss")
    _, raw = create_key("ops", staff_user)
    web = start_web()
    holder = psycopg2.connect(database_url_for_processes())
    answers: list[int] = []
    try:
        with holder.cursor() as cursor:  # the row stays locked until the rollback below
            cursor.execute("SELECT id FROM api_source WHERE id = %s FOR UPDATE", [source.pk])
        stuck = threading.Thread(target=lambda: answers.append(requests.patch(
            f"{web.url}/api/v1/sources/{source.pk}", json={"enabled": False}, headers={"X-API-Key": raw},
            timeout=60).status_code))
        stuck.start()
        stuck.join(1.0)
        assert stuck.is_alive(), "the PATCH did not wait for the row lock"
        for path in ("/health/live", "/api/v1/tge-events", "/app/"):
            response = requests.get(web.url + path, headers={"X-API-Key": raw}, timeout=5)
            assert response.status_code == 200, path
        assert stuck.is_alive()
    finally:
        holder.rollback()
        holder.close()
    stuck.join(30)
    assert answers == [200]
    assert not Source.objects.get(pk=source.pk).enabled
