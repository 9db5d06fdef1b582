"""CORS lets a listed origin call the API (and no other); issued JWTs carry the spec's defaults and a key of their own."""
from __future__ import annotations

from datetime import timedelta

import jwt as pyjwt
import pytest

from tests.conftest import STAFF_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

DASHBOARD = "https://dashboard.example.com"


def test_a_listed_origin_gets_the_cors_header_and_another_does_not(settings, reader, api_objects):
    settings.CORS_ALLOWED_ORIGINS = [DASHBOARD]

    allowed = reader.get("/api/v1/tge-events", HTTP_ORIGIN=DASHBOARD)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == DASHBOARD

    preflight = reader.options("/api/v1/tge-events", HTTP_ORIGIN=DASHBOARD, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    assert preflight.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()

    other = reader.get("/api/v1/tge-events", HTTP_ORIGIN="https://evil.example")
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Origin" not in reader.get("/admin/login/", HTTP_ORIGIN=DASHBOARD).headers


def test_the_cors_allow_list_comes_from_the_setting_and_is_empty_by_default(settings):
    from tgesweeper.config import load_config

    assert settings.CORS_ALLOWED_ORIGINS == list(settings.CONFIG["CORS_ALLOWED_ORIGINS"])
    assert load_config({})["CORS_ALLOWED_ORIGINS"] == ()
    assert not getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False)
    listed = load_config({"CORS_ALLOWED_ORIGINS": f"{DASHBOARD}, https://ops.example.com"})["CORS_ALLOWED_ORIGINS"]
    assert listed == (DASHBOARD, "https://ops.example.com")


def test_issued_tokens_last_24_hours_and_7_days_signed_hs256_with_a_key_of_their_own(anon, staff_user, settings):
    pair = anon.post("/api/v1/auth/token", {"username": "ops", "password": STAFF_PASSWORD}, format="json")
    assert pair.status_code == 200
    access, refresh = pair.json()["access"], pair.json()["refresh"]
    assert pyjwt.get_unverified_header(access)["alg"] == "HS256"

    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    assert key != settings.SECRET_KEY
    claims = pyjwt.decode(access, key, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == timedelta(hours=24).total_seconds()
    refresh_claims = pyjwt.decode(refresh, key, algorithms=["HS256"])
    assert refresh_claims["exp"] - refresh_claims["iat"] == timedelta(days=7).total_seconds()
    with pytest.raises(pyjwt.InvalidSignatureError):  # the Django secret does not sign (or forge) API tokens
        pyjwt.decode(access, settings.SECRET_KEY, algorithms=["HS256"])
