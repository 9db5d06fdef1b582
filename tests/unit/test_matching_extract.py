"""Project, ticker and date extraction, and the dated list of established tokens."""
from datetime import date, datetime, timezone

import pytest

from tgesweeper.matching import get_engine
from tgesweeper.matching.dates import tge_date
from tgesweeper.matching.extract import Extractor
from tgesweeper.matching.known_tokens import is_established, lookup
from tgesweeper.matching.tweets import is_tweet, tweet_name
from tgesweeper.matching.types import MatchInput

PUBLISHED = datetime(2026, 5, 4, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def extractor():
    return Extractor()


@pytest.mark.parametrize("title, project, ticker", [
    ("Participate in the Exclusive Astral Ridge (ARG) Pre-TGE", "Astral Ridge", "ARG"),
    ("Bridge to Nowhere (BTN) Will Be Available on Binance Alpha", "Bridge to Nowhere", "BTN"),
    ("Ethereum scaling solution Vantor unveils governance token", "Vantor", None),
    ("Ethereum Layer 2 Network Quellis Is Dropping a Token", "Quellis", None),
    ("Solana DEX Marlow to introduce token", "Marlow", None),
    ("Cardano-based lender Finnea announces IDO", "Finnea", None),
    ("Ethereum bridge Span Protocol unveils token and airdrop", "Span Protocol", None),
    ("Kestrel launches $KST token", "Kestrel", "KST"),
    ("Holders will soon receive Brightwater's long-awaited airdrop", "Brightwater", None),
])
def test_it_names_the_project_and_ticker_as_headlines_do(extractor, title, project, ticker):
    named = extractor.name(title, "", PUBLISHED)
    assert (named.project, named.ticker) == (project, ticker)


@pytest.mark.parametrize("title, project", [
    ("Quarrybank's Ethereum Layer-2 Tollway Network Is Launching a Token", "Tollway Network"),
    ("Hearthcoin’s largest DeFi protocol ZENLO Launches Governance Token", "ZENLO"),
    ("Ostrava’s Pellum launches governance token", "Pellum"),
    ("Solana’s Brisker DEX to launch its token", "Brisker"),
])
def test_behind_a_possessive_the_subject_is_who_does_the_launching(extractor, title, project):
    assert extractor.name(title, "", PUBLISHED).project == project


@pytest.mark.parametrize("title, project", [
    ("Weekly Wrap: Tavira Confirms Token, Airdrop Season Incoming", "Tavira"),
    ("Daybreak Brief: Gorsk Labs is Launching its Token", "Gorsk Labs"),
    ("Tavira Launches Token: What You Need to Know", "Tavira"),  # the subject before the colon did the verb
    ("Corvel: Token will come, but the app comes first", "Corvel"),  # no verb after the colon: the lead-in is it
])
def test_after_a_lead_in_and_colon_the_subject_is_who_does_the_verb(extractor, title, project):
    assert extractor.name(title, "", PUBLISHED).project == project


@pytest.mark.parametrize("title, project, ticker", [
    ("Binance Launches Pre-Market Trading for Quorvane $QRV Token", "Quorvane", "QRV"),
    ("Binance Hosts Exclusive TGE for Tallis Network: Airdrops Incoming!", "Tallis Network", None),
    ("Gate.io Hosts Ferrow Chain TGE as Mainnet Launches", "Ferrow Chain", None),
    ("Binance Megadrop Announces Listing of PLOVA as Its 2nd Project", "PLOVA", None),
    ("Uniswap Announces Airdrop For Brannock Protocol Governance Token", "Brannock Protocol", None),
])
def test_a_venue_or_an_established_project_acting_for_a_new_one_names_the_new_one(extractor, title, project, ticker):
    named = extractor.name(title, "", PUBLISHED)
    assert (named.project, named.ticker) == (project, ticker)


def test_for_an_established_token_the_venue_does_not_hand_over_the_name(extractor):
    assert extractor.name("Coinbase Launches Trading for Ethereum Token", "", PUBLISHED).project != "Ethereum"


@pytest.mark.parametrize("title, project", [
    ("Harlow Labs Secures $2.5 Million in Seed Round, IDO on KuCoin", "Harlow Labs"),
    ("Mistral Network Initiates 550 Million Airdrop on Optimism", "Mistral Network"),
    ("Aster’s Next Era Begins: TGE Countdown Begins", "Aster"),  # not a launch verb: the owner stays the project
])
def test_a_headline_verb_in_title_case_ends_the_subject(extractor, title, project):
    assert extractor.name(title, "", PUBLISHED).project == project


def test_an_upper_case_word_before_a_kind_of_token_is_its_ticker(extractor):
    assert extractor.name("Shiba Inu to launch TRIX reward token in 2027", "", PUBLISHED).ticker == "TRIX"


@pytest.mark.parametrize("title, project", [
    ("Coinbase-backed veloStack Announces Registration for Community VST Token Sale", "veloStack"),
    ("zkQuarry to launch QRY token", "zkQuarry"),
])
def test_a_name_in_camel_case_is_a_name(extractor, title, project):
    assert extractor.name(title, "", PUBLISHED).project == project


@pytest.mark.parametrize("title, project", [
    ("Wallet CEO Launches New Meme Coin ZORB on Solana", "ZORB"),
    ("Ex-Mayor Debuts ‘Gotham Token’ Memecoin", "Gotham Token"),
    ("Velmora Founder Unveils $GLOW", "GLOW"),
])
def test_a_token_a_person_launches_is_named_by_the_token(extractor, title, project):
    assert extractor.name(title, "", PUBLISHED).project == project


def test_a_person_who_launches_nothing_named_keeps_the_subject(extractor):
    assert extractor.name("Velmora CEO to launch token in June", "", PUBLISHED).project == "Velmora CEO"


def test_a_name_in_brackets_behind_an_established_chain_is_skipped(extractor):
    named = extractor.name("New token built on Polkadot (DOT) explodes after launch",
                           "Tessellate (TSL) is a parachain project.", PUBLISHED)
    assert (named.project, named.ticker) == ("Tessellate", "TSL")


def test_a_token_called_in_the_body_names_an_unnamed_project(extractor):
    named = extractor.name("Vechain's DEX to launch governance token", "Its token, called VEXO, launches Monday.",
                           PUBLISHED)
    assert named.project == "VEXO"


@pytest.mark.parametrize("title, text, expected", [
    ("Foo (FOO) Will Be Available on Binance Alpha (2026-05-06)", "", date(2026, 5, 6)),
    ("Foo token launches on March 3", "", date(2027, 3, 3)),
    ("Foo token launches on June 3", "", date(2026, 6, 3)),
    ("Foo TGE", "The token generation event is set for 12 May 2026.", date(2026, 5, 12)),
    ("Foo TGE tomorrow", "", date(2026, 5, 5)),
    ("Foo TGE", "Binance will then list FOO at 2026-05-09 10:00 (UTC).", date(2026, 5, 9)),
    ("Foo TGE", "Founded on 2019-01-01, the team now prepares.", None),
    ("Foo token launch", "The team may announce details later.", None),
])
def test_it_reads_the_tge_date_relative_to_publication(title, text, expected):
    assert tge_date(title, text, PUBLISHED) == expected


def test_relative_dates_need_a_publication_date():
    assert tge_date("Foo TGE tomorrow", "", None) is None
    assert tge_date("Foo TGE on March 3", "", None) is None


def test_established_means_trading_before_the_item_was_published():
    op = lookup("Optimism", "OP")
    assert not is_established(op, datetime(2022, 4, 27, tzinfo=timezone.utc))
    assert is_established(op, datetime(2023, 4, 27, tzinfo=timezone.utc))


def test_a_ticker_clash_with_another_name_is_not_a_known_token():
    assert lookup("Opal Finance", "OP") is None
    assert lookup(None, "OP") is not None
    assert lookup("Portal to Bitcoin", "PTB") is None
    assert lookup("Dogecoin Rival Shiba Inu", None).ticker == "SHIB"


def test_tweets_name_projects_by_handle():
    assert is_tweet("twitter", "") and not is_tweet("CoinDesk", "https://example.com/a")
    named = tweet_name("#Exchange will list @quillswap_xyz $QSW")
    assert (named.project, named.ticker) == ("quillswap_xyz", "QSW")


def test_a_tweet_without_a_headline_name_uses_the_handle(match_config):
    match = get_engine(match_config).match(MatchInput("will list @quillswap_xyz $QSW at launch", "", PUBLISHED, source="twitter"))
    assert match is not None and match.ticker == "QSW"
