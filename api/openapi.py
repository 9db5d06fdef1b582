"""Schema post-processing: every operation documents the error answers it can give, in the one error shape."""
from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "what went wrong, in one sentence"},
        "detail": {"nullable": True, "description": "per-field messages for a 400, else null or extra facts"},
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
    return result
