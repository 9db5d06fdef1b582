"""What an x source asks of X's filtered stream (its rule), and how a line of the stream reads (pure)."""
import json

import pytest

from tgesweeper.sources.x_api import RULE_TAG, XParseError, stream_message, stream_rule


@pytest.mark.parametrize("query, options, rule", [
    ("", {}, '("TGE" OR "token generation event" OR "airdrop claim" OR "token launch") -is:retweet'),
    ("TGE", {"accounts": ["@lumenchain", "orbitdex"]},
     "((TGE) -is:retweet) OR ((from:lumenchain OR from:orbitdex) -is:retweet)"),
    ("TGE", {"search": False, "accounts": ["lumenchain"]}, "(from:lumenchain) -is:retweet"),
])
def test_the_rule_selects_what_the_sources_polls_read(query, options, rule):
    assert stream_rule(query, options) == rule


def line(**message) -> bytes:
    return json.dumps(message).encode()


def test_a_streamed_tweet_is_packed_for_the_kinds_parse_with_the_sources_it_matched():
    tweet = stream_message(line(
        data={"id": "77", "author_id": "1", "text": "Lumen TGE today", "created_at": "2026-03-02T09:30:00.000Z"},
        includes={"users": [{"id": "1", "username": "lumenchain"}]},
        matching_rules=[{"id": "9", "tag": f"{RULE_TAG}12"}, {"id": "8", "tag": "someone else's"},
                        {"id": "7", "tag": f"{RULE_TAG}²"}]))
    assert tweet is not None and (tweet.tweet_id, tweet.source_ids) == ("77", [12])
    assert json.loads(tweet.body)["tweets"][0]["url"] == "https://x.com/lumenchain/status/77"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", line(data={"id": "1"}, includes="users"),
                                 line(data={"id": "1"}, matching_rules="all")])
def test_a_hostile_line_is_a_parse_error(raw):
    with pytest.raises(XParseError):
        stream_message(raw)


def test_a_line_without_a_usable_tweet_is_nothing():
    assert stream_message(line(errors=[{"title": "operational-disconnect"}])) is None
    assert stream_message(line(data={"id": "1", "author_id": "2", "text": "no such user"})) is None
