"""Event keys merge one launch reported differently; corroboration and postponement shape the event."""
from datetime import date, datetime, timedelta, timezone

from tgesweeper.matching.events import MentionFacts, event_key, summarize_event

SEEN = datetime(2026, 5, 4, 9, tzinfo=timezone.utc)


def test_spellings_of_one_project_share_a_key():
    assert event_key("Foo Protocol", None) == event_key("foo", "FOO") == event_key("FOO token ($FOO)", "FOO")
    assert event_key("Foo", "FOO") != event_key("Bar", "BAR")


def test_a_missing_name_falls_back_to_the_ticker():
    assert event_key("", "$FOO") == event_key("Foo", None)


def facts(source, confidence, kind="scheduled", day=None, hours=0):
    return MentionFacts(source=source, confidence=confidence, kind=kind, tge_date=day,
                        seen_at=SEEN + timedelta(hours=hours))


def test_independent_sources_raise_confidence_by_noisy_or():
    assert summarize_event([facts("A", 0.8), facts("B", 0.5, hours=1)]).confidence == 0.9


def test_status_never_goes_back_from_live_to_announced():
    summary = summarize_event([facts("A", 0.9, kind="live"), facts("B", 0.9, kind="announce", hours=3)])
    assert summary.status == "live"


def test_a_launch_after_a_postponement_is_live_again():
    summary = summarize_event([facts("A", 0.9, kind="postponed", day=date(2026, 6, 1)),
                               facts("B", 0.9, kind="listing_at_launch", hours=30)])
    assert (summary.status, summary.tge_date) == ("live", date(2026, 6, 1))


def test_no_mentions_is_an_empty_event():
    assert summarize_event([]).confidence == 0.0
