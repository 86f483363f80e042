"""A recording proxy between DeepSearch and an OpenAI-compatible model server (loopback).

Every chat completion passes through unchanged; the proxy keeps what the server saw
and said: the role (the prompt's ``# Role:`` line), the messages, the structured-output
method asked for, the reply text, the reported usage (``prompt_tokens_details.
cached_tokens`` is the prompt prefix the server served from its cache) and the time.
Other paths (``/props``, ``/v1/models``, ``/health``) are passed through as they are.
Recorded exchanges become test fixtures (``tests/fixtures/real_model``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.brain import role_of
from tests.support.llm_server import _text

TIMEOUT = httpx.Timeout(900.0, connect=10.0)


@dataclass
class Exchange:
    """One chat completion as the server saw and answered it."""

    role: str
    system: str
    user: str
    response_format: str  # none, json_object, json_schema
    max_tokens: int | None
    status: int
    reply: str
    finish_reason: str | None
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    seconds: float
    tag: str = ""  # what the benchmark was running (the question's id)
    error: str = ""

    @property
    def digest(self) -> str:
        """Return a short digest of the prompt (system and user text)."""
        return hashlib.sha256(f"{self.system}\n\n{self.user}".encode()).hexdigest()[:16]

    def fixture(self, base_url: str) -> dict[str, Any]:
        """Return the exchange as a fixture row, the web's base URL written ``{base}``."""
        row = asdict(self)
        row["digest"] = self.digest
        for key in ("system", "user", "reply"):
            row[key] = row[key].replace(base_url, "{base}") if base_url else row[key]
        return row


@dataclass
class RecordingProxy:
    """The proxy app; ``exchanges`` grows as calls complete, tagged with ``tag``."""

    upstream: str  # e.g. http://127.0.0.1:8080 (no /v1)
    tag: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    verbose: bool = False  # print a line per exchange as it completes

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.completions, methods=["POST"]),
                Route("/{path:path}", self.passthrough, methods=["GET"]),
            ]
        )

    async def passthrough(self, request: Request) -> Response:
        """Forward a GET as it is."""
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            url = f"{self.upstream}{request.url.path}"
            reply = await client.get(url, params=dict(request.query_params))
        kind = reply.headers.get("content-type", "application/json")
        return Response(reply.content, status_code=reply.status_code, media_type=kind)

    async def completions(self, request: Request) -> Response:
        """Forward a chat completion (non-streamed upstream) and record it."""
        body = await request.json()
        stream = bool(body.pop("stream", False))
        body.pop("stream_options", None)
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            reply = await client.post(f"{self.upstream}/v1/chat/completions", json=body)
        seconds = time.perf_counter() - started
        self._record(body, reply, seconds)
        if stream and reply.status_code == 200:
            return Response(_as_stream(reply.json()), media_type="text/event-stream")
        kind = reply.headers.get("content-type", "application/json")
        return Response(reply.content, status_code=reply.status_code, media_type=kind)

    def _record(self, body: dict[str, Any], reply: httpx.Response, seconds: float) -> None:
        messages = body.get("messages", [])
        system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
        user = "\n".join(_text(m.get("content")) for m in messages if m.get("role") != "system")
        role = role_of(system, user)
        fmt = (body.get("response_format") or {}).get("type", "none")
        data: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            data = reply.json()
        choice = (data.get("choices") or [{}])[0]
        usage = data.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        error = "" if reply.status_code == 200 else reply.text[:500]
        exchange = Exchange(
            role=role,
            system=system,
            user=user,
            response_format=fmt,
            max_tokens=body.get("max_tokens") or body.get("max_completion_tokens"),
            status=reply.status_code,
            reply=_text((choice.get("message") or {}).get("content")),
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            cached_tokens=int(details.get("cached_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            seconds=seconds,
            tag=self.tag,
            error=error,
        )
        with self._lock:
            self.exchanges.append(exchange)
        if self.verbose:
            print(
                f"    {exchange.role:<9} {exchange.response_format:<11} status {exchange.status} "
                f"prompt {exchange.prompt_tokens:>5} (cached {exchange.cached_tokens:>5}) "
                f"reply {exchange.completion_tokens:>4} {exchange.seconds:>5.0f} s "
                f"{exchange.reply[:120]!r}",
                flush=True,
            )

    def of(self, tag: str) -> list[Exchange]:
        """Return the exchanges recorded under ``tag``."""
        with self._lock:
            return [e for e in self.exchanges if e.tag == tag]


def _as_stream(data: dict[str, Any]) -> bytes:
    """Turn a whole completion into the SSE chunks a streaming client expects."""
    choice = (data.get("choices") or [{}])[0]
    head = {k: data.get(k) for k in ("id", "created", "model")}
    chunks = [
        {
            **head,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": choice.get("message", {}), "finish_reason": None}],
        },
        {
            **head,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason")}],
            "usage": data.get("usage"),
        },
    ]
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


def save_fixture(path: Path, exchanges: list[Exchange], base_url: str, **head: Any) -> None:
    """Write exchanges as JSONL: a header row (``head``), then one row per exchange."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"kind": "run", **head}] + [
        {"kind": "exchange", **e.fixture(base_url)} for e in exchanges
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
