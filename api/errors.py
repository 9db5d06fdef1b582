"""Every error has the same shape: ``{"error": "<what went wrong>", "detail": <DRF's field-by-field detail>}``."""
from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        message = "The request is not valid: " + _summary(detail)
    elif isinstance(detail, dict) and "detail" in detail:
        message = str(detail["detail"])
        detail = {k: v for k, v in detail.items() if k != "detail"} or None
    else:
        message = _summary(detail)
    response.data = {"error": str(message), "detail": detail}
    return response


def _summary(detail, path: str = "") -> str:
    if isinstance(detail, dict):
        return "; ".join(_summary(v, f"{path}.{k}" if path else str(k)) for k, v in detail.items())
    if isinstance(detail, list):
        return "; ".join(_summary(v, path) for v in detail) if detail else path
    return f"{path}: {detail}" if path else str(detail)


def bad_request(request, exception=None):
    """Requests Django itself refuses before any view runs (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, more than
    DATA_UPLOAD_MAX_NUMBER_FIELDS parameters), in the API's error shape; the admin keeps its HTML pages."""
    if request.path.startswith("/admin/"):
        from django.views.defaults import bad_request as html_bad_request

        return html_bad_request(request, exception)
    message = str(exception) if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)) else "Bad request."
    return JsonResponse({"error": message, "detail": None}, status=400)


def not_found(request, exception=None):
    """Unknown URLs answer in the API's error shape (JSON), the admin keeps its HTML pages."""
    if request.path.startswith("/admin/"):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)
    return JsonResponse({"error": f"No such URL: {request.path[:200]}", "detail": None}, status=404)


def server_error(request):
    return JsonResponse({"error": "Internal error; it has been logged.", "detail": None}, status=500)
