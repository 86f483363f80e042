"""Which structured output an endpoint supports, found once per endpoint and remembered.

OpenAI itself takes strict ``json_schema`` (through LangChain's structured output).
Other OpenAI-compatible servers differ: llama.cpp's own server turns a ``json_schema``
response format into a grammar (valid JSON, valid enum values, nothing after the
object); llama-cpp-python's server rejects ``json_schema`` with HTTP 500 but takes
``json_object``; some take neither. ``auto`` asks such an endpoint for ``json_schema``
first and steps down (``json_schema`` -> ``json_mode`` -> ``prompt``) when the server
refuses a request that it then accepts without that format; the step down is
remembered for the endpoint (its base URL and model), so it is paid once per process.
"""

from __future__ import annotations

import threading
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from deepsearch.settings import StructuredMethod

# Most to least constrained: each falls back to the next when the server refuses it.
DOWNGRADES: dict[str, StructuredMethod] = {"json_schema": "json_mode", "json_mode": "prompt"}
# HTTP statuses with which servers refuse a response format they do not support.
REFUSAL_STATUSES = frozenset({400, 404, 422, 500, 501})

_lock = threading.Lock()
_remembered: dict[str, StructuredMethod] = {}


def openai_base(model: BaseChatModel) -> str | None:
    """Return the base URL of an OpenAI-compatible chat model, None for other classes."""
    if type(model).__name__ != "ChatOpenAI":
        return None
    return str(getattr(model, "openai_api_base", None) or "")


def hosted_openai(model: BaseChatModel) -> bool:
    """Tell whether ``model`` is served by OpenAI itself (no base URL, or api.openai.com)."""
    base = openai_base(model)
    return base is not None and (not base or "api.openai.com" in base)


def endpoint_key(model: BaseChatModel) -> str:
    """Return what identifies an endpoint: its base URL and model name."""
    return f"{openai_base(model) or ''}|{getattr(model, 'model_name', '')}"


def auto_method(model: BaseChatModel) -> StructuredMethod:
    """Return the structured-output method ``auto`` uses for ``model`` now.

    OpenAI: ``json_schema``; another OpenAI-compatible server: what it was found to
    support, ``json_schema`` until it refuses it; any other chat model class: JSON
    asked for in the prompt.
    """
    if openai_base(model) is None:
        return "prompt"
    if hosted_openai(model):
        return "json_schema"
    with _lock:
        return _remembered.get(endpoint_key(model), "json_schema")


def remember(model: BaseChatModel, method: StructuredMethod) -> None:
    """Record that ``model``'s endpoint works with ``method`` (after a refusal of a better one)."""
    with _lock:
        _remembered[endpoint_key(model)] = method


def forget_all() -> None:
    """Forget what every endpoint was found to support (tests start from scratch)."""
    with _lock:
        _remembered.clear()


def refused(exc: BaseException) -> bool:
    """Tell whether a call failed because the server refused the request (an HTTP status)."""
    return getattr(exc, "status_code", None) in REFUSAL_STATUSES


def response_format(method: StructuredMethod, schema: type[BaseModel]) -> dict[str, Any] | None:
    """Return the ``response_format`` a local endpoint gets for ``method`` (None: none).

    The schema goes as it is (not strict): local servers build a grammar from it, and
    strict mode's rules (every field required) would force fields a reply may omit.
    """
    if method == "json_mode":
        return {"type": "json_object"}
    if method == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
        }
    return None


__all__ = [
    "DOWNGRADES",
    "auto_method",
    "endpoint_key",
    "forget_all",
    "hosted_openai",
    "refused",
    "remember",
    "response_format",
]
