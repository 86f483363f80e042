"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

Clients get a clear message and a 4xx for their mistakes; a 5xx only for real server
faults, never with a stack trace.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from deepsearch.settings import NO_LLM_MESSAGE, ConfigurationError

log = logging.getLogger("deepsearch.server")


class SafeJSONResponse(JSONResponse):
    """A JSON response that never fails on odd text (lone surrogates become ``?``)."""

    def render(self, content: Any) -> bytes:
        """Serialize compactly as UTF-8."""
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8", "replace")


class APIError(Exception):
    """An error to send to the client as an OpenAI-style error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """Return the OpenAI error body."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> Response:
        """Return the error as an HTTP response."""
        return SafeJSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    """Return a 400 for a request the client must fix."""
    return APIError(400, message, param=param, code=code or "invalid_request")


def from_run_failure(exc: BaseException) -> APIError:
    """Map an exception raised by a run to an error the client can act on."""
    from deepsearch.tools.base import ProviderError
    from deepsearch.tools.llm import LLMUnavailable

    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, ConfigurationError):
        code = "llm_not_configured" if str(exc) == NO_LLM_MESSAGE else "not_configured"
        return APIError(503, str(exc), type="server_error", code=code)
    if isinstance(exc, LLMUnavailable):
        return APIError(
            502,
            f"The upstream LLM endpoint failed: {exc}"[:800],
            type="upstream_error",
            code="llm_unavailable",
        )
    if isinstance(exc, ProviderError):
        return APIError(
            502,
            f"The upstream service '{exc.provider}' failed: {exc}"[:800],
            type="upstream_error",
            code="upstream_unavailable",
        )
    log.error("run failed", exc_info=exc)
    return APIError(
        500,
        f"The run failed unexpectedly ({type(exc).__name__}).",
        type="server_error",
        code="internal_error",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app returns OpenAI-shaped."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, APIError)
        return exc.response()

    async def validation_error(request: Request, exc: Exception) -> Response:
        from deepsearch.server.param_errors import from_validation

        assert isinstance(exc, RequestValidationError)
        return from_validation(exc).response()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        err = APIError(exc.status_code, str(exc.detail), type=kind, code=code)
        return SafeJSONResponse(err.body(), status_code=exc.status_code, headers=exc.headers)

    async def unexpected(request: Request, exc: Exception) -> Response:
        return from_run_failure(exc).response()

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
