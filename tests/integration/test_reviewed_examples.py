"""Reviewers' decisions become labeled items (``ReviewedExample``): confirm / reject / merge through the served API
and the admin, one example per document (a later decision replaces the earlier), exported in the corpora's shape and
learned from by ``train_detector --with-reviews``."""
from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import call_command

from api import store
from api.models import ReviewedExample, Source, TGEEvent
from tests.detector_corpus import write
from tgesweeper.matching import Match

pytestmark = pytest.mark.django_db


def persist(source, external_id: str, project: str, ticker: str, title: str, text: str = "") -> TGEEvent:
    doc = {"external_id": external_id, "url": f"https://news.example.com/{external_id}", "title": title, "text": text,
           "author": "", "published_at": "2026-11-20T09:00:00+00:00", "date_missing": False}
    match = Match(project=project, ticker=ticker, tge_date=date(2026, 12, 4), kind="scheduled", confidence=0.7,
                  matched_terms=("tge",), snippet=title)
    store.persist_batch({"batch_id": f"b-{external_id}", "source_id": source.pk, "documents": [doc],
                         "matches": [match.to_dict()], "failures": []})
    return TGEEvent.objects.get(mentions__document__external_id=external_id)


def example(external_id: str) -> ReviewedExample:
    return ReviewedExample.objects.get(document__external_id=external_id)


@pytest.fixture
def wire():
    return Source.objects.create(name="Local wire", url="https://news.example.com/rss")


def test_confirm_and_reject_through_the_api_store_the_item_and_a_later_decision_replaces_it(staff, wire,
                                                                                                staff_user):
    event = persist(wire, "1", "Quillstone", "QSN", "Quillstone sets TGE for December 4", "Claims open that day.")
    assert staff.post(f"/api/v1/tge-events/{event.pk}/confirm").status_code == 200
    stored = example("1")
    assert (stored.label, stored.decision, stored.project, stored.ticker, stored.kind) == (
        "tge", "confirmed", "Quillstone", "QSN", "scheduled")
    assert (stored.title, stored.text, stored.source, stored.url) == (
        "Quillstone sets TGE for December 4", "Claims open that day.", "Local wire", "https://news.example.com/1")
    assert stored.published_at.isoformat() == "2026-11-20T09:00:00+00:00" and stored.reviewed_by == staff_user

    assert staff.post(f"/api/v1/tge-events/{event.pk}/reject").status_code == 200
    assert ReviewedExample.objects.count() == 1
    assert (example("1").label, example("1").decision) == ("other", "rejected")


def test_a_merge_labels_the_moved_items_with_the_targets_project_and_review(staff, wire):
    target = persist(wire, "1", "Quillstone", "QSN", "Quillstone sets TGE for December 4")
    copy = persist(wire, "2", "Quillstone Labs Inc", "QSN", "QuillStone Labs Inc to launch QSN")
    waiting = persist(wire, "3", "Ferrowind", "FWD", "Ferrowind to launch FWD token")
    other = persist(wire, "4", "Ferrowind Finance DAO Inc", "FWD", "Ferrowind Finance DAO Inc token soon")
    staff.post(f"/api/v1/tge-events/{target.pk}/confirm")
    assert staff.post(f"/api/v1/tge-events/{copy.pk}/merge", {"into": target.pk}, format="json").status_code == 200
    assert (example("2").label, example("2").decision, example("2").project) == ("tge", "merged", "Quillstone")

    staff.post(f"/api/v1/tge-events/{other.pk}/merge", {"into": waiting.pk}, format="json")
    assert (example("4").label, example("4").project) == ("", "Ferrowind")  # waits for the target's review
    out = io.StringIO()
    call_command("export_reviews", stdout=out)
    assert {item["id"] for item in map(json.loads, out.getvalue().splitlines())} == {
        f"review:{example(n).pk}" for n in ("1", "2")}

    staff.post(f"/api/v1/tge-events/{waiting.pk}/reject")
    assert {example(n).label for n in ("3", "4")} == {"other"}


def test_rejecting_one_launch_of_an_item_keeps_its_confirmed_other_launch(staff, wire):
    """A roundup reports two launches: one confirmed, one rejected; the item stays a launch."""
    first = persist(wire, "r", "Quillstone", "QSN", "Quillstone and Ferrowind set their TGEs")
    doc = {"external_id": "r", "url": "https://news.example.com/r", "title": "Quillstone and Ferrowind set their TGEs",
           "text": "", "author": "", "published_at": "2026-11-20T09:00:00+00:00", "date_missing": False}
    second_match = Match(project="Ferrowind", ticker="FWD", tge_date=None, kind="announce", confidence=0.7)
    store.persist_batch({"batch_id": "b-r2", "source_id": wire.pk, "documents": [doc],
                         "matches": [second_match.to_dict()], "failures": []})
    second = TGEEvent.objects.get(key="ferrowind")
    staff.post(f"/api/v1/tge-events/{first.pk}/confirm")
    staff.post(f"/api/v1/tge-events/{second.pk}/reject")
    assert (example("r").label, example("r").project) == ("tge", "Quillstone")


def test_the_admin_actions_store_examples(admin_client, wire):
    event = persist(wire, "1", "Quillstone", "QSN", "Quillstone sets TGE for December 4")
    admin_client.post("/admin/api/tgeevent/", {"action": "reject", "_selected_action": [event.pk]})
    assert example("1").label == "other"
    page = admin_client.get("/admin/api/reviewedexample/").content.decode()
    assert "Quillstone sets TGE for December 4" in page


def test_train_detector_with_reviews_learns_from_them(staff, wire, tmp_path):
    for i in range(6):
        name = f"Zorvane{'abcdef'[i]}"
        event = persist(wire, f"z{i}", name, f"ZV{i}", f"{name} airdrop portal opens as its token starts trading")
        staff.post(f"/api/v1/tge-events/{event.pk}/confirm")
    corpus = write(tmp_path / "corpus.jsonl")
    out = io.StringIO()
    call_command("export_reviews", stdout=out)
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(exported) == 6 and set(exported[0]) == {
        "id", "title", "text", "url", "published_at", "source", "label", "project", "ticker", "tge_date", "kind",
        "decision"}
    assert exported[0]["published_at"] == "2026-11-20T09:00:00Z" and exported[0]["tge_date"] == "2026-12-04"

    printed = io.StringIO()
    call_command("train_detector", "--corpus", str(corpus), "--with-reviews", "--out", str(tmp_path / "r.json"),
                 "--folds", "2", stdout=printed)
    call_command("train_detector", "--corpus", str(corpus), "--out", str(tmp_path / "c.json"), "--folds", "2",
                 stdout=io.StringIO())
    assert "reviewed items: 6 (6 launches)" in printed.getvalue()
    meta = json.loads((tmp_path / "r.meta.json").read_text())
    assert meta["items"] == 48 + 6 and meta["reviews"]["items"] == 6
    assert (tmp_path / "r.json").read_bytes() != (tmp_path / "c.json").read_bytes()
    assert "zorvane" not in (tmp_path / "r.json").read_text().lower()  # reviewed names are masked like the corpora's
