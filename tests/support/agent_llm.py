"""An OpenAI-compatible server that also plays a tool-calling agent model.

Requests that carry ``tools`` come from an agent (a ReAct loop around DeepSearch):
the first turn calls the first tool with the user's question, and once a tool result
is in the conversation the model answers with it. Every other request (DeepSearch's
own roles) goes to the :class:`Brain`, exactly as in :class:`LLMServer`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from tests.support.llm_server import LLMServer, _text

AGENT_PREFIX = "Agent says: "


def agent_turn(body: dict[str, Any]) -> dict[str, Any]:
    """Return the assistant message an agent model would send for this request."""
    messages = body.get("messages", [])
    tool_results = [m for m in messages if m.get("role") == "tool"]
    if tool_results:
        return {"role": "assistant", "content": AGENT_PREFIX + _text(tool_results[-1]["content"])}
    question = next(
        (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    tool = body["tools"][0]["function"]["name"]
    call = {
        "id": f"call_{uuid.uuid4().hex[:8]}",
        "type": "function",
        "function": {"name": tool, "arguments": json.dumps({"question": question})},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}


class AgentLLMServer(LLMServer):
    """:class:`LLMServer` plus a scripted agent turn for tool-calling requests."""

    agent_requests: int = 0

    async def completions(self, request: Request) -> Response:
        """Answer agent (tool-calling) requests here; DeepSearch's own calls go to the brain."""
        body = await request.json()
        if not body.get("tools"):
            return await super().completions(request)
        self.agent_requests += 1
        message = agent_turn(body)
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        usage = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "created": int(time.time())}
        model = body.get("model", "brain")
        if body.get("stream"):
            return StreamingResponse(
                self._agent_stream(base, model, message, finish),
                media_type="text/event-stream",
            )
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return JSONResponse(
            {
                **base,
                "object": "chat.completion",
                "model": model,
                "choices": [choice],
                "usage": usage,
            }
        )

    @staticmethod
    async def _agent_stream(
        base: dict[str, Any], model: str, message: dict[str, Any], finish: str
    ) -> AsyncIterator[bytes]:
        delta: dict[str, Any] = {"role": "assistant", "content": message.get("content") or ""}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": 0, **c} for c in message["tool_calls"]]
        for d, f in ((delta, None), ({}, finish)):
            chunk = {
                **base,
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [{"index": 0, "delta": d, "finish_reason": f}],
            }
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"
