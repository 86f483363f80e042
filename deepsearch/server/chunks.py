"""OpenAI-shaped output: ``chat.completion`` bodies, ``chat.completion.chunk`` events and
the readable ``<think>`` lines rendered from a run's progress events.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from deepsearch.api import DeepSearchResult
from deepsearch.budget import cached_tokens_of

_LABELS = {
    "query": "Searching: {text}",
    "read": "Reading {text}",
    "read-failed": "Could not read {text}",
    "answer": "Draft answer: {text}",
    "beast": "{text}",
}
MAX_LINE_CHARS = 400


def think_line(event: dict[str, Any]) -> str | None:
    """Render one progress event as a short line of the think block (None to skip it)."""
    text = " ".join(str(event.get("text") or "").split())
    if not text:
        return None
    kind = str(event.get("kind") or "")
    if kind == "plan" and event.get("action"):
        line = f"Step {event.get('step', 0)}: {event['action']}. {text}"
    else:
        line = _LABELS.get(kind, "{text}").format(text=text)
    if len(line) > MAX_LINE_CHARS:
        line = line[: MAX_LINE_CHARS - 1] + "…"
    worker = event.get("worker")
    return f"[{worker}] {line}\n" if worker else f"{line}\n"


def progress_of(event: dict[str, Any]) -> dict[str, Any]:
    """Return the budget figures of a progress event (for live token meters)."""
    return {
        "step": event.get("step", 0),
        "worker": event.get("worker"),
        "kind": event.get("kind"),
        "tokens_used": event.get("tokens_used", 0),
        "budget_tokens": event.get("budget_tokens", 0),
    }


def citation_annotations(result: DeepSearchResult) -> list[dict[str, Any]]:
    """Return the references as OpenAI ``url_citation`` annotations (with marker offsets)."""
    out = []
    for n, ref in enumerate(result.references, start=1):
        marker = re.search(rf"\[\^{n}\]", result.answer)
        out.append(
            {
                "type": "url_citation",
                "url_citation": {
                    "title": ref.get("title") or "",
                    "exactQuote": ref.get("exactQuote") or "",
                    "url": ref.get("url") or "",
                    "dateTime": ref.get("dateTime") or "",
                    "start_index": marker.start() if marker else 0,
                    "end_index": marker.end() if marker else 0,
                },
            }
        )
    return out


def url_fields(result: DeepSearchResult) -> dict[str, Any]:
    """Return the top-level URL fields of the reference API."""
    return {
        "visitedURLs": result.visited_urls,
        "readURLs": result.read_urls,
        "numURLs": len(result.visited_urls),
    }


def usage(result: DeepSearchResult) -> dict[str, Any]:
    """Return the run's token usage in OpenAI's shape (cached prompt tokens included)."""
    u = result.usage
    return {
        "prompt_tokens": int(u.get("prompt_tokens", 0)),
        "completion_tokens": int(u.get("completion_tokens", 0)),
        "total_tokens": int(u.get("total_tokens", 0)),
        "prompt_tokens_details": {"cached_tokens": cached_tokens_of(u)},
    }


@dataclass
class Completion:
    """One completion's identity and the builders of its bodies and chunks."""

    model: str
    json_answer: bool = False
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def answer_type(self) -> str:
        """Return the chunk ``type`` of the answer: ``json`` for a schema answer, else ``text``."""
        return "json" if self.json_answer else "text"

    def chunk(
        self,
        delta: dict[str, Any],
        finish_reason: str | None = None,
        **top_level: Any,
    ) -> str:
        """Return one ``chat.completion.chunk`` as SSE data."""
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
            **top_level,
        }
        return json.dumps(body)

    def content(
        self,
        text: str,
        kind: str,
        *,
        first: bool = False,
        progress: dict[str, Any] | None = None,
    ) -> str:
        """Return a chunk carrying ``text`` of the given ``type`` (and the run's progress)."""
        delta: dict[str, Any] = {"content": text, "type": kind}
        if progress:
            delta["progress"] = progress
        if first:
            delta = {"role": "assistant", **delta}
        return self.chunk(delta)

    def final(self, result: DeepSearchResult, *, with_usage: bool) -> str:
        """Return the last chunk: ``finish_reason`` stop, annotations and the URL fields."""
        extra: dict[str, Any] = url_fields(result)
        if with_usage:
            extra["usage"] = usage(result)
        delta = {
            "content": "",
            "type": self.answer_type,
            "annotations": citation_annotations(result),
        }
        return self.chunk(delta, "stop", **extra)

    def usage_chunk(self, result: DeepSearchResult) -> str:
        """Return OpenAI's trailing usage chunk (``stream_options.include_usage``)."""
        body = json.loads(self.chunk({}))
        body["choices"] = []
        body["usage"] = usage(result)
        return json.dumps(body)

    def error(self, message: str, code: str | None, status: int) -> str:
        """Return the error chunk sent when a run fails after streaming started."""
        err = {"message": message, "type": "server_error", "code": code, "status": status}
        return self.chunk({"content": message, "type": "error"}, "error", error=err)

    def body(self, result: DeepSearchResult) -> dict[str, Any]:
        """Return the non-streaming ``chat.completion``."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": result.answer,
                        "type": self.answer_type,
                        "refusal": None,
                        "annotations": citation_annotations(result),
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": usage(result),
            **url_fields(result),
        }
