"""The schema (/openapi.json) and the server agree on the rules a fuzzer found them disagreeing on, and every error
has the one shape the README promises: ``{"error": "...", "detail": {field: [messages]}}``."""
from __future__ import annotations

import pytest

from api.models import Source, TGEEvent
from tests.integration.test_api import events  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def schema(client) -> dict:
    return client.get("/openapi.json").json()


def assert_error_shape(response, status: int):
    body = response.json()
    assert response.status_code == status, response.content
    assert set(body) == {"error", "detail"} and isinstance(body["error"], str) and body["error"]
    assert isinstance(body["detail"], dict), body
    return body


@pytest.mark.parametrize("path, status", [("/api/v1/tge-events/999999", 404), ("/api/v1/nowhere", 404),
                                          ("/api/v1/tge-events", 401)])
def test_errors_that_name_no_field_still_answer_an_object(client, reader, path, status):
    assert_error_shape((client if status == 401 else reader).get(path), status)


def test_a_body_that_is_not_an_object_is_a_non_field_error(reader):
    body = assert_error_shape(reader.post("/api/v1/tge-events/search", "[1, 2]", content_type="application/json"), 400)
    assert list(body["detail"]) == ["non_field_errors"]


def test_the_schema_error_component_says_detail_is_an_object(reader):
    detail = schema(reader)["components"]["schemas"]["Error"]["properties"]["detail"]
    assert detail["type"] == "object" and not detail.get("nullable")


def test_an_empty_status_or_review_list_in_a_search_is_no_filter(reader, events):  # noqa: F811
    everything = reader.post("/api/v1/tge-events/search", {"filters": {}}, format="json").json()["count"]
    for field in ("status", "review"):
        response = reader.post("/api/v1/tge-events/search", {"filters": {field: []}}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["count"] == everything > 0


@pytest.mark.parametrize("query, field", [
    ("limit=1&limit=2", "limit"), ("ticker=QSN&ticker=FWD", "ticker"), ("until=", "until"), ("ticker=", "ticker"),
    ("ticker=QSN,,FWD", "ticker"),
])
def test_repeated_or_empty_list_parameters_are_a_400(reader, events, query, field):  # noqa: F811
    body = assert_error_shape(reader.get(f"/api/v1/tge-events?{query}"), 400)
    assert field in body["detail"]


def test_repeated_or_empty_parameters_are_a_400_on_every_list(reader):
    for path in ("documents?source=1&source=2", "documents?until=", "sources?kind=", "sources?limit=1&limit=2"):
        assert_error_shape(reader.get(f"/api/v1/{path}"), 400)


def test_confidence_min_out_of_range_is_a_400_and_the_schema_gives_the_range(reader, events):  # noqa: F811
    for value in ("-0.1", "1.5"):
        assert "confidence_min" in assert_error_shape(reader.get(f"/api/v1/tge-events?confidence_min={value}"),
                                                      400)["detail"]
    parameters = schema(reader)["paths"]["/api/v1/tge-events/"]["get"]["parameters"]
    confidence = next(p for p in parameters if p["name"] == "confidence_min")["schema"]
    assert (confidence["minimum"], confidence["maximum"]) == (0, 1)
    source = next(p for p in schema(reader)["paths"]["/api/v1/documents/"]["get"]["parameters"]
                  if p["name"] == "source")["schema"]
    assert source["minimum"] == 1


def test_a_duplicate_source_name_is_a_409_documented_in_the_schema(staff):
    first = staff.post("/api/v1/sources", {"name": "Wire", "url": "https://news.example.com/rss"}, format="json")
    assert first.status_code == 201, first.content
    again = staff.post("/api/v1/sources", {"name": "Wire", "url": "https://other.example.com/rss"}, format="json")
    assert "name" in assert_error_shape(again, 409)["detail"]
    other = staff.post("/api/v1/sources", {"name": "Other", "url": "https://other.example.com/rss"}, format="json")
    renamed = staff.patch(f"/api/v1/sources/{other.json()['id']}", {"name": "Wire"}, format="json")
    assert_error_shape(renamed, 409)
    assert sorted(Source.objects.values_list("name", flat=True)) == ["Other", "Wire"]
    for method in ("post",):
        assert "409" in schema(staff)["paths"]["/api/v1/sources/"][method]["responses"]
    for method in ("put", "patch"):
        assert "409" in schema(staff)["paths"]["/api/v1/sources/{id}/"][method]["responses"]


def test_the_schema_gives_each_kind_its_options(staff):
    branches = {b["properties"]["kind"]["enum"][0]: b
                for b in schema(staff)["components"]["schemas"]["SourceRequest"]["oneOf"]}
    assert set(branches) == set(Source.Kind.values)
    assert branches["html"]["properties"]["options"]["required"] == ["item", "title"]
    assert branches["rss"]["properties"]["options"]["maxProperties"] == 0
    refused = staff.post("/api/v1/sources", {"name": "Feed", "url": "https://news.example.com/rss",
                                             "options": {"item": "article"}}, format="json")
    assert "options" in assert_error_shape(refused, 400)["detail"]


def test_kind_url_and_options_are_given_together(staff):
    created = staff.post("/api/v1/sources", {"name": "Page", "kind": "html", "url": "https://news.example.com/",
                                             "options": {"item": "article", "title": "h2"}}, format="json")
    assert created.status_code == 201, created.content
    path = f"/api/v1/sources/{created.json()['id']}"
    assert "kind" in assert_error_shape(staff.patch(path, {"options": {"item": "li", "title": "a"}}, format="json"),
                                        400)["detail"]
    moved = staff.patch(path, {"kind": "rss", "url": "https://news.example.com/rss"}, format="json")
    assert moved.status_code == 200 and moved.json()["options"] == {}, moved.content
    staff.patch(path, {"kind": "html", "url": "https://news.example.com/", "options": {"item": "li", "title": "a"}},
                format="json")
    replaced = staff.put(path, {"name": "Page", "url": "https://news.example.com/feed"}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert (replaced.json()["kind"], replaced.json()["options"]) == ("rss", {})


def test_body_fields_take_json_types_only(reader, events):  # noqa: F811
    for filters in ({"include_candidates": "true"}, {"q": 5}, {"confidence_min": "0.5"}):
        assert_error_shape(reader.post("/api/v1/tge-events/search", {"filters": filters}, format="json"), 400)
    assert TGEEvent.objects.exists()
