"""The persist transaction: a redelivered batch leaves the same rows; mentions merge into one event."""
from datetime import date

import pytest

from api import store
from api.models import Document, EventChange, Mention, PipelineBatch, Source, TGEEvent
from tgesweeper.matching import Match

pytestmark = pytest.mark.django_db


def doc(external_id: str, title: str) -> dict:
    return {"external_id": external_id, "url": f"https://news.example.com/{external_id}", "title": title,
            "text": title, "author": "", "published_at": "2026-11-20T09:00:00+00:00", "date_missing": False}


def launch(project: str, ticker: str, confidence: float = 0.95, kind: str = "scheduled", when=date(2026, 12, 4)) -> dict:
    return Match(project=project, ticker=ticker, tge_date=when, kind=kind, confidence=confidence,
                 matched_terms=("token generation event",), snippet=f"{project} TGE").to_dict()


@pytest.fixture
def source():
    return Source.objects.create(name="Wire", url="https://news.example.com/rss")


def batch(source, batch_id="b1"):
    return {
        "batch_id": batch_id, "source_id": source.pk, "sweep_source_id": None,
        "documents": [doc("1", "Quillstone sets QSN TGE"), doc("2", "Bitcoin slips"), doc("3", "QSN launch date")],
        "matches": [launch("Quillstone", "QSN"), None, launch("Quillstone", "QSN", 0.9)],
        "failures": [],
    }


def rows():
    return (Document.objects.count(), Mention.objects.count(), TGEEvent.objects.count(),
            list(TGEEvent.objects.values_list("mention_count", "source_count")))


def test_delivering_the_same_batch_twice_leaves_the_same_rows(source):
    first = store.persist_batch(batch(source))
    after_first = rows()
    second = store.persist_batch(batch(source))
    assert not first.duplicate and second.duplicate
    assert rows() == after_first == (3, 2, 1, [(2, 1)])
    assert PipelineBatch.objects.count() == 1


def test_the_same_documents_under_another_batch_id_add_nothing(source):
    store.persist_batch(batch(source, "b1"))
    before = rows()
    store.persist_batch(batch(source, "b2"))
    assert rows() == before


def test_mentions_from_independent_sources_merge_into_one_event(source):
    store.persist_batch(batch(source))
    one_source = TGEEvent.objects.get().confidence
    other = Source.objects.create(name="Desk", url="https://desk.example.com/rss")
    store.persist_batch({"batch_id": "d1", "source_id": other.pk, "sweep_source_id": None,
                         "documents": [doc("x", "QSN token generation event set")],
                         "matches": [launch("Quillstone", "QSN", 0.9)], "failures": []})
    event = TGEEvent.objects.get()
    assert (event.mention_count, event.source_count) == (3, 2)
    assert {(m.source_id, m.document.source_id) for m in event.mentions.select_related("document")} == {
        (source.pk, source.pk), (other.pk, other.pk)}
    assert event.confidence > one_source
    assert event.tge_date == date(2026, 12, 4)


def test_a_later_postponement_updates_status_and_date(source):
    store.persist_batch(batch(source))
    store.persist_batch({"batch_id": "p1", "source_id": source.pk, "sweep_source_id": None,
                         "documents": [doc("9", "QSN TGE postponed")],
                         "matches": [launch("Quillstone", "QSN", 0.9, kind="postponed", when=date(2027, 1, 15))],
                         "failures": []})
    event = TGEEvent.objects.get()
    assert event.status == TGEEvent.Status.POSTPONED
    assert event.tge_date == date(2027, 1, 15)


def test_low_confidence_matches_stay_candidates_for_review(source):
    store.persist_batch({"batch_id": "c1", "source_id": source.pk, "sweep_source_id": None,
                         "documents": [doc("c", "Maybe a token")], "matches": [launch("Vague", "VAG", 0.5)],
                         "failures": []})
    assert TGEEvent.objects.get().is_candidate
    assert Document.objects.get().matched


# --- the outbox: what each persist changed, recorded in its transaction -----------------------------------

def kinds(batch_id: str) -> list[tuple[str, dict, dict]]:
    return [(c.kind, c.old.get("tge_date"), c.new.get("tge_date")) for c in
            EventChange.objects.filter(batch_id=batch_id).order_by("pk")]


def test_each_persist_records_what_it_changed_and_a_redelivery_finds_the_same_changes(source):
    first = store.persist_batch(batch(source))
    assert kinds("b1") == [("new", None, "2026-12-04")]
    change = EventChange.objects.get(batch_id="b1")
    assert (change.source_kind, change.published_at.isoformat()) == ("rss", "2026-11-20T09:00:00+00:00")
    again = store.persist_batch(batch(source))
    assert again.duplicate and again.change_ids == first.change_ids == [change.pk]
    assert EventChange.objects.count() == 1


def test_a_postponement_is_recorded_as_postponed_and_date_changed_with_old_and_new(source):
    store.persist_batch(batch(source))
    store.persist_batch({"batch_id": "p1", "source_id": source.pk, "sweep_source_id": None,
                         "documents": [doc("9", "QSN TGE postponed")],
                         "matches": [launch("Quillstone", "QSN", 0.9, kind="postponed", when=date(2027, 1, 15))],
                         "failures": []})
    assert kinds("p1") == [("date_changed", "2026-12-04", "2027-01-15"), ("postponed", "2026-12-04", "2027-01-15")]
    postponed = EventChange.objects.get(batch_id="p1", kind="postponed")
    assert (postponed.old["status"], postponed.new["status"]) == ("scheduled", "postponed")


def test_a_mention_that_moves_no_date_or_status_is_an_update_and_a_repeat_is_no_change(source):
    store.persist_batch(batch(source))
    other = Source.objects.create(name="Desk", url="https://desk.example.com/rss")
    store.persist_batch({"batch_id": "d1", "source_id": other.pk, "sweep_source_id": None,
                         "documents": [doc("x", "QSN token generation event set")],
                         "matches": [launch("Quillstone", "QSN", 0.9)], "failures": []})
    assert [k for k, *_ in kinds("d1")] == ["updated"]
    outcome = store.persist_batch({"batch_id": "d2", "source_id": other.pk, "sweep_source_id": None,
                                   "documents": [doc("x", "QSN token generation event set")],
                                   "matches": [launch("Quillstone", "QSN", 0.9)], "failures": []})
    assert outcome.change_ids == [] and kinds("d2") == []
