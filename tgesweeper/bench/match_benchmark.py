"""How fast is ``judge`` on one core over a realistic mix: mostly ordinary crypto news, about 5% launch announcements.

The templates are invented here; they imitate the length and vocabulary of RSS items and exchange notices, including
the near-misses (listings of established tokens, airdrop scams, price moves) that reach the later stages.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from tgesweeper.matching.engine import MatchEngine
from tgesweeper.matching.types import MatchInput, Verdict

_SYLLABLES = ("ka", "lo", "mi", "ra", "zen", "tor", "vi", "qua", "nex", "sol", "dra", "fen", "lum", "ori", "pax", "ny")
_COINS = (("Bitcoin", "BTC"), ("Ether", "ETH"), ("Solana", "SOL"), ("XRP", "XRP"), ("Cardano", "ADA"),
          ("Dogecoin", "DOGE"), ("Chainlink", "LINK"), ("Avalanche", "AVAX"), ("Polkadot", "DOT"), ("Uniswap", "UNI"))
_FILLER = ("Analysts said liquidity remained thin across major venues, while funding rates stayed neutral and open interest "
           "edged higher. Market participants are watching macro data and central bank commentary later this week. ")
NOISE = (
    ("{coin} price slips {pct}% as traders weigh macro data", "{coin} fell to ${amount},000 on Tuesday. " + _FILLER),
    ("Analysts see {coin} consolidating near support after a volatile week", _FILLER * 2),
    ("Spot {coin} ETF records ${amount} million in net inflows", "Issuers reported steady demand. " + _FILLER),
    ("DeFi lender patches bug after ${amount} million exploit", "The team said user funds are safe. " + _FILLER),
    ("Regulators publish consultation on stablecoin reserves", "The proposal covers custody and audits. " + _FILLER),
    ("Court rules on long-running exchange bankruptcy case", "Creditors will receive distributions. " + _FILLER),
    ("{coin} ({tick}) now available on {venue}", "Users can deposit and trade {tick} from today. " + _FILLER),
    ("{coin} rallies {pct}% after {venue} listing", "{tick} extended gains. " + _FILLER),
    ("Airdrop scam drains wallets of {coin} holders", "Security researchers warned users. " + _FILLER),
    ("{name} may launch a token next year, founder hints", "Nothing is confirmed. " + _FILLER),
    ("What is a token generation event? A beginner's guide", "TGEs explained. " + _FILLER),
    ("Miner revenue falls as network fees drop to yearly low", _FILLER * 2),
    ("{coin} whales accumulate as exchange reserves shrink", _FILLER),
)
LAUNCHES = (
    ("{name} to launch {tick} token on {date}", "{name} said its token generation event will take place on {date}. "),
    ("{name} ({tick}) token goes live as airdrop claims open", "The {tick} token began trading today. "),
    ("{name} ({tick}) Will Be Available on Binance Alpha and Binance Futures ({iso})",
     "Binance is the first platform to feature and open trading for {name} ({tick}). " + _FILLER),
    ("{name} postpones TGE to {date}", "The {tick} token generation event moves to {date}. "),
    ("{venue} lists {name} ({tick}) at launch", "Trading opens at 12:00 UTC. "),
)
_VENUES = ("Coinbase", "Kraken", "OKX", "Bybit", "KuCoin", "Upbit")


def generate(count: int, rng: random.Random, launch_share: float = 0.05) -> list[MatchInput]:
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    docs = []
    for i in range(count):
        published = now - timedelta(minutes=i)
        name = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize() + rng.choice(("", " Network", " Protocol"))
        coin, tick = rng.choice(_COINS)
        launch = rng.random() < launch_share
        title, text = rng.choice(LAUNCHES if launch else NOISE)
        day = published + timedelta(days=rng.randint(1, 40))
        values = {"name": name, "coin": coin, "tick": name[:4].upper() if launch else tick, "venue": rng.choice(_VENUES),
                  "pct": rng.randint(2, 30), "amount": rng.randint(10, 900), "date": day.strftime("%B %-d"),
                  "iso": day.date().isoformat()}
        docs.append(MatchInput(title=title.format(**values), text=text.format(**values), published_at=published,
                               source="benchmark"))
    return docs


def run_match_benchmark(engine: MatchEngine, docs: int = 5000, seed: int = 0, shadow: MatchEngine | None = None) -> dict:
    """Time ``judge`` per document on this process's one core (after one warm-up pass over 200 documents); with a
    ``shadow`` engine, what the match stage does then: one complete assessment, the live verdict and the shadow's."""
    items = generate(docs, random.Random(seed))

    def judge(doc: MatchInput) -> Verdict:
        if shadow is None:
            return engine.judge(doc)
        assessment = engine.assess(doc)
        shadow.shadow_score(doc, assessment)
        return engine.decide(doc, assessment)

    for doc in items[:200]:
        judge(doc)
    timings = []
    matched = 0
    started = time.perf_counter()
    for doc in items:
        t0 = time.perf_counter()
        verdict = judge(doc)
        timings.append((time.perf_counter() - t0) * 1000)
        matched += engine.published(verdict)
    seconds = time.perf_counter() - started
    timings.sort()
    return {
        "docs": docs, "seconds": round(seconds, 3), "docs_per_sec_per_core": round(docs / seconds, 1),
        "p50_ms": round(statistics.median(timings), 3), "p99_ms": round(timings[int(0.99 * (len(timings) - 1))], 3),
        "max_ms": round(timings[-1], 3), "matched": matched,
    }


def format_benchmark(result: dict) -> str:
    return (f"match stage, one core: {result['docs']} docs in {result['seconds']} s = "
            f"{result['docs_per_sec_per_core']} docs/s; p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
            f"max {result['max_ms']} ms; {result['matched']} matched at or above threshold")
