"""The chat models DeepSearch calls: built from settings, bound to a format and a cap.

Any OpenAI-compatible endpoint is a ``ChatOpenAI``; a local server gets its reply cap
in the body and the structured-output format it takes (:mod:`deepsearch.tools.formats`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from deepsearch.settings import Settings, StructuredMethod
from deepsearch.tools import formats


def native_structured(model: BaseChatModel, method: StructuredMethod) -> bool:
    """Tell whether ``method`` goes through LangChain's own structured output for ``model``.

    Function calling always does, and so does ``json_schema`` on OpenAI itself or on a
    chat model class that is not OpenAI-compatible; other OpenAI-compatible servers get
    the schema as a plain ``response_format`` and the reply is repaired here.
    """
    if method == "function_calling":
        return True
    return method == "json_schema" and (
        formats.hosted_openai(model) or formats.openai_base(model) is None
    )


def with_format(model: BaseChatModel, method: StructuredMethod, schema: type[BaseModel]) -> Any:
    """Return ``model`` bound to the ``response_format`` of ``method`` (as is for ``prompt``)."""
    fmt = formats.response_format(method, schema)
    return model.bind(response_format=fmt) if fmt is not None else model


def with_completion_cap(model: BaseChatModel, cap: int) -> BaseChatModel:
    """Return a copy of an OpenAI-compatible chat model whose replies stop at ``cap`` tokens.

    Local servers get the cap as ``max_tokens`` in the body (some ignore
    ``max_completion_tokens``); other chat model classes are returned unchanged.
    """
    if type(model).__name__ != "ChatOpenAI":
        return model
    extra = dict(getattr(model, "extra_body", None) or {})
    if "max_tokens" in extra:
        return model.model_copy(update={"extra_body": {**extra, "max_tokens": cap}})
    return model.model_copy(update={"max_tokens": cap})


def openai_endpoint(model: BaseChatModel) -> tuple[str, str] | None:
    """Return the (base URL, model name) of a ``ChatOpenAI`` aimed at another server, else None."""
    if type(model).__name__ != "ChatOpenAI":
        return None
    base = str(getattr(model, "openai_api_base", None) or "")
    return (base, str(getattr(model, "model_name", ""))) if base else None


def real_tokenizer(model: BaseChatModel) -> Callable[[str], int] | None:
    """Return tiktoken's length function for a model served by OpenAI itself, else None.

    tiktoken fetches its tables once and caches them; it only knows OpenAI's models,
    so other endpoints use the calibrated estimate instead.
    """
    if type(model).__name__ != "ChatOpenAI":
        return None
    base = str(getattr(model, "openai_api_base", None) or "")
    if base and "api.openai.com" not in base:
        return None
    try:
        import tiktoken

        encoding = tiktoken.encoding_for_model(str(getattr(model, "model_name", "")))
    except Exception:  # unknown model, or the tables cannot be fetched: estimate instead
        return None
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def make_chat_model(settings: Settings, role: str = "default") -> BaseChatModel:
    """Build a ``ChatOpenAI`` for ``role`` from settings (any OpenAI-compatible endpoint)."""
    from langchain_openai import ChatOpenAI

    settings.require_llm()
    name = getattr(settings, f"{role}_model", None) or settings.model
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    kwargs: dict[str, Any] = {
        "model": name,
        "api_key": key,
        "timeout": settings.llm_timeout,
        "max_retries": 2,
    }
    if settings.openai_base_url:
        # Local servers ignore max_completion_tokens and choke on streamed tool calls.
        kwargs["base_url"] = settings.openai_base_url
        kwargs["extra_body"] = {"max_tokens": settings.llm_max_tokens}
        kwargs["disable_streaming"] = "tool_calling"
    else:
        kwargs["max_tokens"] = settings.llm_max_tokens
    return ChatOpenAI(**kwargs)
