"""The engine on invented headlines: launch shapes found with their kind, each noise family refused."""
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from tgesweeper.matching import MatchEngine, MatchInput, get_engine

PUBLISHED = datetime(2026, 5, 4, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def engine(match_config):
    return get_engine(match_config)


def judge(engine, title, text="", published=PUBLISHED, source=""):
    return engine.judge(MatchInput(title=title, text=text, published_at=published, source=source))


def found(engine, title, text="", **kw):
    verdict = judge(engine, title, text, **kw)
    assert verdict.match is not None, verdict.reason
    assert verdict.match.confidence >= engine.config.min_confidence, verdict.reason
    return verdict.match


@pytest.mark.parametrize("title, text, kind", [
    ("Velmora (VLM) Will Be Available on Binance Alpha and Binance Futures (2026-05-06)",
     "Binance is the first platform to feature and open trading for Velmora (VLM) on Binance Alpha.", "listing_at_launch"),
    ("Introducing Corvane (CRV2) on Binance HODLer Airdrops! Earn CRV2 With Retroactive BNB Simple Earn Subscriptions",
     "Binance will then list CRV2 at 2026-05-05 10:00 (UTC).", "listing_at_launch"),
    ("Participate in the Exclusive Tidewell (TDW) Pre-Token Generation Event (Pre-TGE) on Binance Wallet",
     "Eligible users can subscribe to TDW before it becomes tradable.", "scheduled"),
    ("Velmora (VLM) Listing Will Be Postponed on Binance Alpha (2026-05-12)", "", "postponed"),
    ("Kestrelfi postpones TGE to June", "The KSTF token generation event moves.", "postponed"),
    ("Orbitra opens airdrop claims as ORBX token debuts", "", "airdrop_claim"),
    ("Ferrowind (FWD) token goes live", "", "live"),
    ("Quorra token sale goes live", "The public sale of QRA tokens opened at noon.", "live"),
    ("Upbit lists Glimmerdex (GMD) at launch", "", "listing_at_launch"),
    ("Layer 2 network Ardent unveils ARD governance token and airdrop", "", "announce"),
])
def test_it_finds_the_ways_launches_are_reported(engine, title, text, kind):
    assert found(engine, title, text).kind == kind


@pytest.mark.parametrize("title, family", [
    ("Marrowfield may launch a token next year", "speculation"),
    ("Wallet hints at airdrop as users rush to qualify", "speculation"),
    ("Rumored Brightpeak token launch sends users to its bridge", "speculation"),
    ("Sandline teases token sale", "speculation"),
    ("How to prepare for a token generation event", "explainer"),
    ("What is a TGE?", "explainer"),
    ("Airdrop scam drains wallets of Plentix users", "exploit_or_scam"),
    ("Someone exploited the Tarnis airdrop claim contract", "exploit_or_scam"),
    ("Central bank to airdrop digital currency to citizens", "government"),
    ("Binance Will Add Velmora (VLM) Token on Earn, Buy Crypto, Convert & Margin", "post_launch_product"),
    ("Binance Will Support the Pyrex (PYX) Token Swap and Rebranding to Nova (NOV)", "post_launch_product"),
    ("Harbor Labs raises $30M in private token sale", "private_sale"),
    ("Harbor Labs raises $30M for its token wallet", "fundraise"),
    ("Glimmer DAO opens vote on cancelling airdrop", "governance_vote"),
    ("Weekly roundup: new token listings on exchanges", "roundup"),
    ("Spot Solana ETF debuts on Nasdaq", "tradfi"),
    ("Exchange airdrops NFT collection to users", "nft_drop"),
    ("Introducing the Keystone TGE Model on Binance Wallet", "generic_tge"),
    ("Dogwave presale enters final stage before token launch", "presale_promo"),
    ("Rollup network tips native token launch", "speculation"),
    ("Ledgerline debuts testnet, rejects the token sale model", "speculation"),
    ("Founder of a token launchpad arrested", "exploit_or_scam"),
    ("Team to refund investors after token sale misses its target", "governance_vote"),
    ("Exchange operator's shares fall 5% on debut", "tradfi"),
    ("Lending app enables pre-TGE points trading", "points_program"),
    ("What's next for the network after its token launch", "explainer"),
    ("Asset manager launches tokenized money market fund", "real_world_asset"),
])
def test_it_rejects_each_noise_family(engine, title, family):
    verdict = judge(engine, title)
    assert verdict.match is None and verdict.stage == "rejected", verdict.reason
    assert verdict.reason.startswith(family)


def test_price_talk_about_an_established_token_is_not_a_launch(engine):
    verdict = judge(engine, "Dogecoin (DOGE) starts trading on Kraken", published=PUBLISHED)
    assert verdict.match is None and "established token DOGE" in verdict.reason


def test_a_known_token_is_new_news_within_its_first_weeks(engine):
    launch_day = datetime(2022, 5, 31, tzinfo=timezone.utc)
    assert found(engine, "Optimism (OP) token goes live", published=launch_day).ticker == "OP"
    assert judge(engine, "Optimism (OP) token goes live", published=launch_day + timedelta(days=400)).match is None


def test_an_exchange_saying_the_token_already_trades_is_not_a_launch(engine):
    verdict = judge(engine, "Introducing Velmora (VLM) on Binance HODLer Airdrops!",
                    "Please note that users can now trade VLM on Binance Alpha.")
    assert verdict.match is None and verdict.reason.startswith("already_trading")


def test_price_words_turn_a_weak_launch_into_a_candidate(engine):
    verdict = judge(engine, "Lumora airdrops LUM to holders, price jumps 40%")
    assert verdict.match is not None and verdict.match.confidence < engine.config.min_confidence
    assert verdict.stage == "candidate"


def test_a_second_wave_airdrop_is_weaker_than_a_first(engine):
    first = judge(engine, "Peltra airdrops PLT tokens to early users").match
    second = judge(engine, "Peltra airdrops PLT tokens to early users in third airdrop round").match
    assert second.confidence < first.confidence


def test_ordinary_news_stops_at_the_prefilter(engine):
    verdict = judge(engine, "Bitcoin slips below $88,000", "Traders wait for jobs data.")
    assert verdict.match is None and verdict.stage == "prefilter"


def test_a_launch_word_without_a_launch_shape_is_not_a_match(engine):
    verdict = judge(engine, "Token prices drift lower in quiet trading")
    assert verdict.match is None


def test_config_exclusions_reject(match_config):
    custom = MatchEngine(replace(match_config, exclusions=("sponsored",)))
    assert custom.judge(MatchInput("Ferrowind (FWD) token goes live", "Sponsored content.")).match is None


def test_a_watchlist_raises_confidence_but_is_not_required(match_config):
    plain = MatchEngine(match_config)
    watching = MatchEngine(replace(match_config, watchlist=("Ferrowind",)))
    doc = MatchInput("Ferrowind airdrops FWD tokens to early users", "", PUBLISHED)
    assert plain.judge(doc).match is not None
    assert watching.judge(doc).match.confidence > plain.judge(doc).match.confidence


def test_chain_and_venues_are_read_when_stated(engine):
    match = found(engine, "Velmora (VLM) Will Be Available on Binance Alpha and Binance Futures (2026-05-06)",
                  "Binance is the first platform to feature and open trading for Velmora (VLM). Network: BNB Smart Chain.")
    assert match.chain == "BNB Chain"
    assert {"Binance Alpha", "Binance Futures"} <= set(match.venues)


def test_the_snippet_is_the_context_window_around_the_main_term(match_config):
    engine = MatchEngine(replace(match_config, context_window=20))
    match = engine.match(MatchInput("Velmora (VLM) token goes live", "x" * 500, PUBLISHED))
    assert "goes live" in match.snippet and len(match.snippet) <= len("token goes live") + 40


def test_get_engine_is_cached_per_config(match_config):
    assert get_engine(match_config) is get_engine(replace(match_config))
    assert get_engine(replace(match_config, min_confidence=0.5)) is not get_engine(match_config)


def test_date_of_an_alpha_listing_comes_from_the_title(engine):
    match = found(engine, "Velmora (VLM) Will Be Available on Binance Alpha and Binance Futures (2026-05-06)",
                  "Binance is the first platform to feature and open trading for Velmora (VLM).")
    assert match.tge_date == date(2026, 5, 6)


@pytest.mark.parametrize("title, kind", [
    ("Quillnet details QNX airdrop for early users", "announce"),
    ("Brightwater airdrop is now live for early testers", "airdrop_claim"),
    ("Velmora (VLM) makes trading debut on Bybit", "live"),
    ("Introducing Corvane (CVN) on Bybit Launchpool", "listing_at_launch"),
    # how news outlets report launches: first-day stories, native tokens, memecoins, sales, pre-market, dates
    ("Tessaline token plunges hours after debut", "live"),
    ("Marlowe memecoin soars on its trading debut", "live"),
    ("Brindle introduces BRND, its native token for on-chain lending", "announce"),
    ("Singer Vela Quorn launches Quorn memecoin on Solana", "announce"),
    ("Pallas DEX announces its ICO for May", "scheduled"),
    ("Cindervale kicks off public sale on three launchpads", "scheduled"),
    ("Hollow Keep token to launch on June 4", "scheduled"),
    ("Ravenlight token launch date set for March 3", "scheduled"),
    ("Exchange opens pre-market trading for Ostrava (OSV)", "listing_at_launch"),
    ("Quellis launches mainnet and token airdrop", "live"),
    ("Vantor Listing Postponed to June 3", "postponed"),
    ("Corvel Labs launches $CRVL on its own chain", "announce"),
    ("Brennick launches mainnet with low gas fees, dedicated governance token", "announce"),
    ("Tallmere Racing to launch fan token on a sports chain", "announce"),
    ("Ardmoor unveils two new tokens in an overhaul", "announce"),
    ("Pellinor announces the upcoming launch of its PLN token", "announce"),
    ("Vastmere confirms VSM token, airdrop to follow", "announce"),
    ("Quorrel launches airdrop claim and $QRL token trading", "airdrop_claim"),
    ("Exchange launches Corvane (CVN) on HODLer Airdrops", "listing_at_launch"),
    ("Marrowind (MRW) debuts — traders split on its value", "live"),
    ("Quellis unveils tokenomics for its QLS token", "announce"),
    ("Brindle unveils BRND as its native token", "announce"),
    ("Tessaline (TSL) token slides in the first hours of trading", "live"),
    ("Corvane (CVN) becomes tradable on three exchanges", "live"),
    ("Harrowgate opens community sale for HRW token", "scheduled"),
])
def test_more_launch_shapes(engine, title, kind):
    assert found(engine, title).kind == kind


def test_generic_plural_tokens_are_not_a_launch(engine):
    assert judge(engine, "Artists launch social tokens to engage fans").match is None


def test_a_body_opening_with_an_established_token_is_about_that_token(engine):
    verdict = judge(engine, "Holders to receive airdrop, says platform",
                    "Dogecoin (DOGE) holders will get tokens from the Lumen (LMN) project.")
    assert verdict.match is None and "established token DOGE" in verdict.reason


def test_a_central_bank_in_the_body_only_matters_next_to_an_airdrop(engine):
    assert found(engine, "Ferrowind (FWD) token goes live", "Markets await central bank commentary.")
    verdict = judge(engine, "Citizens to get airdrop", "The government will airdrop a digital currency to citizens.")
    assert verdict.match is None and verdict.reason.startswith("government")


def test_a_name_that_merely_starts_like_a_known_token_is_new(engine):
    assert found(engine, "Nexoriny (NEXO) token goes live").project == "Nexoriny"


def test_a_new_token_under_an_established_ticker_is_not_vetoed(engine):
    assert "established token DOGE" in judge(engine, "Dogecoin (DOGE) token launch party in Austin").reason
    relaunch = found(engine, "Dogecoin (DOGE) relaunches as a new token on its own chain")
    assert relaunch.project == "Dogecoin"


def test_a_raise_or_a_question_beside_a_launch_shape_lowers_confidence_instead_of_rejecting(engine):
    verdict = judge(engine, "Pellucid raises $5M in a token sale on two launchpads")
    assert verdict.match is not None and "minus fundraise" in verdict.reason
    assert judge(engine, "Pellucid raises $5M for its token wallet").stage == "rejected"
    asked = judge(engine, "Tarnow token debuts on three exchanges: can it hold its gains?")
    assert asked.match is not None and "question" in asked.reason
    assert judge(engine, "Will Tarnow launch a token?").reason.startswith("asks")


@pytest.mark.parametrize("title", [
    "Brightfold presale could be the next 100x token",
    "Investors flock to Brightfold presale as token launch nears",
])
def test_presale_promotion_is_rejected(engine, title):
    assert judge(engine, title).reason.startswith("presale_promo")


def test_a_presale_that_starts_is_a_launch_not_a_rejection(engine):
    assert found(engine, "Gallowmere kicks off token presale on its own site").kind == "scheduled"
    verdict = judge(engine, "Gallowmere launches GLW token", "Its presale ended last month.")
    plain = found(engine, "Gallowmere launches GLW token")
    assert "minus presale" in verdict.reason and verdict.match.confidence < plain.confidence


def test_presale_wording_with_a_date_is_not_promotion(engine):
    verdict = judge(engine, "Marwick opens its token presale next week")
    assert verdict.match is not None and not verdict.reason.startswith("presale_promo")


def test_a_stablecoin_beside_a_launch_shape_lowers_confidence(engine):
    verdict = judge(engine, "Harrowgate (HGUSD) stablecoin debuts — will it offer yield")
    assert verdict.match is not None and "real_world_asset" in verdict.reason
    assert verdict.match.confidence < engine.config.min_confidence
    protocol = found(engine, "Stablecoin protocol Harrowgate launches HGT governance token")
    assert "real_world_asset" not in protocol.reason


def test_a_raise_ahead_of_a_launch_takes_nothing_away(engine):
    ahead = found(engine, "Pellucid raises $5M ahead of its IDO on two launchpads")
    assert "fundraise" not in ahead.reason
    assert found(engine, "Pellucid closes $10M seed round ahead of PLC token launch").kind == "announce"


def test_a_percentage_is_price_talk_only_when_it_moves(engine):
    sized = found(engine, "Harrowgate launches HRW token with 25% airdrop")
    assert "price_talk" not in sized.reason
    assert "minus price_talk" in judge(engine, "Harrowgate launches HRW token, up 40% in a day").reason
    assert "price_talk" not in found(engine, "Pump.fun-style launchpad Tarrow confirms TRW token").reason


def test_a_ticker_that_is_a_price_word_is_not_price_talk(engine):
    assert "price_talk" not in found(engine, "Harrowgate is re-launching its SURGE token on two exchanges").reason
    assert "minus price_talk" in judge(engine, "Harrowgate token SURGE surges on two exchanges after launch").reason


def test_a_project_debuting_on_a_blockchain_is_a_deployment(engine):
    assert found(engine, "Corvel (CRV3) token debuts on two exchanges").kind == "live"
    assert judge(engine, "Metaverse project Corvel debuts on the Halden blockchain").match is None


def test_time_since_launch_is_not_a_launch(engine):
    assert judge(engine, "Tarnow token has been in free fall since launch").match is None


def test_a_role_word_after_to_or_for_is_an_existing_token(engine):
    assert judge(engine, "Astrell unveils new roadmap to power native token").match is None


def test_an_established_project_launching_another_ticker_is_not_vetoed(engine):
    assert "established token DOGE" in judge(engine, "Dogecoin launches token airdrop app").reason
    second = found(engine, "Dogecoin launches WOOFX token for its community")
    assert (second.project, second.ticker) == ("Dogecoin", "WOOFX")


def test_exploring_a_token_is_speculation(engine):
    assert judge(engine, "Exchange exploring issuing its own token, CEO says").reason.startswith("speculation")


@pytest.mark.parametrize("title, project", [
    ("Uniswap Announces Airdrop For Brannock Protocol Governance Token", "Brannock Protocol"),
    ("Uniswap’s largest lending protocol ZENLO Launches Governance Token", "ZENLO"),
])
def test_a_new_project_beside_an_established_one_is_not_vetoed_as_established(engine, title, project):
    assert found(engine, title).project == project
