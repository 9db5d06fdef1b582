"""Each kind declares its options' JSON schema beside its checks: the two name the same options."""
import re

import pytest

from tgesweeper.sources import InvalidOptions, kind_for

KINDS = ("rss", "html", "json", "x", "browser", "websocket")


def unknown_refused(kind: str, name: str) -> bool:
    try:
        kind_for(kind).check_options({name: "x"})
    except InvalidOptions as exc:
        return any("unknown" in message and name in re.findall(r"\w+", message)
                   for message in exc.problems.get("options", []))
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_the_schema_names_every_option_the_kind_accepts_and_no_other(kind):
    schema = kind_for(kind).options_schema
    assert schema["type"] == "object"
    declared = set(schema.get("properties", {}))
    for name in declared:
        assert not unknown_refused(kind, name), f"{kind} declares {name!r} but its check calls it unknown"
    assert unknown_refused(kind, "no_such_option")
    if not declared:
        assert schema["maxProperties"] == 0
    else:
        assert schema["additionalProperties"] is False


@pytest.mark.parametrize("kind", KINDS)
def test_a_null_option_is_refused_by_name(kind):
    with pytest.raises(InvalidOptions) as refused:
        kind_for(kind).check_options({"date_format": None})
    assert refused.value.problems == {"options": ["the option 'date_format' is null: leave it out for its default"]}
