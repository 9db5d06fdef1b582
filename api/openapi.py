"""Schema post-processing, so the schema states every rule the server enforces.

Every operation documents the error answers it can give, in the one error shape; query parameters and request
strings carry the server's rules (no empty or NUL values, no blank required strings); a Source's request bodies
are one branch per kind, with that kind's URL rule and settings.
"""
from __future__ import annotations

import copy

from api import views
from api.serializers import KIND_UNIT_DEFAULTS
from tgesweeper.sources import browser, html, json_api, x_api
from tgesweeper.sources.fields import DATE_FORMATS

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
NO_NUL = "^[^\\x00]*$"  # PostgreSQL cannot store NUL; the server refuses it in every string
CSV_ITEM = "^[^\\x00,]+(,[^\\x00,]+)*$"  # items are joined with commas; an empty piece ("A,,B") is refused
# http(s) and a host with a top-level domain of letters (Django's URLValidator), at most 253 characters
PUBLIC_URL = "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]{1,250}[.][A-Za-z]{2,63}[.]?(:[0-9]{1,5})?([/?#].*)?$"
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
    return result


def _closed_bodies() -> set[str]:
    """Request bodies whose serializer answers 400 to a field it does not know (``refuses_unknown_fields``)."""
    return {name.removesuffix("Serializer") for name, value in vars(views).items()
            if getattr(value, "refuses_unknown_fields", False)}


def _strict_query_value(schema: dict) -> None:
    """The filters refuse an empty value (``until=``), an empty item (``ticker=A,,B``) and NUL."""
    if schema.get("type") == "string" and "format" not in schema and "enum" not in schema:
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
    """Each kind's ``settings``, as the kind validates them (``api.validation``): its options and their bounds."""
    def selectors(names, fmt, required=()):
        return {n: {"type": "string", "format": fmt, **({"minLength": 1} if n in required else {}),
                    **({"maxLength": 500} if fmt == "css-selector" else {})} for n in names}

    strptime = {"type": "string", "pattern": "^[^\\x00]*%[^\\x00]*$"}
    date_format = {"anyOf": [{"type": "string", "enum": list(DATE_FORMATS)}, strptime],
                   "description": "a named format or a strptime pattern"}
    low, high = x_api.MAX_RESULTS_RANGE
    return {
        "rss": {"type": "object", "maxProperties": 0, "description": "an rss source takes no options"},
        "html": {"type": "object", "additionalProperties": False, "required": ["item", "title"], "properties": {
            **selectors(html._SELECTOR_OPTIONS, "css-field", required=("item", "title")),
            "date_format": date_format, "follow_links": {"type": "boolean"},
            "max_articles": {"type": "integer", "minimum": 0, "maximum": html.MAX_ARTICLES},
            "max_items": {"type": "integer", "minimum": 1, "maximum": html.MAX_ITEMS}}},
        "json": {"type": "object", "additionalProperties": False, "required": ["items", "title"], "properties": {
            **selectors(json_api._PATH_OPTIONS, "json-path", required=("title",)),
            "url": {"type": "string", "format": "json-url-template"},
            "date_format": date_format, "max_items": {"type": "integer", "minimum": 1}}},
        "browser": {"type": "object", "additionalProperties": False, "properties": {
            **selectors((*browser.SELECTOR_OPTIONS, "wait_for"), "css-selector"),
            "wait_until": {"type": "string", "enum": list(browser.WAIT_UNTIL)}}},
        "x": {"type": "object", "additionalProperties": False, "properties": {
            "accounts": {"type": "array", "maxItems": x_api.MAX_ACCOUNTS,
                         "items": {"type": "string", "pattern": "^@*" + x_api.USERNAME.pattern.lstrip("^")}},
            "max_results": {"type": "integer", "minimum": low, "maximum": high},
            "search": {"type": "boolean"}},
            "anyOf": [{"properties": {"search": {"enum": [True]}}},
                      {"required": ["accounts"], "properties": {"accounts": {"minItems": 1}}}],
            "description": 'with "search": false the source reads "accounts", so it needs some'},
    }


URL_KINDS = ("rss", "html", "json", "browser")  # every kind but x reads a URL


def source_request(generated: dict, *, partial: bool) -> dict:
    """One branch per kind: ``kind``, ``url`` and ``settings`` are checked together (``SourceSerializer``).

    A POST or PUT without ``kind`` is an rss source; a PATCH without ``kind`` leaves url and settings alone.
    """
    common = {k: v for k, v in generated["properties"].items() if k not in ("kind", "url", "settings")}
    url = copy.deepcopy(generated["properties"]["url"]["oneOf"][0])
    url.pop("anyOf", None)
    url["pattern"] = PUBLIC_URL  # where an address resolves to is not a schema matter: the description says it
    required = [] if partial else ["name"]
    branches = []
    for kind, options in kind_options().items():
        needs = ["kind"] if partial or kind != "rss" else []
        needs += ["url"] if kind in URL_KINDS else []
        needs += list(options.get("required", ())) and ["settings"]
        branches.append({"type": "object", "required": [*required, *needs], "properties": {
            **common, "kind": {"type": "string", "enum": [kind]},
            "url": url if kind in URL_KINDS else {"oneOf": [url, {"type": "string", "maxLength": 0}]},  # x: optional
            "settings": options}})
    if partial:
        branches.append({"type": "object", "properties": common,
                         "not": {"anyOf": [{"required": [name]} for name in ("kind", *KIND_UNIT_DEFAULTS)]}})
    return {"description": f"{generated.get('description', '')} Kind, url and settings go together: a request that "
                           "gives the kind gives the url its kind needs and the settings (left out: empty), and a "
                           "PATCH gives the kind with url or settings.", "oneOf": branches}
