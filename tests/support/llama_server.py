"""A loopback chat server that holds a context window the way llama.cpp's server does.

It speaks llama.cpp's wire format as measured on the real server (xllamacpp
2026.10.11549, Qwen2.5-Coder, ``n_ctx`` 512; see docs/local-models.md):

- the prompt is the messages in the model's chat template (ChatML: ``<|im_start|>``
  role, content, ``<|im_end|>``, then the assistant's opening), counted by a
  deterministic tokenizer of its own, not by DeepSearch's estimate;
- a prompt longer than ``n_ctx`` is refused with HTTP 400 and the body
  ``{"error": {"code": 400, "message": "request (N tokens) exceeds the available
  context size (C tokens), try increasing it", "type": "exceed_context_size_error",
  "n_prompt_tokens": N, "n_ctx": C}}``;
- a prompt that fits but leaves less room than the reply needs is answered, the reply
  cut where the context ends (``finish_reason: "length"``), as is one past ``max_tokens``;
- the prompt cache: the server keeps recent prompts with their replies (one slot,
  plus llama.cpp's host-memory prompt cache, ``--cache-ram``, on by default), and the
  tokens a new prompt shares from its start with the best of them are served from
  cache, reported as ``usage.prompt_tokens_details.cached_tokens`` (at least one
  prompt token is always evaluated). Measured on the real server: a planner prompt
  after an answerer prompt still reuses the previous planner prompt's prefix;
- ``GET /props`` reports ``default_generation_settings.n_ctx`` and ``GET /v1/models``
  the model with ``meta.n_ctx``.

Replies come from a :class:`~tests.support.brain.Brain`. ``overflows`` and ``cut``
count the refused and the context-truncated requests, for tests to assert on.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from deepsearch.settings import Settings
from tests.support.llm_server import LLMServer, _text

# Special tokens, digits one by one (as Qwen's tokenizer splits numbers), words in
# pieces of at most five letters (with the space before them), any other character
# alone, and runs of spaces.
_PIECE = re.compile(
    r"<\|im_start\|>|<\|im_end\|>|\d| ?[A-Za-z]{1,5}|[ \t]+(?=[^ \t])|[ \t]+|\s|.",
    re.DOTALL,
)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into this server's tokens (deterministic; about 3.5 characters each)."""
    return _PIECE.findall(text)


def chat_prompt(messages: list[dict[str, Any]]) -> str:
    """Render messages in the ChatML template Qwen's GGUF carries (what the server counts)."""
    turns = [
        f"<|im_start|>{m.get('role', 'user')}\n{_text(m.get('content'))}<|im_end|>\n"
        for m in messages
    ]
    return "".join(turns) + "<|im_start|>assistant\n"


@dataclass
class LlamaCppServer(LLMServer):
    """The brain behind a llama.cpp-like server with a context of ``n_ctx`` tokens."""

    n_ctx: int = 4_096
    alias: str = "qwen-local"
    overflows: int = 0
    cut: int = 0
    no_room: int = 0  # answered requests whose max_tokens did not fit after the prompt
    prompt_sizes: list[int] = field(default_factory=list)
    cached_sizes: list[int] = field(default_factory=list)
    cache_entries: int = 16  # recent prompts (with replies) the prompt cache keeps
    _saved: list[list[str]] = field(default_factory=list)
    _slot_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.app.router.routes[:] = [
            Route("/v1/chat/completions", self.completions, methods=["POST"]),
            Route("/v1/models", self.models),
            Route("/props", self.props),
            Route("/health", self.health),
        ]

    async def health(self, request: Request) -> Response:
        """Say the model is loaded."""
        return JSONResponse({"status": "ok"})

    async def props(self, request: Request) -> Response:
        """Report the slot's context size as llama.cpp's ``/props`` does."""
        return JSONResponse(
            {
                "default_generation_settings": {"n_ctx": self.n_ctx, "params": {}},
                "total_slots": 1,
                "model_alias": self.alias,
                "model_path": f"/models/{self.alias}.gguf",
                "build_info": "loopback-test",
            }
        )

    async def models(self, request: Request) -> Response:
        """List the model with its context as llama.cpp's ``/v1/models`` does."""
        meta = {"n_ctx": self.n_ctx, "n_ctx_train": 32_768}
        data = [{"id": self.alias, "object": "model", "owned_by": "llamacpp", "meta": meta}]
        return JSONResponse({"object": "list", "data": data})

    async def completions(self, request: Request) -> Response:
        """Answer like llama.cpp: refuse an overflowing prompt, cut a reply at the context."""
        body = await request.json()
        self.requests.append(body)
        messages = body.get("messages", [])
        prompt = tokenize(chat_prompt(messages))
        if len(prompt) > self.n_ctx:
            self.overflows += 1
            message = (
                f"request ({len(prompt)} tokens) exceeds the available context size "
                f"({self.n_ctx} tokens), try increasing it"
            )
            error = {
                "code": 400,
                "message": message,
                "type": "exceed_context_size_error",
                "n_prompt_tokens": len(prompt),
                "n_ctx": self.n_ctx,
            }
            return JSONResponse({"error": error}, status_code=400)
        system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
        user = "\n".join(_text(m.get("content")) for m in messages if m.get("role") != "system")
        reply_tokens = tokenize(self.brain.reply(system, user))
        limit = body.get("max_tokens") or body.get("max_completion_tokens") or self.n_ctx
        if len(prompt) + int(limit) > self.n_ctx:
            self.no_room += 1
        room = min(int(limit), self.n_ctx - len(prompt))
        finish = "stop"
        if len(reply_tokens) > room:
            finish = "length"
            if room < int(limit):
                self.cut += 1  # the context, not the caller's cap, ended the reply
            reply_tokens = reply_tokens[:room]
        with self._slot_lock:
            cached = max((_shared_prefix(saved, prompt) for saved in self._saved), default=0)
            self._saved = [*self._saved, prompt + reply_tokens][-self.cache_entries :]
        cached = min(cached, len(prompt) - 1)
        self.prompt_sizes.append(len(prompt))
        self.cached_sizes.append(cached)
        reply = "".join(reply_tokens)
        usage = {
            "prompt_tokens": len(prompt),
            "completion_tokens": len(reply_tokens),
            "total_tokens": len(prompt) + len(reply_tokens),
            "prompt_tokens_details": {"cached_tokens": cached},
        }
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        created = int(time.time())
        if body.get("stream"):
            return StreamingResponse(
                self._stream(cid, created, self.alias, reply, usage, body),
                media_type="text/event-stream",
            )
        choice = {"index": 0, "message": {"role": "assistant", "content": reply}}
        return JSONResponse(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": self.alias,
                "choices": [{**choice, "finish_reason": finish}],
                "usage": usage,
            }
        )

    @property
    def cached_share(self) -> float:
        """Return the share of all prompt tokens served from the slot's cache."""
        total = sum(self.prompt_sizes)
        return sum(self.cached_sizes) / total if total else 0.0


def _shared_prefix(left: list[str], right: list[str]) -> int:
    """Return how many tokens two sequences share from their start."""
    n = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        n += 1
    return n


def local_model_settings(base: str, cache: str, model: str = "qwen-local") -> Settings:
    """Return settings that point DeepSearch at a local server at ``base``, as a user would.

    No context window is configured (DeepSearch asks the server); relevance is local
    and the cache is the file ``cache``.
    """
    return Settings(
        OPENAI_BASE_URL=base + "/v1",
        OPENAI_API_KEY=SecretStr("local"),
        DEEPSEARCH_MODEL=model,
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_CACHE=cache,
        _env_file=None,  # type: ignore[call-arg]
    )
