"""How launches are reported: phrasings that say a named project's token is created, scheduled, trading or delayed.

Each shape carries the kind it implies and a base confidence: how often, in launch-heavy news, a headline of that
shape really announces a launch. Exchange announcement shapes are near-certain; "airdrop ... tokens to" is weaker.
Patterns run on lowercased text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str
    kind: str
    weight: float
    pattern: re.Pattern


def _shape(name: str, kind: str, weight: float, pattern: str) -> Shape:
    return Shape(name, kind, weight, re.compile(pattern))


_TOKEN = r"(?:tokens?|coins?|cryptocurrency|meme ?coins?)"
# "rolls out token assessment format": here "token" describes something else.
_NOT_A_TOKEN = (r"(?:assessment|standards?|format|program|programme|framework|gating|gated|bridge|swap|unlock|buyback|"
                r"burn|incentives?|rewards?|vesting|economics|model|lists?|listings?|support|tracker|pages?|registry|"
                r"factory|launchpad|launcher|wallet|portal|holders|staking|migration|upgrade|audit)\b")
_MODIFIERS = r"(?:(?:its|a|the|their|an|own|new|native|governance|utility|first|long-awaited|much-anticipated|\S+['’]s)\s+)"
SHAPES = (
    _shape("first_platform", "listing_at_launch", 0.97,
           r"first (?:platform|exchange) to (?:feature|list|open trading|offer trading)"),
    _shape("binance_alpha", "listing_at_launch", 0.9, r"will be available on binance alpha"),
    _shape("hodler_airdrop", "listing_at_launch", 0.93, r"on (?:binance )?hodler airdrops"),
    _shape("launchpool", "listing_at_launch", 0.9, r"on binance (?:launchpool|megadrop)|launchpool[:!]? (?:farm|stake)"),
    _shape("launch_program", "listing_at_launch", 0.86, r"\b(?:launchpool|megadrop|jumpstart|launchpad)\b"),
    _shape("seed_tag_listing", "listing_at_launch", 0.88, r"will list .{0,60}with (?:a )?seed tag"),
    _shape("wallet_tge", "scheduled", 0.94,
           r"(?:participate|subscribe|join)\b.{0,60}\b(?:pre-tge|tge|token generation event)"
           r"|(?:exclusive|binance wallet)\b.{0,60}\b(?:pre-tge|tge|token generation event)"),
    _shape("postponed", "postponed", 0.93,
           r"listing (?:will be |is |date is )?(?:postponed|delayed|rescheduled)|postponement of|again rescheduled"
           r"|(?:postpone|delay|reschedule)[sd]? (?:its |the )?"
           r"(?:\$?\w+ )?(?:tge|token generation event|token launch|token listing|listing|airdrop)"
           r"|(?:tge|token generation event|token launch|token listing)\b.{0,30}\b(?:postponed|delayed|pushed back|rescheduled)"),
    _shape("tge", "announce", 0.9, r"\b(?:tge|token generation event)\b"),
    _shape("token_launch", "announce", 0.88, rf"\b{_TOKEN} launch(?:es)?\b"),
    _shape("launches_token", "announce", 0.88,
           rf"\b(?:launch(?:es|ed|ing)?|unveil(?:s|ed|ing)?|introduc(?:es|ed|e|ing)|releas(?:es|ed|e|ing)|"
           rf"debut(?:s|ed|ing)?|roll(?:s|ed|ing)? out|reveal(?:s|ed|ing)?|drop(?:s|ping)?|issu(?:es|ed|e|ing)|"
           rf"mint(?:s|ed|ing)?|announc(?:es|ed|e|ing)|confirm(?:s|ed|ing)?)\s+{_MODIFIERS}{{0,3}}(?:\$?[a-z0-9]{{2,10}}\s+)?"
           rf"(?:governance\s+|utility\s+|native\s+)?(?:token|coin|cryptocurrency|meme ?coin)\b(?!\s+{_NOT_A_TOKEN})"
           rf"|\b(?:launch|unveil|introduc|releas|debut|roll)\w*\s+(?:out\s+)?\$?[a-z0-9]{{2,10}},?\s+(?:as\s+)?(?:its|a|the|their)\s+"
           rf"(?:new\s+)?(?:native|governance|utility)\s+{_TOKEN}"
           rf"|\b(?:launch|unveil|introduc|releas|debut|roll)\w*\s+(?:\S+\s+){{0,3}}?(?:meme ?coin|memecoin)\b"
           # a launch verb, then a few words, then the token's role: "launches mainnet with a dedicated governance token"
           rf"|\b(?:launch|unveil|introduc|releas|debut|roll)\w*\s+(?:(?!(?:to|for|of|its|their)\s)[^\s.;:!?]+\s+){{0,6}}?(?:native|governance|utility|fan"
           rf"|social|rewards?|dedicated)\s+(?:token|coin)\b(?!\s+{_NOT_A_TOKEN})"
           rf"|\b(?:launch|unveil|introduc|releas|roll)\w*\s+(?:out\s+)?(?:two|three|\d)?\s*new tokens\b"
           # the launch as a noun: "the upcoming launch of its token", "Q1 launch for the SEA token"
           rf"|\blaunch (?:of|for) (?:its |the |a |their )?(?:new |native |governance )?(?:\$?[a-z0-9]{{2,10}}\s+)?token\b"
           rf"(?!\s+{_NOT_A_TOKEN})"
           # a cashtag straight after the verb names the token: "launches $ABC"
           rf"|\b(?:launch|unveil|introduc|debut|releas)\w*\s+\$[a-z][a-z0-9]{{1,9}}\b"),
    _shape("relaunch", "live", 0.88,
           rf"\bre-?launch(?:es|ed|ing)?\b.{{0,40}}\b{_TOKEN}|\b{_TOKEN}\b.{{0,40}}\bre-?launch"
           rf"|\b(?:new|v2|2\.0)\s+(?:\$?[a-z0-9]{{2,10}}\s+)?{_TOKEN}\b.{{0,60}}\b(?:replac|migrat|swap)"
           rf"|\bmigrat\w*\s+(?:\S+\s+){{0,4}}?to (?:a |the )?new (?:\$?[a-z0-9]{{2,10}}\s+)?{_TOKEN}"),
    _shape("token_to_launch", "scheduled", 0.88,
           rf"\b{_TOKEN} (?:to|will|set to|is set to|scheduled to) (?:launch|debut|go live|list)\b"
           rf"|\blaunch date (?:for|of) (?:its |the )?(?:\S+\s+){{0,2}}?{_TOKEN}|\b{_TOKEN} launch date\b"
           rf"|\blisting date\b"),
    _shape("sale_start", "scheduled", 0.86,
           r"\b(?:launch|announc|start|kick|open|begin|unveil|initiat|commenc)\w*\s+(?:off\s+)?(?:its\s+|the\s+|a\s+|an\s+)?"
           r"(?:\S+\s+){0,2}?(?:ico|ido|ieo|pre-?sale|public sale|token sale|community (?:token )?sale|initial coin offering)\b"
           r"|\b(?:ico|ido|ieo|pre-?sale|public sale|token sale|community sale) (?:goes live|is live|kicks off|begins|starts"
           r"|opens|launches)"
           r"|\b(?:ico|ido|pre-?sale|public sale|token sale) sells? out|\bsold out\b"),
    _shape("pre_market", "listing_at_launch", 0.86, r"\bpre-?market (?:listing|trading)\b"),
    # a project publishing the economics of its token is about to launch it
    _shape("tokenomics", "announce", 0.86,
           r"\b(?:announc|unveil|releas|reveal|publish|detail|outlin|share)\w*\s+(?:its\s+|the\s+)?(?:\$?[a-z0-9]{2,10}\s+)?"
           r"tokenomics\b"),
    _shape("mainnet_and_token", "live", 0.86,
           rf"\bmainnet\b.{{0,30}}\b(?:and|with|alongside|plus)\b.{{0,30}}\b(?:{_TOKEN}|tge|airdrop)\b"),
    _shape("token_live", "live", 0.88,
           rf"\b{_TOKEN} (?:is |goes |went |now |officially )*live\b|(?:goes|went|is now) live with (?:its )?(?:token|airdrop)"
           rf"|\b{_TOKEN} debut(?:s|ed)?\b|\b(?:begins?|began|starts?|started|commences?) trading\b"
           r"|\btrading (?:begins|began|started|opens|opened)\b"
           r"|\bhits? (?:the )?market|\b(?:trading|market) debut\b"
           r"|first (?:day|hours?|minutes) of trading|\bwithin (?:hours|minutes) of (?:its )?(?:debut|launch|listing)\b"
           r"|\bbecomes? tradable\b|\bopen(?:s|ed)? for trading\b|\bdebut(?:s|ed)(?:\s*$|\s*[,;:!—–]|\s+-\s)"
           # "debuts on MEXC" is trading; "debuts on the Cardano blockchain" is a deployment
           r"|\bdebuts? (?:on|at|with)\b(?! (?:the )?\S+ (?:blockchain|network|mainnet|testnet|chain)\b)"
           rf"|\b(?:launch|open|start|begin|enabl)\w* (?:\S+ ){{0,4}}?{_TOKEN} trading\b"),
    _shape("after_launch", "live", 0.88,
           r"\b(?:after|following) (?:its |the )?(?:token )?launch\b"
           r"|\b(?:hours|minutes|days?) (?:after|into) (?:its |the )?(?:\S+ )?(?:debut|launch|listing|tge)\b"
           r"|\b(?:after|following|post)[- ](?:its |the |a )?(?:market |trading |token )?(?:debut|tge)\b"
           r"|\b(?:on|in) (?:its |their )?(?:trading |market )?debut\b|\bdebut day\b|\bfirst day\b|\blaunch day\b"),
    _shape("claim_open", "airdrop_claim", 0.88,
           r"airdrop claims? (?:opens?|is open|are open|goes live|live|window|period|portal)|"
           r"\bairdrop\b.{0,40}\b(?:goes|is|now|went) live\b|"
           r"\bopen(?:s|ed|ing)? (?:\w+ ){0,3}?(?:the )?(?:airdrop )?claim|"
           r"claim (?:period|window|portal) (?:opens|is open|is live)|\blaunch\w* (?:its |the )?(?:\$?\w+ )?airdrop claims?\b|"
           rf"\bclaimable\b|{_TOKEN} claim\b|\bclaim(?:s|ing)? (?:for|of) (?:the )?(?:\$?\w+ )?(?:token|airdrop)"),
    _shape("airdrops_tokens", "live", 0.8,
           rf"\bairdrop(?:s|ped)?\s+(?:[\d.,]+\s*(?:m|mn|million|b|bn|billion|k)?\s+)?(?:of\s+)?(?:its\s+|their\s+)?"
           rf"(?:\$?[a-z0-9]{{2,10}}\s+)?(?:governance\s+|native\s+|new\s+)?(?:{_TOKEN}\s+)?to\b"),
    _shape("airdrops_to_users", "live", 0.84,
           r"\bairdrop(?:s|ped)\s+(?:[\w$.,]+\s+){1,5}?to\s+(?:its\s+|\d[\d,.]*\s+|early\s+|eligible\s+)?"
           r"(?:users|holders|traders|wallets|community|stakers|participants|customers|addresses)"),
    _shape("airdrops_token", "live", 0.86,
           rf"\bairdrop(?:s|ped)? (?:its |the |a )?(?:new |native |governance |own )?{_TOKEN}\b"),
    _shape("airdrop_announced", "announce", 0.85,
           r"\b(?:announc\w*|detail\w*|reveal\w*|unveil\w*|confirm\w*|set\w*|plan\w*|kick\w* off|receiv\w*|snapshot|begin\w*"
           r"|start\w*|initiat\w*|prepar\w*|sketch\w*|outlin\w*|releas\w*)\b"
           r".{0,50}\bairdrop\b"
           r"|\b(?:send|distribut\w*|giv\w+|allocat\w*)\s+(?:[\w$.,]+\s+){0,4}?tokens?\s+to\b.{0,60}\bairdrop\b"),
    _shape("listing_with_airdrop", "listing_at_launch", 0.86,
           r"\blist(?:s|ed|ing)?\b.{0,60}\bairdrop|\bairdrop\b.{0,60}\blist(?:s|ed|ing)\b"),
    _shape("sale", "announce", 0.86,
           r"\b(?:ido|ieo|initial dex offering|initial exchange offering|public (?:token )?sale|token sale|"
           r"initial token offering|initial coin offering|community (?:token )?sale)\b"),
    _shape("sale_live", "live", 0.9, r"\b(?:token |public )?sale (?:goes|went|is now) live\b"),
    _shape("listing_at_launch", "listing_at_launch", 0.9,
           r"\blists? .{0,40}\bat launch\b|\blisting at launch\b|\bday-one listing\b"),
    _shape("new_token_airdrop", "announce", 0.85,
           rf"(?:upcoming|new|native|governance|own)\s+{_TOKEN}\b.{{0,80}}\bairdrop|\bairdrop\b.{{0,80}}\b(?:upcoming|new|native|"
           rf"governance|own)\s+{_TOKEN}\b"),
    _shape("listing", "listing_at_launch", 0.72, r"\blist(?:s|ed|ing)? (?:on|at)\b"),
)

# A new token under a name or ticker that already trades: the established-token check must not veto it.
NEW_TOKEN_WORDING = re.compile(
    rf"\bnew (?:\$?[a-z0-9]{{2,10}} )?(?:native |governance |utility )?{_TOKEN}\b|\bre-?launch\w*|\b2\.0\b|\bv2 {_TOKEN}"
    rf"|\bmigrat\w* (?:\S+ ){{0,4}}?to (?:a |the )?new\b|\bairdrop\w* (?:\S+ ){{0,3}}?to (?:\S+ ){{0,2}}?holders of\b")
FUTURE = re.compile(r"\b(?:to|will|set to|set for|scheduled|plans? to|soon|upcoming|next week|tomorrow|later today)\b")
PAST = re.compile(r"\b(?:launched|went live|debuted|began|started|airdropped|has launched|is live|now live)\b")


def found_shapes(lowered: str) -> list[Shape]:
    return [shape for shape in SHAPES if shape.pattern.search(lowered)]
