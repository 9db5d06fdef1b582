"""Well-known tokens and the month each first traded, compiled from general market knowledge (major tokens by market cap
over 2013–2025), not from any corpus.

A token counts as *established* only for items published well after its first trading month: a 2022 story about
Optimism's token launch must not be called "already trading" because OP trades today.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

# The first days of trading still produce "X soars after launch" stories that are launches; after this many days
# past the first trading month's start, news about the token is about a token that trades.
GRACE_DAYS = 60
# "Portal to Bitcoin" is not Bitcoin: a known name at the end of a longer name counts unless a connector precedes it.
_CONNECTORS = frozenset({"to", "of", "on", "for", "the", "and", "in"})

# TICKER|Name;Alias|YYYY-MM (first trading month, approximate)
_TABLE = """
BTC|Bitcoin|2010-07
ETH|Ethereum;Ether|2015-08
USDT|Tether|2015-02
BNB|BNB;Binance Coin|2017-07
XRP|XRP;Ripple|2013-08
USDC|USD Coin|2018-10
SOL|Solana|2020-04
ADA|Cardano|2017-10
DOGE|Dogecoin|2013-12
TRX|TRON|2017-09
TON|Toncoin|2021-09
DOT|Polkadot|2020-08
MATIC|Polygon|2019-04
POL|Polygon Ecosystem Token|2024-09
LTC|Litecoin|2013-04
SHIB|Shiba Inu|2020-08
AVAX|Avalanche|2020-09
LINK|Chainlink|2017-09
BCH|Bitcoin Cash|2017-08
BSV|Bitcoin SV|2018-11
XLM|Stellar|2014-08
XMR|Monero|2014-05
ATOM|Cosmos|2019-03
ETC|Ethereum Classic|2016-07
UNI|Uniswap|2020-09
ICP|Internet Computer|2021-05
FIL|Filecoin|2020-10
HBAR|Hedera|2019-09
APT|Aptos|2022-10
ARB|Arbitrum|2023-03
OP|Optimism|2022-05
VET|VeChain|2017-08
NEAR|NEAR Protocol;Near|2020-10
ALGO|Algorand|2019-06
GRT|The Graph|2020-12
AAVE|Aave|2020-10
MKR|Maker;MakerDAO|2017-12
SKY|Sky|2024-09
QNT|Quant|2018-08
EGLD|MultiversX;Elrond|2020-09
SAND|The Sandbox;Sandbox|2020-08
MANA|Decentraland|2017-09
AXS|Axie Infinity|2020-11
SLP|Smooth Love Potion|2020-07
RON|Ronin|2022-01
THETA|Theta Network;Theta|2018-01
TFUEL|Theta Fuel|2019-03
EOS|EOS|2017-07
XTZ|Tezos|2018-07
FTM|Fantom|2018-10
FLOW|Flow|2021-01
CHZ|Chiliz|2019-07
CRV|Curve;Curve DAO|2020-08
CVX|Convex Finance;Convex|2021-05
LDO|Lido DAO;Lido|2021-01
KCS|KuCoin Token|2017-10
CRO|Cronos;Crypto.com Coin|2018-12
NEO|Neo|2016-10
KAVA|Kava|2019-10
IOTA|IOTA|2017-06
MIOTA|IOTA|2017-06
ZEC|Zcash|2016-10
DASH|Dash|2014-01
XEM|NEM|2015-04
XYM|Symbol|2021-03
ENJ|Enjin Coin;Enjin|2017-11
BAT|Basic Attention Token|2017-06
ZIL|Zilliqa|2018-01
COMP|Compound|2020-06
SNX|Synthetix|2018-03
YFI|yearn.finance;Yearn|2020-07
SUSHI|SushiSwap;Sushi|2020-09
1INCH|1inch|2020-12
CAKE|PancakeSwap|2020-09
RUNE|THORChain|2019-07
KSM|Kusama|2019-12
CELO|Celo|2020-05
ONE|Harmony|2019-06
HNT|Helium|2020-05
AR|Arweave|2020-05
GALA|Gala|2020-09
IMX|Immutable;Immutable X|2021-11
LRC|Loopring|2017-08
ENS|Ethereum Name Service|2021-11
APE|ApeCoin|2022-03
GMT|STEPN|2022-03
LUNA|Terra|2019-07
UST|TerraUSD|2020-09
FTT|FTX Token|2019-07
LEO|UNUS SED LEO|2019-05
OKB|OKB|2019-04
HT|Huobi Token|2018-01
BGB|Bitget Token|2021-07
WAVES|Waves|2016-06
QTUM|Qtum|2017-05
ICX|ICON|2017-10
ONT|Ontology|2018-03
ZRX|0x|2017-08
OMG|OMG Network;OmiseGO|2017-07
BNT|Bancor|2017-06
KNC|Kyber Network;Kyber|2017-09
REN|Ren|2018-02
BAND|Band Protocol|2019-09
OCEAN|Ocean Protocol|2019-05
ANKR|Ankr|2019-03
STORJ|Storj|2017-07
DGB|DigiByte|2014-02
RVN|Ravencoin|2018-03
HOT|Holo|2018-04
IOST|IOST|2018-01
NANO|Nano|2017-03
XDC|XDC Network|2018-04
STX|Stacks|2019-10
MINA|Mina Protocol;Mina|2021-06
ROSE|Oasis Network;Oasis|2020-11
AUDIO|Audius|2020-10
RNDR|Render;Render Token|2020-06
RENDER|Render|2020-06
FET|Fetch.ai|2019-03
AGIX|SingularityNET|2018-01
OGN|Origin Protocol|2020-01
API3|API3|2020-12
PERP|Perpetual Protocol|2020-09
ALICE|MyNeighborAlice|2021-03
VOXEL|Voxies|2021-12
DYDX|dYdX|2021-09
GNO|Gnosis|2017-05
FXS|Frax Share;Frax|2020-12
LOOKS|LooksRare|2022-01
JOE|Trader Joe|2021-07
PLA|PlayDapp|2021-01
ACH|Alchemy Pay|2020-08
KDA|Kadena|2020-11
OPUL|Opulous|2021-04
SWAP|TrustSwap|2020-07
STEEM|Steem|2016-07
HIVE|Hive|2020-03
AMP|Amp|2020-09
NEXO|Nexo|2018-05
PRO|Propy|2017-09
KLAY|Klaytn|2019-09
KAIA|Kaia|2024-08
BABYDOGE|Baby Doge Coin;Baby Doge|2021-06
GLMR|Moonbeam|2022-01
MOVR|Moonriver|2021-08
SGB|Songbird|2021-09
FLR|Flare;Flare Network|2023-01
HOP|Hop Protocol|2022-06
JUP|Jupiter|2024-01
JTO|Jito|2023-12
PYTH|Pyth Network;Pyth|2023-11
TIA|Celestia|2023-10
SEI|Sei|2023-08
SUI|Sui|2023-05
BLUR|Blur|2023-02
PEPE|Pepe|2023-04
WIF|dogwifhat|2023-12
BONK|Bonk|2022-12
FLOKI|Floki|2021-07
STRK|Starknet|2024-02
DYM|Dymension|2024-02
MANTA|Manta Network;Manta|2024-01
ALT|AltLayer|2024-01
PIXEL|Pixels|2024-02
PORTAL|Portal|2024-02
ENA|Ethena|2024-04
USDE|Ethena USDe;USDe|2024-02
ETHFI|ether.fi;Ether.fi|2024-03
OMNI|Omni Network|2024-04
SAGA|Saga|2024-04
TNSR|Tensor|2024-04
REZ|Renzo|2024-04
BB|BounceBit|2024-05
NOT|Notcoin|2024-05
IO|io.net|2024-06
ZK|ZKsync|2024-06
ZRO|LayerZero|2024-06
BLAST|Blast|2024-06
LISTA|Lista DAO|2024-06
DOGS|Dogs|2024-08
EIGEN|EigenLayer;EigenCloud|2024-10
HMSTR|Hamster Kombat|2024-09
CATI|Catizen|2024-09
SCR|Scroll|2024-10
GRASS|Grass|2024-10
PNUT|Peanut the Squirrel|2024-11
HYPE|Hyperliquid|2024-11
ME|Magic Eden|2024-12
MOVE|Movement|2024-12
PENGU|Pudgy Penguins|2024-12
USUAL|Usual|2024-11
VANA|Vana|2024-12
VIRTUAL|Virtuals Protocol;Virtuals|2024-01
AI16Z|ai16z|2024-10
GOAT|Goatseus Maximus|2024-10
FARTCOIN|Fartcoin|2024-10
TRUMP|Official Trump|2025-01
BERA|Berachain|2025-02
IP|Story;Story Protocol|2025-02
KAITO|Kaito|2025-02
LAYER|Solayer|2025-02
SHELL|MyShell|2025-02
RED|RedStone|2025-02
NIL|Nillion|2025-03
PARTI|Particle Network|2025-03
WAL|Walrus|2025-03
BABY|Babylon|2025-04
INIT|Initia|2025-04
WCT|WalletConnect|2025-04
SIGN|Sign|2025-04
KMNO|Kamino|2024-04
HAEDAL|Haedal|2025-04
HUMA|Huma Finance|2025-05
SOPH|Sophon|2025-05
HOME|DeFi App|2025-06
RESOLV|Resolv|2025-06
SAHARA|Sahara AI|2025-06
NEWT|Newton|2025-06
ERA|Caldera|2025-07
TREE|Treehouse|2025-07
PUMP|Pump.fun|2025-07
PLUME|Plume|2025-01
A2Z|Arena-Z|2025-07
LOKA|League of Kingdoms|2022-01
WLFI|World Liberty Financial|2025-09
LINEA|Linea|2025-09
FDUSD|First Digital USD|2023-06
DAI|Dai|2017-12
TUSD|TrueUSD|2018-03
BUSD|Binance USD|2019-09
PAXG|PAX Gold|2019-09
WBTC|Wrapped Bitcoin|2019-01
STETH|Lido Staked Ether|2020-12
MNT|Mantle|2023-07
XEC|eCash|2020-11
KAS|Kaspa|2022-05
TAO|Bittensor|2023-03
WLD|Worldcoin|2023-07
INJ|Injective|2020-10
ORDI|ORDI|2023-05
JASMY|JasmyCoin;Jasmy|2020-04
ILV|Illuvium|2021-03
BTT|BitTorrent|2019-01
WOO|WOO Network;WOO|2020-10
CFX|Conflux|2020-10
AKT|Akash Network|2020-09
OSMO|Osmosis|2021-06
JST|JUST|2020-05
SFP|SafePal|2021-02
TWT|Trust Wallet Token|2020-07
CELR|Celer Network|2019-03
SKL|SKALE|2020-12
COTI|COTI|2019-06
MASK|Mask Network|2021-02
ASTR|Astar|2022-01
ACA|Acala|2022-01
AXL|Axelar|2022-09
GMX|GMX|2021-09
MAGIC|Treasure;MAGIC|2021-11
RPL|Rocket Pool|2018-01
SSV|SSV Network|2021-06
SPELL|Spell Token|2021-06
BICO|Biconomy|2021-12
GODS|Gods Unchained|2021-10
YGG|Yield Guild Games|2021-07
HIGH|Highstreet|2021-08
TLM|Alien Worlds|2021-04
C98|Coin98|2021-07
DAR|Mines of Dalarnia|2021-10
SUPER|SuperVerse;SuperFarm|2021-02
RARE|SuperRare|2021-08
LPT|Livepeer|2018-05
NMR|Numeraire|2017-06
UMA|UMA|2020-05
BAL|Balancer|2020-06
ALCX|Alchemix|2021-03
TRB|Tellor|2019-09
CTSI|Cartesi|2020-04
OXT|Orchid|2019-12
REQ|Request|2017-10
POWR|Powerledger|2017-11
GLM|Golem|2016-11
ANT|Aragon|2017-05
RAD|Radicle|2021-02
TRAC|OriginTrail|2018-01
XVS|Venus|2020-09
DODO|DODO|2020-09
WAXP|WAX|2017-12
LSK|Lisk|2016-05
BTG|Bitcoin Gold|2017-11
ZEN|Horizen|2017-06
DCR|Decred|2016-02
CYBER|CyberConnect|2023-08
ARKM|Arkham|2023-07
ID|Space ID|2023-03
EDU|Open Campus|2023-04
HOOK|Hooked Protocol|2022-12
MEME|Memecoin|2023-11
BOME|Book of Meme|2024-03
MEW|cat in a dogs world|2024-03
BRETT|Brett|2024-02
TURBO|Turbo|2023-05
SPX|SPX6900|2023-08
ONDO|Ondo Finance;Ondo|2024-01
PENDLE|Pendle|2021-04
AEVO|Aevo|2024-03
ATH|Aethir|2024-06
ZETA|ZetaChain|2024-02
BEAM|Beam|2023-10
SAFE|Safe|2024-04
CORE|Core|2023-02
XAI|Xai|2024-01
MOCA|Moca Network|2024-07
CETUS|Cetus|2023-05
DEEP|DeepBook|2024-10
ORCA|Orca|2021-08
RAY|Raydium|2021-02
SRM|Serum|2020-08
FIDA|Bonfida|2020-12
DRIFT|Drift|2024-05
ETHW|EthereumPoW|2022-09
PYUSD|PayPal USD|2023-08
RLUSD|Ripple USD|2024-12
SOLO|Sologenic|2020-06
SWEAT|Sweat Economy;Sweatcoin|2022-09
LEND|Aave|2017-11
"""


@dataclass(frozen=True)
class KnownToken:
    ticker: str
    names: tuple[str, ...]
    first_trading: date


def normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.casefold()).strip()


def _load() -> tuple[dict[str, KnownToken], dict[str, KnownToken]]:
    by_ticker: dict[str, KnownToken] = {}
    by_name: dict[str, KnownToken] = {}
    for line in _TABLE.strip().splitlines():
        ticker, names, month = line.split("|")
        year, mon = month.split("-")
        token = KnownToken(ticker, tuple(names.split(";")), date(int(year), int(mon), 1))
        by_ticker.setdefault(ticker, token)
        for name in token.names:
            by_name.setdefault(normal(name), token)
    return by_ticker, by_name


BY_TICKER, BY_NAME = _load()


def lookup(project: str | None, ticker: str | None) -> KnownToken | None:
    """The known token this project/ticker pair names. A ticker alone matches only if the project name does not contradict it."""
    name = normal(project or "")
    if name and name in BY_NAME:
        return BY_NAME[name]
    words = name.split()
    for start in range(1, len(words)):
        if words[start - 1] not in _CONNECTORS and " ".join(words[start:]) in BY_NAME:
            return BY_NAME[" ".join(words[start:])]
    token = BY_TICKER.get((ticker or "").upper())
    if token is None:
        return None
    if not name or name == normal(token.ticker) or any(_overlaps(name, normal(n)) for n in token.names):
        return token
    return None


def _overlaps(a: str, b: str) -> bool:
    """Whole words of one name appear in the other: "Sweat Economy" ~ "Sweat", but "Nexoriny" is not "Nexo"."""
    padded_a, padded_b = f" {a} ", f" {b} "
    return padded_a in padded_b or padded_b in padded_a


def is_established(token: KnownToken | None, published: datetime | date | None) -> bool:
    """True if the item was published after the token's first trading month plus the grace period."""
    if token is None:
        return False
    if published is None:
        return True
    day = published.date() if isinstance(published, datetime) else published
    return (day - token.first_trading).days > GRACE_DAYS
