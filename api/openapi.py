"""Schema post-processing, so the schema states every rule the server enforces.

Every operation documents the error answers it can give, in the one error shape; query parameters and request
strings carry the server's rules (no empty or NUL values, no blank required strings); a Source's request bodies
are one branch per kind, with that kind's URL rule and options.
"""
from __future__ import annotations

import copy

from api import views
from api.models import Source
from api.serializers import KIND_UNIT_DEFAULTS
from tgesweeper.sources import kind_for
from tgesweeper.sources.fields import URL_PORT

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "what went wrong, in one sentence"},
        "detail": {
            "type": "object",
            "description": "per-field messages (`{field: [messages]}`, a nested object for a nested field); messages "
                           "about the request as a whole under `non_field_errors`; `{}` when there is nothing to add",
            "additionalProperties": {"description": "a list of messages, a nested field's own detail, or a fact "
                                                    "about the error (e.g. a token's `code`)"},
        },
    },
    "required": ["error", "detail"],
}
ERRORS = {
    "400": "The request is not valid: `error` says what is wrong, `detail` lists it per field.",
    "401": "No credentials, or an unknown/revoked API key or an expired token.",
    "403": "Authenticated, but this needs a staff account.",
    "404": "No such object.",
    "405": "This method is not allowed here.",
    "415": "The body's content type is not JSON.",
    "429": "Too many requests for this identity; retry after the `Retry-After` seconds.",
}
OPEN_PATHS = ("/openapi.json", "/metrics", "/health/")
APPRISE_URL = "apprise-url"
NO_NUL = "^[^\\x00]*$"  # PostgreSQL cannot store NUL; the server refuses it in every string
CSV_ITEM = "^[^\\x00,]+(,[^\\x00,]+)*$"  # items are joined with commas; an empty piece ("A,,B") is refused
# http(s) and a host with a top-level domain of letters (Django's URLValidator), at most 253 characters
PUBLIC_URL = f"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\x00]{{1,250}}[.][A-Za-z]{{2,63}}[.]?{URL_PORT}([/?#][^\\x00]*)?$"
SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"  # str.isspace
NOT_BLANK = f"^[^\\x00]*[^{SPACE}\\x00][^\\x00]*$"  # a required string is refused when only whitespace (trimmed)


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = set(ERRORS) - {"415"} if method in ("get", "delete") else set(ERRORS)
            if "{" not in path:
                codes.discard("404")
            if path.startswith(OPEN_PATHS):
                codes -= {"401", "403"}
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(code, {"description": ERRORS[code], "content": ref})
            for code, response in responses.items():
                if code >= "400":
                    response.setdefault("content", ref)  # declared by a view (e.g. a 409) without a body schema
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _strict_query_value(parameter["schema"])
    schemas = result["components"]["schemas"]
    for name, schema in schemas.items():
        if name.endswith("Request"):
            _strict_strings(schema)
        if name.removesuffix("Request") in _closed_bodies():
            schema["additionalProperties"] = False
    if "SourceRequest" in schemas:
        schemas["SourceRequest"] = source_request(schemas["SourceRequest"], partial=False)
        schemas["PatchedSourceRequest"] = source_request(schemas["PatchedSourceRequest"], partial=True)
    if "ChannelRequest" in schemas:
        schemas["ChannelRequest"] = channel_request(schemas["ChannelRequest"])
    return result


def _closed_bodies() -> set[str]:
    """Request bodies whose serializer answers 400 to a field it does not know (``refuses_unknown_fields``)."""
    return {name.removesuffix("Serializer") for name, value in vars(views).items()
            if getattr(value, "refuses_unknown_fields", False)}


def _strict_query_value(schema: dict) -> None:
    """The filters refuse an empty value (``until=``), an empty item (``ticker=A,,B``) and NUL."""
    if schema.get("type") == "string" and not {"format", "enum", "pattern"} & set(schema):
        schema.update(minLength=max(schema.get("minLength", 0), 1), pattern=NO_NUL)
    elif schema.get("type") == "array":
        schema["minItems"] = 1
        if schema["items"].get("type") == "string" and "enum" not in schema["items"]:
            schema["items"].update(minLength=1, pattern=CSV_ITEM)


def _strict_strings(schema: dict) -> None:
    """DRF's CharField refuses NUL, and whitespace-only where it may not be blank (it trims first)."""
    for prop in schema.get("properties", {}).values():
        if prop.get("type") == "string" and not {"format", "enum", "pattern", "oneOf", "anyOf"} & set(prop):
            prop["pattern"] = NOT_BLANK if prop.get("minLength", 0) >= 1 else NO_NUL
        elif prop.get("type") == "array" and prop.get("items", {}).get("type") == "string":
            _strict_strings({"properties": {"item": prop["items"]}})


def kind_options() -> dict[str, dict]:
    """Each kind's ``options``, as the kind declares them (``SourceKind.options_schema``)."""
    return {kind: copy.deepcopy(dict(kind_for(kind).options_schema)) for kind in Source.Kind.values}


def source_request(generated: dict, *, partial: bool) -> dict:
    """One branch per kind: ``kind``, ``url`` and ``options`` are checked together (``SourceSerializer``).

    A POST or PUT without ``kind`` is an rss source; a PATCH without ``kind`` leaves url and options alone.
    """
    common = {k: v for k, v in generated["properties"].items() if k not in ("kind", "url", "options")}
    url = copy.deepcopy(generated["properties"]["url"]["oneOf"][0])
    url.pop("anyOf", None)
    url["pattern"] = PUBLIC_URL  # where an address resolves to is not a schema matter: the description says it
    required = [] if partial else ["name"]
    branches = []
    for kind, options in kind_options().items():
        needs = ["kind"] if partial or kind != "rss" else []
        reads_url = kind_for(kind).reads_url
        needs += ["url"] if reads_url else []
        needs += list(options.get("required", ())) and ["options"]
        branches.append({"type": "object", "required": [*required, *needs], "properties": {
            **common, "kind": {"type": "string", "enum": [kind]},
            "url": url if reads_url else {"oneOf": [url, {"type": "string", "maxLength": 0}]},  # unused: optional
            "options": options}})
    if partial:
        branches.append({"type": "object", "properties": common,
                         "not": {"anyOf": [{"required": [name]} for name in ("kind", *KIND_UNIT_DEFAULTS)]}})
    return {"description": f"{generated.get('description', '')} Kind, url and options go together: a request that "
                           "gives the kind gives the url its kind needs and the options (left out: empty), and a "
                           "PATCH gives the kind with url or options.", "oneOf": branches}


def channel_request(generated: dict) -> dict:
    """One branch per channel kind: a webhook's URL is a public http(s) URL; an Apprise URL is what Apprise accepts,
    which no pattern states (``format: apprise-url``; the fuzzer's hooks generate some)."""
    url = generated["properties"]["url"]
    common = {"type": "string", "maxLength": url["maxLength"], "description": url.get("description", "")}
    return {"oneOf": [
        {"type": "object", "required": ["kind", "url"], "properties": {
            "kind": {"type": "string", "enum": [kind]},
            "url": {**common, **({"format": "uri", "pattern": PUBLIC_URL} if kind == "webhook" else
                                 {"format": APPRISE_URL})}}}
        for kind in ("webhook", "apprise")]}
