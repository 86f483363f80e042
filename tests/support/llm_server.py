"""An OpenAI-compatible Chat Completions server on loopback, driven by a :class:`Brain`.

Speaks the real wire format (``POST /v1/chat/completions``, stream and non-stream,
``usage``; ``GET /v1/models``) so the real ``ChatOpenAI`` talks to it. ``delay``
simulates model latency; ``faults`` injects failures (for reliability tests).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.brain import Brain


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


@dataclass
class LLMServer:
    """The app and its knobs.

    Attributes:
        brain: produces every reply.
        delay: seconds to wait before answering (simulated model latency).
        fault: optional hook called with the request body; it may return a Response
            (an injected failure) or None to answer normally.
        hold_after: when set, every request after this many waits unanswered until it is
            cleared again (a model that stops answering mid-run); ``held`` counts them.
    """

    brain: Brain
    delay: float = 0.0
    fault: Callable[[dict[str, Any]], Response | None] | None = None
    hold_after: int | None = None
    held: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.completions, methods=["POST"]),
                Route("/v1/models", self.models),
            ]
        )

    async def models(self, request: Request) -> Response:
        """List the one model."""
        return JSONResponse({"object": "list", "data": [{"id": "brain", "object": "model"}]})

    async def completions(self, request: Request) -> Response:
        """Answer a chat completion request with the brain's reply."""
        body = await request.json()
        self.requests.append(body)
        if self.fault is not None:
            injected = self.fault(body)
            if injected is not None:
                return injected
        if self.hold_after is not None and len(self.requests) > self.hold_after:
            self.held += 1
            while self.hold_after is not None:
                await asyncio.sleep(0.05)
        if self.delay:
            await asyncio.sleep(self.delay)
        messages = body.get("messages", [])
        system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
        user = "\n".join(_text(m.get("content")) for m in messages if m.get("role") != "system")
        reply = self.brain.reply(system, user)
        p, c = max(1, (len(system) + len(user)) // 4), max(1, len(reply) // 4)
        usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        model = body.get("model", "brain")
        if body.get("stream"):
            return StreamingResponse(
                self._stream(cid, created, model, reply, usage, body),
                media_type="text/event-stream",
            )
        return JSONResponse(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
        )

    async def _stream(
        self,
        cid: str,
        created: int,
        model: str,
        reply: str,
        usage: dict[str, Any],
        body: dict[str, Any],
    ) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(data)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        for i in range(0, len(reply), 40):
            yield chunk({"content": reply[i : i + 40]})
        yield chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            data = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            yield f"data: {json.dumps(data)}\n\n".encode()
        yield b"data: [DONE]\n\n"
