"""What goes into a chat call and what comes back: messages, usage, schema text.

Small helpers of :mod:`deepsearch.tools.llm`: the call's messages, the text of a reply,
the tokens a reply reports (and those served from the server's prompt cache), the
compact JSON schema shown to a model, and the log line of a reply that could not be
used.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

log = logging.getLogger("deepsearch.tools.llm")  # benchmarks listen to the LLM layer's log


def note_unusable(role: str, error: str, reply: str) -> None:
    """Log a reply the LLM layer could not use (benchmarks and traces count them)."""
    log.info(
        "unusable %s reply (%s): %r",
        role,
        error.splitlines()[0][:200] if error else "",
        reply[:300],
        extra={"unusable_role": role},
    )


def garbled(exc: BaseException) -> bool:
    """Tell whether a call failed on a reply the client could not decode (cut or garbled body).

    The server was reached, so asking again is worthwhile; OpenAI's SDK retries
    connection errors, timeouts, 429 and 5xx itself, but not undecodable bodies.
    """
    return isinstance(exc, ValueError)


def message_text(message: BaseMessage) -> str:
    """Return the text content of a message, whatever its content shape."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
    return "".join(parts)


def reported_cached(message: Any) -> int:
    """Return the prompt tokens a reply says were served from the server's prompt cache.

    OpenAI, vLLM and llama.cpp report them as ``usage.prompt_tokens_details.cached_tokens``;
    LangChain carries them as ``usage_metadata["input_token_details"]["cache_read"]``.
    """
    meta = getattr(message, "usage_metadata", None) or {}
    details = meta.get("input_token_details") or {}
    return int(details.get("cache_read") or 0)


def reported_usage(message: Any) -> tuple[int, int] | None:
    """Return the (prompt, completion) tokens a reply reports, or None when it reports none."""
    meta = getattr(message, "usage_metadata", None)
    if meta and meta.get("total_tokens"):
        return int(meta.get("input_tokens", 0)), int(meta.get("output_tokens", 0))
    return None


@lru_cache(maxsize=64)
def schema_prompt(schema: type[BaseModel]) -> str:
    """Describe the JSON reply a schema expects, compactly (short schemas suit small models).

    Titles and the model's own docstring are left out: they repeat the field names and
    cost tokens on every call.
    """
    js = _without_titles(schema.model_json_schema())
    js.pop("description", None)
    head = "\n\nReply with a single compact JSON object and nothing else. Its JSON schema:\n"
    return head + json.dumps(js, separators=(",", ":"))


def _without_titles(node: Any) -> Any:
    """Drop the ``title`` keywords pydantic adds to every schema node (property names stay)."""
    if isinstance(node, dict):
        return {
            k: (
                _without_titles(v)
                if k != "properties"
                else {n: _without_titles(p) for n, p in v.items()}
            )
            for k, v in node.items()
            if k != "title"
        }
    if isinstance(node, list):
        return [_without_titles(v) for v in node]
    return node


def chat_messages(system: str, user: str, images: list[str] | None = None) -> list[BaseMessage]:
    """Return a call's messages: the system prompt, then the user text and any images."""
    if images:
        content: list[str | dict[str, Any]] = [{"type": "text", "text": user}]
        content += [{"type": "image_url", "image_url": {"url": url}} for url in images]
        return [SystemMessage(system), HumanMessage(content=content)]
    return [SystemMessage(system), HumanMessage(user)]
