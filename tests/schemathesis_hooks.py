"""Values for the string formats the API schema names beyond JSON Schema's own (a Source's options), so the fuzzer
can generate options the server accepts. Loaded by the suite's fuzz test and by the schemathesis CLI
(``SCHEMATHESIS_HOOKS=tests.schemathesis_hooks``)."""
from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

_names = st.sampled_from(["article", "div", "h2", "a", "time", "p", "span", "li"])
_simple = st.builds(lambda tag, suffix: tag + suffix, _names,
                    st.sampled_from(["", ".item", "#main", "[href]", ":first-child"]))
CSS_SELECTOR = st.lists(_simple, min_size=1, max_size=3).map(" ".join)
CSS_FIELD = st.builds(lambda css, attr: css + attr, CSS_SELECTOR, st.sampled_from(["", " @href", " @datetime"]))
_key = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
_segment = st.builds(lambda key, index: key + index, _key, st.sampled_from(["", "[0]", "[*]"]))
JSON_PATH = st.lists(_segment, min_size=1, max_size=4).map(".".join)
JSON_URL_TEMPLATE = st.one_of(JSON_PATH, JSON_PATH.map("https://exchange.example/notice/{{{}}}".format))

# A Discord webhook's own URL: a webhook channel takes it (https), and so does an Apprise channel (Apprise reads it).
CHANNEL_URL = st.builds("https://discord.com/api/webhooks/{}/{}".format, st.integers(10**17, 10**18 - 1),
                        st.from_regex(r"[A-Za-z0-9_-]{20,60}", fullmatch=True))

schemathesis.openapi.format("css-selector", CSS_SELECTOR)
schemathesis.openapi.format("channel-url", CHANNEL_URL)
schemathesis.openapi.format("css-field", CSS_FIELD)
schemathesis.openapi.format("json-path", JSON_PATH)
schemathesis.openapi.format("json-url-template", JSON_URL_TEMPLATE)
