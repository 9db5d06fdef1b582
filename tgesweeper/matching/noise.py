"""The families of news that mention tokens or airdrops without announcing a launch.

A ``REJECT`` family in the headline ends the judgement; a ``PENALTY`` family lowers confidence so the item becomes a
candidate for review rather than an event. Patterns run on lowercased text.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    pattern: re.Pattern


def _family(name: str, pattern: str) -> Family:
    return Family(name, re.compile(pattern))


SPECULATION = (
    r"\b(?:may|might|could)\s+(?:soon\s+|still\s+|yet\s+)?(?:be\s+)?(?:launch|airdrop|list|release|issue|introduce|"
    r"debut|drop|get|have|see|hold|do)\w*|\bhint(?:s|ed|ing)?\b|\brumou?r|\bspeculat|\ballegedly\b|\bteas(?:e|es|ed|er|ing)\b"
    r"|\beye(?:s|ing|d)?\b|\bmull(?:s|ing)?\b|\bconsider(?:s|ing)\b|\bpotential(?:ly)?\b|\bpossib(?:le|ly)\b"
    r"|\bwants? to (?:launch|issue|release|airdrop|list|create|mint)\b"
    r"|\bexplor(?:es|ing)\b|\bunconfirmed\b|\bspoof\b|\breportedly\b|\bcommunity claims\b|\bwhat if\b|\bpredict(?!ion markets?)"
    r"|\bexpect(?:s|ed)? (?:a |an )?(?:token|airdrop)|\bno plans\b|\bnot (?:launch|plan)|\bdenies\b|\bsoon™"
    r"|\btips\b|\brejects?\b|\brules? out\b"
)
# A percentage is price talk when it moves ("up 40%", "drops 20%", "-12%", "30% in a day"), not when it sizes a
# launch ("with a 25% airdrop", "24% unlocked at TGE").
_MOVE = (r"[+\-−]\d+(?:\.\d+)?%|\b\d+(?:\.\d+)?%\s+(?:in|after|on|since|within|higher|lower|up|down|gains?|rise|rally|surge"
         r"|jump|drop|decline|plunge|crash|spike|pump)\b|\b(?:up|down|by|drops?|dropped|falls?|fell|rises?|rose|climbs?"
         r"|climbed|sheds?|adds?|added|gains?|gained)\s+(?:over\s+|nearly\s+|almost\s+|more than\s+|about\s+)?\d+(?:\.\d+)?%")
REJECT = (
    _family("speculation", SPECULATION),
    _family("explainer", r"\bhow (?:to|someone|do|does|did|can|much)\b|\bwhat (?:is|are|does|happened)\b|\bwhy\b|\bguide\b"
                         r"|\bexplain|\bbeginner|\btop \d+\b|\bbest\b|\bshould you\b|\bvs\.?\b|\btutorial\b"
                         r"|\beverything you need\b|\bwatch\b|\bpodcast\b|\bopinion\b|\binterview\b|\blessons?\b"
                         r"|\bcheck eligibility\b|\bwhere to\b|\bwhat['’]?s next\b"),
    _family("exploit_or_scam", r"\bexploit|\bhack|\bscam|\bphish|\bst(?:eal|eals|ole|olen)\b|\bdrain|\bfake\b|\bflash ?loan"
                               r"|\brug|\bfraud|\bimpersonat|\battacker|\bvulnerab|\bsybil|\bsecurity (?:reminder|alert)"
                               r"|\barrest\w*|\bcharged with\b|\bsentenced\b|\blawsuits?\b|\bsue[sd]?\b"),
    _family("government", r"\bcbdc\b|\bcentral bank\b|\bgovernment\b|\bministry\b|\bdigital (?:ruble|yuan|euro|dollar|rupee)"),
    _family("post_launch_product", r"will add .{0,80}\bon (?:earn|buy crypto|convert|margin|futures)|\bbuy crypto, convert"
                                   r"|\btoken swap|\bcontract swap|\bredenomination|\brebrand|\btrading competition"
                                   r"|\bperpetual contracts?|\bperps?\b|\bdelist|\bremoval of|\boptions\b|\bvoucher"
                                   r"|\bcreatorpad\b|\bmargin\b|\bloans?\b|\bstaking rewards?\b|\bapr\b|\bsuper stake\b"
                                   r"|\baffiliate\b|\breferral\b|\bsimple earn promotion"),
    _family("asks", r"^(?:will|could|can|should|is|are|does|do|did|has|have)\b.*\?\s*$"),
    _family("question", r"\?\s*$"),
    _family("private_sale", r"\bprivate (?:token )?sales?\b|\bprivate round\b"),
    _family("fundraise", r"\brais(?:e|es|ed|ing)\s+(?:over\s+|nearly\s+|about\s+|more than\s+|an?\s+)?(?:\$|€|£|\d|undisclosed)"
                         r"|\b(?:closes|secures|completes)\s+(?:\$|€|£|\d)|\bfunding round"
                         r"|\bseries [a-d]\b|\bled by\b|\bventure|\bvc\b|\bseed round\b|\bstrategic round\b"),
    _family("governance_vote", r"\bvot(?:e|es|ed|ing)\b|\bproposal\b|\bpropos(?:e|es|ed)\b|\breallocat\w*|\bredirect\w*"
                               r"|\bcancel\w*|\bclawback\b|\brefund\w*"),
    _family("roundup", r"listing and delisting|\bweekly\b|\bdigest\b|\bmore news\b|\bnews:|\broundup\b|\brecap\b"
                       r"|\bmarket report\b|\bnewsletter\b|\bthis week in\b|\bdaily\b|\bmarket wrap"),
    _family("tradfi", r"\betfs?\b|\betps?\b|\betns?\b|\bipo\b|\bspac\b|\bnasdaq\b|\bnyse\b|\bstock exchange\b"
                      r"|\bbond\b|\bpublicly[- ]traded\b|\bgo(?:es|ing)? public\b|['’]s shares\b"
                      r"|\bshares (?:fall|fell|rise|rose|jump|drop|surge|slide|slid|plunge|soar|tumble|sink|sank|climb|debut)"),
    _family("nft_drop", r"\bnft (?:airdrop|drop|collection|mint)|\bairdrops? (?:\w+ ){0,4}nfts?\b"
                        r"|\bnfts? (?:airdrop|drop)"),
    _family("generic_tge", r"\btge (?:model|mechanism|framework|platform|product|process|guide|season|calendar)\b"
                           r"|\blisting process\b|\bupcoming (?:tges|token launches|airdrops)\b|\btges\b"
                           r"|\btoken launches\b"),
    _family("presale_promo", r"\bto buy\b|\bbuy now\b|\b\d+x\b|\bgems?\b|\bsponsored\b"
                             r"|\bpre-?sales?\b.{0,60}\b(?:could|might|investors?|whales?|buyers|hits?|tops?|crosses|passes|"
                             r"nears|surpass\w*|millions?|stage|rally|explode|soar|moon)\b"
                             r"|\b(?:could|might|investors?|whales?|buyers|millions?|top)\b.{0,60}\bpre-?sales?\b"),
    # stablecoins, deposit tokens and tokenized real-world assets are products, not token generation events; a headline
    # that also speaks of a token ("stablecoin protocol X launches governance token") is about that token
    _family("real_world_asset", r"^(?!.*\btokens?\b).*\bstablecoins?\b|\bdeposit tokens?\b"
                                  r"|\btokeni[sz]ed (?:stocks?|shares|equit\w*|treasur\w*|funds?|gold|bonds?|deposits?|money)"
                                  r"|\bgold-backed\b|\bpre-ipo\b"),
    _family("points_program", r"\bpoints? (?:program|campaign|system|season|trading|market)s?\b|\bloyalty\b"),
)
# Checked on the first lines of the body too: they settle the question whatever the headline says.
LEAD_REJECT = (
    _family("government", r"\b(?:cbdc|central bank|government|ministry)\b.{0,60}\bairdrop"
                          r"|\bairdrop\b.{0,60}\b(?:cbdc|central bank|government|ministry)\b"),
    _family("already_trading", r"\bcan now trade\b|\balready (?:trad\w+|listed|live|available for trading)\b"
                               r"|\bhas been trading\b|\bcontinues? to trade\b"),
)
# In a body, "could see" is market talk; only hedged launch verbs and rumor words count against a launch.
LEAD_PENALTY = (
    _family("presale", r"\bpre-?sales?\b"),_family("speculation", r"\b(?:may|might|could)\s+(?:soon\s+)?"
                                       r"(?:launch|airdrop|list|release|issue|introduce|debut)"
                                       r"|\brumou?r|\bspeculat|\ballegedly\b|\bhint(?:s|ed)? at\b|\bteas(?:e|es|ed)\b"
                                       r"|\breportedly\b|\bunconfirmed\b"),)
PENALTY = (
    _family("presale", r"\bpre-?sales?\b"),
    _family("price_talk", r"\bprices?\b|\bsoar|\bsurg|\brall(?:y|ies|ied)\b|\bjump|\bspike|\bplung|\bcrash|\bdip(?:s|ped)?\b"
                          r"|\btumbl|\bslump|\bpump(?![.]\w)|\bdump|\bskyrocket|\bexplod|\bmoon(?:s|ing|ed)?\b|\bbullish"
                          r"|\bbearish|\ball-time high|\bath\b|\bmarket cap|\bbreakout|\bresistance\b"
                          r"|\bsupport (?:level|zone|at)\b|\bgains?\b|\blos(?:es|s|t)\b|\bwhales?\b|\btrading volume|\bworth \$"
                          r"|\bfloor price|\bsell(?:s|ing)? off|\bsell-off|\bfalls?\b|\bfell\b|\bsinks?\b|\bslid(?:e|es)?\b|"
                          + _MOVE),
    _family("second_wave", r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|latest|another|next|new round of|"
                           r"round \d|season \d+|phase \d|final)\s+(?:\w+\s+){0,2}airdrops?\b|\bairdrop continues\b"
                           r"|\bs\d+ airdrop|\bairdrop (?:season|round|phase) (?:\d|two|three)"
                           r"|\bairdrop (?:[2-9]|two|three|ii|iii)\b"),
)

# Families that end the judgement unless the headline has a launch shape: "X raises $5M ahead of its IDO" and
# "X token debuts: can it hold?" are launches reported beside a raise or a question; with such a shape the family
# only lowers confidence.
SOFT_REJECT = frozenset({"fundraise", "question", "real_world_asset"})
# A raise "ahead of its IDO" says the launch is coming: beside a headline launch shape it takes nothing away.
RAISE_AHEAD = re.compile(r"\b(?:ahead of|before|prepares? for|preparing for|in preparation for)\s+(?:its |the |a |an |their )?"
                         r"(?:\S+\s+){0,3}?(?:ido|ico|ieo|tge|token generation event|token launch|public sale|token sale)\b")
SOFT_CUT = 0.1


def first_hit(families: Iterable[Family], lowered: str) -> tuple[str, str] | None:
    """The first family that matches, with the words that matched."""
    for family in families:
        found = family.pattern.search(lowered)
        if found:
            return family.name, found.group(0)
    return None


def all_hits(families: Iterable[Family], lowered: str) -> dict[str, str]:
    hits = {}
    for family in families:
        found = family.pattern.search(lowered)
        if found:
            hits[family.name] = found.group(0)
    return hits
