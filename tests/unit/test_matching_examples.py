"""Short hand-written launch announcements and near-misses through the engine, then corroboration across sources."""
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from tgesweeper.matching import MatchConfig, MatchEngine, MatchInput
from tgesweeper.matching.events import MentionFacts, event_key, summarize_event

PUBLISHED = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def engine(match_config):
    return MatchEngine(match_config)


def judge(engine, title, text=""):
    return engine.judge(MatchInput(title=title, text=text, published_at=PUBLISHED))


def test_it_extracts_project_ticker_and_date_from_a_scheduled_launch(engine):
    match = judge(engine, "Quillstone Network to launch QSN token on December 4, 2026",
                  "The token generation event takes place on December 4, 2026.").match
    assert (match.project, match.ticker, match.tge_date, match.kind) == ("Quillstone Network", "QSN", date(2026, 12, 4),
                                                                         "scheduled")
    assert match.confidence >= 0.85


@pytest.mark.parametrize("title, ticker, kind", [
    ("Ferrowind (FWD) token goes live", "FWD", "live"),
    ("Tessaline ($TSL) TGE postponed", "TSL", "postponed"),
    ("Orbitra opens airdrop claims as ORBX token debuts", "ORBX", "airdrop_claim"),
])
def test_it_reads_tickers_in_every_spelling_and_the_kind(engine, title, ticker, kind):
    match = judge(engine, title).match
    assert (match.ticker, match.kind) == (ticker, kind)


def test_it_resolves_tomorrow_against_the_publication_date(engine):
    match = judge(engine, "Kestrel (KST) token generation event tomorrow").match
    assert match.tge_date == (PUBLISHED + timedelta(days=1)).date()


@pytest.mark.parametrize("title", [
    "Marrowfield rumored to hold a TGE next year",
    "Project may launch a token, hints at airdrop",
    "How to prepare for a token generation event",
    "Allegedly, the team plans a token launch",
])
def test_it_rejects_speculation_and_explainers(engine, title):
    verdict = judge(engine, title)
    assert verdict.match is None and verdict.stage == "rejected"


def test_ordinary_news_stops_at_the_prefilter(engine):
    verdict = judge(engine, "Bitcoin slips below $88,000", "Traders wait for jobs data.")
    assert verdict.match is None and verdict.stage == "prefilter"


def test_the_snippet_is_the_context_window_around_the_match(match_config):
    engine = MatchEngine(replace(match_config, context_window=10))
    match = judge(engine, "Quillstone (QSN) " + "x" * 50, "y" * 50 + " token generation event " + "z" * 50).match
    assert "token generation event" in match.snippet and len(match.snippet) < 60


def test_hostile_text_is_handled_quickly(engine):
    started = datetime.now()
    assert judge(engine, "\x00" * 10, "TGE " * 250_000 + "\u202e\ufeff") is not None
    assert (datetime.now() - started).total_seconds() < 2


def test_config_from_yaml_names_a_bad_key():
    numbers = {"min_confidence": 0.85, "context_window": 100, "max_distance": 50}
    with pytest.raises(ValueError, match="min_confidence"):
        MatchConfig.from_mapping({"context_window": 100, "max_distance": 50})
    with pytest.raises(ValueError, match="tge_keywords"):
        MatchConfig.from_mapping({**numbers, "patterns": {"tge_keywords": [""]}})
    assert MatchConfig.from_mapping({**numbers, "patterns": {"exclusions": ["teaser"]}}).exclusions == ("teaser",)


def test_event_keys_merge_spellings_of_one_project():
    assert event_key("Quillstone Network", "QSN") == event_key("quillstone", "$qsn") == event_key("Quillstone Token", "QSN")
    assert event_key("Quillstone", "QSN") != event_key("Ferrowind", "FWD")


def facts(source, confidence, kind="scheduled", day=None, hours=0):
    return MentionFacts(source=source, confidence=confidence, kind=kind, tge_date=day,
                        seen_at=PUBLISHED + timedelta(hours=hours))


def test_independent_sources_raise_confidence_and_repeats_do_not():
    one = summarize_event([facts("A", 0.8)]).confidence
    same = summarize_event([facts("A", 0.8), facts("A", 0.8, hours=1)]).confidence
    two = summarize_event([facts("A", 0.8), facts("B", 0.8, hours=1)]).confidence
    assert one == same < two <= 1


def test_a_later_postponement_wins_status_and_date():
    summary = summarize_event([facts("A", 0.9, day=date(2026, 12, 4)),
                               facts("B", 0.9, kind="postponed", day=date(2027, 1, 15), hours=5)])
    assert (summary.status, summary.tge_date) == ("postponed", date(2027, 1, 15))
