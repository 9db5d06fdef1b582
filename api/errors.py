"""Every error has one shape: ``{"error": "<what went wrong>", "detail": {<field>: [messages]}}``.

``detail`` is always an object: per-field messages for a 400 (a nested object for a nested field), messages about
the request as a whole under ``non_field_errors``, and ``{}`` when there is nothing to add (401, 404, 429, 500...).
"""
from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.defaults import bad_request as html_bad_request
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def validation_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as ``{field: [messages]}``; one without a field goes under ``non_field_errors``."""
    messages = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return {api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: list(found)
            for field, found in messages.items()}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        message = "The request is not valid: " + _summary(detail)
        if not isinstance(detail, dict):
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
    elif isinstance(detail, dict) and "detail" in detail:
        message = str(detail["detail"])
        detail = {k: v for k, v in detail.items() if k != "detail"}
    else:
        message = _summary(detail)
        detail = detail if isinstance(detail, dict) else {}
    response.data = {"error": str(message), "detail": detail}
    return response


def _summary(detail, path: str = "") -> str:
    if isinstance(detail, dict):
        return "; ".join(_summary(v, f"{path}.{k}" if path else str(k)) for k, v in detail.items())
    if isinstance(detail, list):
        return "; ".join(_summary(v, path) for v in detail) if detail else path
    return f"{path}: {detail}" if path else str(detail)


def error_response(message: str, status: int) -> JsonResponse:
    """An error answered outside DRF (Django's own 400/404/500 handlers), in the same shape."""
    return JsonResponse({"error": message, "detail": {}}, status=status)


def bad_request(request, exception=None):
    """Requests Django itself refuses before any view runs (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, more than
    DATA_UPLOAD_MAX_NUMBER_FIELDS parameters), in the API's error shape; the admin keeps its HTML pages."""
    if request.path.startswith("/admin/"):
        return html_bad_request(request, exception)
    message = str(exception) if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)) else "Bad request."
    return error_response(message, 400)


def not_found(request, exception=None):
    """Unknown URLs answer in the API's error shape (JSON), the admin keeps its HTML pages."""
    if request.path.startswith("/admin/"):
        return page_not_found(request, exception)
    return error_response(f"No such URL: {request.path[:200]}", 404)


def server_error(request):
    return error_response("Internal error; it has been logged.", 500)


class Conflict(exceptions.APIException):
    """The request clashes with a row that exists (a uniqueness rule): 409, ``detail`` names the field."""

    status_code = 409
    default_detail = "Conflicts with an existing object."
    default_code = "conflict"
