"""Who launches what, where: the project as named, its ticker, chain and venues.

Headlines name the project in a few regular ways: "Name (TICKER) ...", "Name's ... token/airdrop", or as the subject
before the verb, often behind descriptors ("Ethereum scaling solution Optimism unveils ..."). spaCy's blank English
tokenizer splits the title into tokens (handling possessives, punctuation, hyphens); small rules walk them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import spacy

from tgesweeper.matching import known_tokens

TICKER_SHAPE = re.compile(r"^(?=.*[A-Z])[A-Z0-9]{1,10}$")
NOT_TICKERS = frozenset({
    "TGE", "IDO", "ICO", "IEO", "UTC", "NFT", "NFTS", "DEX", "CEX", "AMM", "ETF", "ETP", "ETN", "USD", "EUR", "API", "AI",
    "DAO", "DEFI", "CEO", "CTO", "SEC", "CFTC", "US", "UK", "EU", "IPO", "SPAC", "FAQ", "APR", "APY", "KYC", "VIP", "TVL",
    "UPDATE", "BREAKING", "NEW", "NEWS", "L1", "L2", "EVM", "ZK", "P2P", "OTC", "ATH", "PR", "TV", "Q1", "Q2", "Q3", "Q4",
    "RWA", "RWAS", "BEP20", "ERC20", "SPL", "TRC20", "BNSOL", "LINK",
})
# Words that say what a project is rather than what it is called.
DESCRIPTORS = frozenset("""
ethereum solana polkadot cardano bitcoin bnb binance coinbase kraken okx bybit avalanche polygon cosmos tron ton sui
aptos arbitrum base near layer l1 l2 layer-2 layer-1 dex defi exchange bridge scaling solution platform project
blockchain chain startup firm wallet app game gaming nft nfts dao ecosystem new the altcoin crypto cryptocurrency
aggregator lending protocol-based based holders users traders investors community hunters farmers team developer
developers popular leading major decentralized decentralised web3 metaverse a an its their his her our
meme memecoin memecoins
""".split())
NAME_SUFFIXES = frozenset("protocol network networks finance labs ai dao chain swap coin token fi money".split())
STOP_WORDS = frozenset("""
introducing participate exclusive announcing announces announced announce breaking update report exclusive: will
to is are was were be been set sets launches launch launched launching unveils unveiled reveals revealed opens opened
goes went debuts debuted lists listed listing plans planned airdrops airdropped begins began starts started introduces
introduced rolls rolled drops dropping moves upgrades confirms confirmed completes completed postpones postponed delays
delayed hits soars explodes gets got has have details detailed kicks kickstart prepares says said receive receives
token tokens airdrop tge pre-tge on in at for with and or of by from as after before amid via its new now today
hosts initiates secures raises closes wins expands rebrands scraps brings adds gears makes
""".split())
# The verbs by which a subject launches something: behind a possessive or a lead-in, the name before one of them is
# the launcher ("Owner's Name launches ..."); before another ("Owner's Next Era Begins") it is not a project.
LAUNCH_VERBS = frozenset("""
to is will set sets launches launch launching unveils reveals opens debuts lists plans airdrops introduces rolls drops
confirms postpones delays prepares kicks announces
""".split())
CONNECTORS = frozenset({"to", "of", "the", "and", "&", "de", "la"})
CHAINS = (
    ("BNB Chain", r"bnb (?:smart )?chain|\bbsc\b|bep-?20"), ("Ethereum", r"\bethereum\b|erc-?20"),
    ("Solana", r"\bsolana\b"), ("Base", r"\bon base\b|\bbase (?:network|chain|mainnet)\b"),
    ("Arbitrum", r"\barbitrum\b"), ("Polygon", r"\bpolygon\b"), ("Avalanche", r"\bavalanche\b"),
    ("Cardano", r"\bcardano\b"), ("Polkadot", r"\bpolkadot\b|\bparachain\b"), ("Cosmos", r"\bcosmos\b"),
    ("Sui", r"\bsui\b"), ("Aptos", r"\baptos\b"), ("TON", r"\bton blockchain\b|\bthe open network\b"),
    ("Tron", r"\btron\b"), ("Bitcoin", r"\bon bitcoin\b|\bbitcoin layer"), ("XRP Ledger", r"\bxrp ledger\b|\bxrpl\b"),
)
_CHAIN_RES = tuple((name, re.compile(pattern)) for name, pattern in CHAINS)
VENUES = (
    ("Binance Alpha", r"binance alpha"), ("Binance Futures", r"binance futures"), ("Binance Wallet", r"binance wallet"),
    ("Binance", r"\bbinance\b(?! (?:alpha|futures|wallet|square|\.us))"), ("Binance.US", r"binance\.us"),
    ("Coinbase", r"\bcoinbase\b"), ("Kraken", r"\bkraken\b"), ("OKX", r"\bokx\b|\bokex\b"), ("Bybit", r"\bbybit\b"),
    ("KuCoin", r"\bkucoin\b"), ("Upbit", r"\bupbit\b"), ("Bithumb", r"\bbithumb\b"), ("Gate", r"\bgate\.io\b|\bgate\b"),
    ("Bitget", r"\bbitget\b"), ("MEXC", r"\bmexc\b"), ("HTX", r"\bhtx\b|\bhuobi\b"), ("Crypto.com", r"crypto\.com"),
    ("Bitstamp", r"\bbitstamp\b"), ("Robinhood", r"\brobinhood\b"), ("Uniswap", r"\buniswap\b"),
    ("PancakeSwap", r"\bpancakeswap\b"), ("Raydium", r"\braydium\b"), ("Hyperliquid", r"\bhyperliquid\b"),
)
_VENUE_RES = tuple((name, re.compile(pattern)) for name, pattern in VENUES)
_PAIR = re.compile(r"((?:[A-Z0-9][\w.&'’-]*)(?:\s+(?:to|of|the|and|&|[A-Z0-9][\w.&'’-]*)){0,5})\s*\(\$?([A-Z0-9]{1,10})\)")
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{1,9})\b")
_TOKEN_WORD = re.compile(
    r"\b([A-Z][A-Z0-9]{1,9})\s+(?:[a-z]+\s+|(?i:governance|utility|native)\s+)?(?i:tokens?|coins?|airdrop)\b")
_CALLED = re.compile(r"\b(?:called|dubbed|named|ticker)\s+\$?([A-Z][A-Z0-9]{1,9})\b")
_POSSESSIVE = re.compile(
    r"\b([A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,3})['’]s\s+(?:[\w-]+\s+){0,3}?(?:token|airdrop|tge|token generation event)\b",
    re.IGNORECASE)
_FOR_OBJECT = re.compile(r"\b(?i:for|of)\s+(?i:the\s+)?([A-Z0-9][\w.&-]*(?:\s+[A-Z0-9][\w.&-]*){0,3})")
# "Exchange Hosts Name TGE": the object of a venue's verb, just before the launch it hosts
_HOSTED_OBJECT = re.compile(r"\b(?i:hosts|lists|welcomes|adds|brings)\s+([A-Z0-9][\w.&-]*(?:\s+[A-Z0-9][\w.&-]*){0,3})"
                            r"\s+(?i:tge|ido|ieo|token|airdrop|pre-market)\b")
PERSON_ROLES = frozenset("ceo founder co-founder cofounder star mayor rapper president celebrity influencer actor".split())
_LAUNCHED = re.compile(
    r"\b(?i:launch(?:es|ed|ing)?|debuts?|unveils?|drops?)\s+(?:(?i:new|meme|memecoin|coin|token|crypto|own|his|her|a)\s+){0,4}"
    r"[‘'\"“]?(?:\$([A-Za-z][A-Za-z0-9]{1,9})\b|([A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,2}))")
TOKEN_ROLES = frozenset("governance utility native reward rewards".split())
_CAMEL = re.compile(r"^[a-z]{1,5}[A-Z]")  # "bitsCrunch", "deBridge", "xToken": a name written in camel case
_MARKS = re.compile(r"[®™©]")
_QUOTES = frozenset({"'", "’", "‘", '"', "“", "”"})
_POSSESSIVE_MARKS = frozenset({"'s", "’s"})
_VERB_LIKE = re.compile(r"^[a-z]{3,}(?:s|ed)$")
_DESCRIPTOR_AFFIX = re.compile(r"\b[\w.]+-(?:based|powered|native|focused|backed|built|inspired)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Named:
    """The project and ticker a document is about, with where the name came from."""

    project: str | None
    ticker: str | None
    from_title: bool


class Extractor:
    """Holds the spaCy tokenizer; built once per engine."""

    def __init__(self):
        self._nlp = spacy.blank("en")

    def name(self, title: str, lead: str, published) -> Named:
        title_pairs = [(n, t, True) for n, t in _pairs(title)]
        lead_pairs = [(n, t, False) for n, t in _pairs(lead)]
        pairs = title_pairs + lead_pairs

        def fresh_pair(pair) -> bool:
            return not known_tokens.is_established(known_tokens.lookup(pair[0], pair[1]), published)

        # A body's pairs name the project only if the headline's pair was context ("built on Polkadot (DOT)")
        # or the body opens with a new token; a body opening with an established token is about that token.
        if title_pairs or (lead_pairs and fresh_pair(lead_pairs[0])):
            fresh = [p for p in pairs if fresh_pair(p)]
        else:
            fresh = []
        ticker: str | None
        if fresh:
            project, ticker, in_title = fresh[0]
            return Named(project, ticker, in_title)
        possessive = _possessive(title)
        subject = possessive or self._subject(title)
        if not possessive and (beneficiary := _beneficiary(title, subject, published)):
            subject = beneficiary
        if subject and subject.split()[-1].lower() in PERSON_ROLES and (launched := _launched_name(title)):
            subject = launched  # "Exchange CEO Launches Meme Coin NAME": a person launches the token, its name is it
        ticker = _ticker(title, subject) or _ticker(lead, subject)
        if pairs and not subject:
            project, ticker, in_title = pairs[0]
            return Named(project, ticker, in_title)
        if subject:
            return Named(subject, ticker, True)
        called = _CALLED.search(lead[:1500])
        if called and called.group(1) not in NOT_TICKERS:
            return Named(called.group(1), called.group(1), False)
        lead_subject = self._subject(lead[:200])
        if lead_subject:
            return Named(lead_subject, ticker or _ticker(lead, lead_subject), False)
        return Named(ticker, ticker, False) if ticker else Named(None, None, False)

    def _subject(self, title: str) -> str | None:
        """The name at the end of the headline's subject: the capitalized run just before the first verb. Behind a
        possessive ("Owner's DeFi protocol Name launches ...") or a lead-in ("Weekly Brief: Name confirms ...") the
        subject is the name that does the verb, when there is one."""
        doc = self._nlp.make_doc(_DESCRIPTOR_AFFIX.sub(" ", _MARKS.sub("", title))[:300])
        name, end = self._walk(doc, 0)
        if end is not None and doc[end].lower_ in _POSSESSIVE_MARKS:
            behind, after = self._walk(doc, end + 1)
            if behind and after is not None and _is_launch_verb(doc[after]):
                return behind
            if end + 1 < len(doc) and doc[end + 1].lower_ in DESCRIPTORS:
                return None
        elif end is not None and doc[end].text == ":":
            behind, after = self._walk(doc, end + 1)
            if behind and after is not None and _is_launch_verb(doc[after]):
                return behind
        return name

    def _walk(self, doc, start: int) -> tuple[str | None, int | None]:
        """The name of the subject starting at token ``start``, and the index of the token that ended it (None at
        the end of the headline)."""
        words: list[str] = []
        joined = False  # the previous token touched this one with a dot: "Ether.Fi", "AR.IO"
        end = None
        for token in doc[start:]:
            lower = token.lower_
            if lower in _QUOTES:  # 'Name' in quotes is still the name
                continue
            if lower == "." and words and not doc[token.i - 1].whitespace_ and not token.whitespace_:
                words[-1] += "."
                joined = True
                continue
            if joined:
                words[-1] += token.text
                joined = False
                continue
            if token.is_punct and lower not in {"&", ".", "-"} or lower in _POSSESSIVE_MARKS:
                end = token.i
                break
            if lower in STOP_WORDS and words:
                end = token.i
                break
            if lower in STOP_WORDS:
                continue
            if words and _VERB_LIKE.match(token.text) and lower not in DESCRIPTORS \
                    and any(w[:1].isupper() for w in words):
                end = token.i
                break  # "Layer 1 Namada initiates mainnet ...": a lowercase verb ends the subject
            words.append(token.text)
        name = _trailing_name(words)
        while not name and len(words) > 1 and words[-1].lower() in DESCRIPTORS:
            words = words[:-1]  # "Pallas DEX announces ...": the name before what it is
            name = _trailing_name(words)
        if name:
            size = len(name.split())
            for first in range(max(0, len(words) - size - 2), len(words) - size):
                longer = " ".join(words[first:])
                if known_tokens.lookup(longer, None) and known_tokens.BY_NAME.get(known_tokens.normal(longer)):
                    return longer, end
        return name, end


def _is_launch_verb(token) -> bool:
    """Whether a token that ended a subject says that subject launches something ("launches", "is", "to", "will")."""
    return token.lower_ in LAUNCH_VERBS


def _trailing_name(words: list[str]) -> str | None:
    """The capitalized run at the end of ``words``: "Ethereum Layer 2 Network Quellis" -> "Quellis"."""
    name: list[str] = []
    for word in reversed(words):
        lower = word.lower()
        if lower in NAME_SUFFIXES:
            if _has_name(name):
                break
            name.insert(0, word)
            continue
        if lower in CONNECTORS:
            if not _has_name(name):
                break
            name.insert(0, word)
            continue
        capitalized = word[:1].isupper() or (word[:1].isdigit() and not word.isdigit()) or _CAMEL.match(word) is not None
        if not capitalized or lower in DESCRIPTORS:
            break
        name.insert(0, word)
    while name and name[0].lower() in CONNECTORS:
        name.pop(0)
    return " ".join(name) if _has_name(name) else None


def _has_name(words: list[str]) -> bool:
    return any(w.lower() not in NAME_SUFFIXES and w.lower() not in CONNECTORS for w in words)


def pairs(text: str) -> list[tuple[str, str]]:
    """Every ``Name (TICKER)`` pair in a text, in order (an exchange notice may list several new tokens)."""
    return _pairs(text)


def _pairs(text: str) -> list[tuple[str, str]]:
    """``Name (TICKER)`` pairs, the name stripped of leading words that are not part of it."""
    found = []
    for match in _PAIR.finditer(_DESCRIPTOR_AFFIX.sub(" ", text[:3000])):
        ticker = match.group(2)
        if not TICKER_SHAPE.match(ticker) or ticker in NOT_TICKERS:
            continue
        words = match.group(1).split()
        while words and (words[0].lower().strip(":") in STOP_WORDS or words[0].lower() in CONNECTORS
                         or words[0].lower() in DESCRIPTORS and len(words) > 1 and words[1].lower() not in CONNECTORS):
            words.pop(0)
        stops = [i for i, w in enumerate(words) if w.lower() in STOP_WORDS and w.lower() not in CONNECTORS]
        words = words[stops[-1] + 1:] if stops else words
        name = " ".join(words) if 0 < len(words) <= 5 else None
        found.append((name or ticker, ticker))
    return found


def _beneficiary(title: str, subject: str | None, published) -> str | None:
    """The project a venue or an established project acts for: "Exchange Launches Pre-Market Trading for Name $TKN",
    "Exchange Megadrop Announces Listing of NAME", "OldDAO Announces Airdrop for Name Governance Token". Only when the
    subject found is a venue, an established token or nothing, and the name after "for"/"of" is neither."""
    cleaned = _DESCRIPTOR_AFFIX.sub(" ", title[:300])
    if subject:
        head = cleaned[: cleaned.find(subject) + len(subject)] if subject in cleaned else subject
        if not venues(head) and not _established(subject, published):
            return None
    for found in (*_FOR_OBJECT.finditer(cleaned), *_HOSTED_OBJECT.finditer(cleaned)):
        words = []
        for word in found.group(1).split():
            if word.lower() in STOP_WORDS or word.lower() in TOKEN_ROLES:
                break
            words.append(word)
        name = _trailing_name(words) if words and words[0].lower() not in DESCRIPTORS else None
        if name and not venues(name) and not _established(name, published):
            return name
    return None


def _launched_name(title: str) -> str | None:
    """The token a person launches: a cashtag or a capitalized name behind the launch verb and the kind of token."""
    found = _LAUNCHED.search(title)
    if not found:
        return None
    if found.group(1):
        return found.group(1)
    return _trailing_name(found.group(2).split())


def _established(name: str, published) -> bool:
    """A name or a ticker-shaped word of a token trading before the item was published."""
    return known_tokens.is_established(known_tokens.lookup(name, None), published)


def _possessive(title: str) -> str | None:
    found = _POSSESSIVE.search(title)
    if not found or any(w.lower() in LAUNCH_VERBS for w in title[found.end(1):found.end()].split()[1:]):
        return None  # "Owner's Name launches its token": the owner is not the one launching
    return _trailing_name(found.group(1).split())


def _ticker(text: str, project: str | None) -> str | None:
    candidates = [m.group(1).upper() for m in _CASHTAG.finditer(text[:3000])]
    candidates += [m.group(1) for m in _CALLED.finditer(text[:3000])]
    candidates += [m.group(1) for m in _TOKEN_WORD.finditer(text[:3000])]
    usable = [c for c in candidates if c not in NOT_TICKERS and TICKER_SHAPE.match(c)]
    if project:
        squashed = re.sub(r"[^A-Z0-9]", "", project.upper())
        usable = [c for c in usable if c != squashed or len(c) <= 6] or usable
    return usable[0] if usable else None


def chain(text: str) -> str | None:
    lowered = text.lower()
    for name, pattern in _CHAIN_RES:
        if pattern.search(lowered):
            return name
    return None


def venues(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    return tuple(name for name, pattern in _VENUE_RES if pattern.search(lowered))
