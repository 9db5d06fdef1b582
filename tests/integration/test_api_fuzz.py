"""Schema-driven fuzzing: every operation in /openapi.json, generated inputs (valid and not), every check but the
auth-ignoring one: no 5xx, every answer conforms to the schema (status code, body shape, content type, headers),
what the schema allows is accepted and what it forbids is refused. The draws are derandomized, so the suite asks the
same questions on every run; the schemathesis command in docs/api.md explores further with seeds of its own."""
from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth

import tests.schemathesis_hooks  # noqa: F401 (the settings' string formats)
from api.keys import create_key
from tgesweeper.wsgi import application

schema = schemathesis.openapi.from_wsgi("/openapi.json", application)


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: a request must not close the connection that holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_key(staff_user, api_objects, queued_sweeps, fresh_cache, keep_test_connection, config):
    config(EVENT_STREAM_MAX_SECONDS=1)  # the event stream's body ends after its lifetime, and the fuzzer reads it all
    return create_key("fuzz", staff_user)[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_conforms_to_the_schema(case, staff_key):
    case.call_and_validate(headers={"X-API-Key": staff_key}, excluded_checks=[ignored_auth])
