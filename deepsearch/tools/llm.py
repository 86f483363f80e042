"""LLM calls that survive weak models.

Every call is tagged with its role (planner, evaluator, ...) so traces read like the
loop, counts its tokens, and structured output goes through a fallback chain:
the provider's native structured output where it is known to work, then JSON in
the prompt with ``<think>`` stripping and JSON repair, then one retry carrying the
validation error, then the caller's safe fallback value. A call never raises for
bad model output; it raises :class:`LLMUnavailable` only when the endpoint itself
cannot be reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel

from deepsearch.settings import Settings, StructuredMethod
from deepsearch.tools import formats
from deepsearch.tools.chat_models import (
    make_chat_model,
    native_structured,
    openai_endpoint,
    real_tokenizer,
    with_completion_cap,
    with_format,
)
from deepsearch.tools.context_window import discover_context_window, overflow_of
from deepsearch.tools.llm_messages import (
    chat_messages,
    garbled,
    message_text,
    note_unusable,
    reported_cached,
    reported_usage,
    schema_prompt,
)
from deepsearch.tools.replies import extract_json, parse_reply, strip_think
from deepsearch.tools.tokens import TokenCounter, configured_context_window

log = logging.getLogger(__name__)

# What each role's reply needs at most (tokens). A plan is a few hundred tokens; a
# cap keeps a weak model's babble after its JSON from costing minutes, and lets the
# budget know a call's worst case before it is made.
ROLE_COMPLETION_CAPS: dict[str, int] = {
    "planner": 512,
    "reflector": 384,
    "evaluator": 768,
    "reviewer": 512,
    "answerer": 1536,
    "beast": 1536,
    "merger": 2048,
    "team-planner": 1024,
    "formatter": 2048,
    "grader": 256,
}
DEFAULT_COMPLETION_CAP = 1024
MIN_COMPLETION_CAP = 64
# Tokens a chat message costs beyond its text (role markers, template), per message.
MESSAGE_OVERHEAD_TOKENS = 8

T = TypeVar("T", bound=BaseModel)


class LLMUnavailable(RuntimeError):
    """The LLM endpoint could not be reached or refused every call."""


@dataclass
class LLMResult(Generic[T]):
    """A parsed model reply with its token cost; ``ok`` is False when the fallback was used."""

    value: T
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ok: bool = True
    error: str | None = None
    cached_tokens: int = 0  # prompt tokens the server served from its prompt cache

    @property
    def total_tokens(self) -> int:
        """Return prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class LLM:
    """Role-aware access to chat models with robust structured output."""

    def __init__(
        self,
        models: BaseChatModel | Mapping[str, BaseChatModel],
        *,
        method: StructuredMethod = "auto",
        retries: int = 1,
        max_tokens: int | None = None,
        context_window: int | None = None,
        discover_context: bool = False,
    ) -> None:
        if isinstance(models, BaseChatModel):
            self._models: dict[str, BaseChatModel] = {"default": models}
        else:
            self._models = dict(models)
        self.method = method
        self.retries = retries
        self.max_tokens = max_tokens
        self.context_window = context_window  # tokens of prompt and reply per call (None: unknown)
        # Ask self-hosted servers for their window (see learn_context_window).
        self.discover_context = discover_context
        self._counters: dict[int, TokenCounter] = {}

    def model_for(self, role: str) -> BaseChatModel:
        """Return the chat model that plays ``role`` (falling back to the default one)."""
        return self._models.get(role) or self._models["default"]

    def counter(self, role: str) -> TokenCounter:
        """Return the token counter of the model that plays ``role`` (one per model)."""
        model = self.model_for(role)
        counter = self._counters.get(id(model))
        if counter is None:
            counter = self._counters[id(model)] = TokenCounter(encode_len=real_tokenizer(model))
        return counter

    async def learn_context_window(self) -> int | None:
        """Ask the models' self-hosted servers for their context window; return the window.

        Done before a run's first prompt is fitted. Only when ``discover_context`` is
        set (no window was configured); the smallest window any role's server reports
        wins, and the window stays as it is when none answers. Answers are cached per
        endpoint (:func:`~deepsearch.tools.context_window.discover_context_window`).
        """
        if not self.discover_context:
            return self.context_window
        found: list[int] = []
        for model in {id(m): m for m in self._models.values()}.values():
            endpoint = openai_endpoint(model)
            if endpoint is not None:
                window = await discover_context_window(*endpoint)
                found += [window] if window else []
        if found:
            self.context_window = min(found)
        return self.context_window

    def learn_from_overflow(self, role: str, exc: BaseException, prompt_chars: int) -> bool:
        """Learn from a call the server refused as longer than its context; tell if it was one.

        The window the server names replaces a larger one, and the prompt's real size
        calibrates the estimate, so the next prompt is fitted to what the server holds.
        """
        overflow = overflow_of(exc)
        if overflow is None:
            return False
        window, prompt_tokens = overflow
        if window and (self.context_window is None or window < self.context_window):
            self.context_window = window
        if prompt_tokens:
            self.counter(role).observe(prompt_chars, prompt_tokens)
        log.warning("%s prompt overflowed the model's context (%s tokens): %s", role, window, exc)
        return True

    def completion_cap(self, role: str) -> int:
        """Return the most tokens a reply in ``role`` may take (its need, within the global cap)."""
        cap = ROLE_COMPLETION_CAPS.get(role, DEFAULT_COMPLETION_CAP)
        return min(cap, self.max_tokens) if self.max_tokens else cap

    def estimate(
        self, role: str, system: str, user: str, schema: type[BaseModel] | None = None
    ) -> int:
        """Estimate the prompt tokens of a call before making it (structured calls add a schema)."""
        counter = self.counter(role)
        extra = schema_prompt(schema) if schema is not None else ""
        return counter.count(system + extra + user) + 2 * MESSAGE_OVERHEAD_TOKENS

    def _capped(self, model: BaseChatModel, role: str, max_tokens: int | None) -> BaseChatModel:
        """Return ``model`` with its completion capped for ``role`` (OpenAI-compatible models)."""
        cap = self.completion_cap(role)
        if max_tokens is not None:
            cap = max(MIN_COMPLETION_CAP, min(cap, max_tokens))
        return with_completion_cap(model, cap)

    def _count(self, role: str, reply: Any, prompt_chars: int) -> tuple[int, int]:
        """Return a reply's (prompt, completion) tokens and calibrate the estimate on them."""
        counter = self.counter(role)
        reported = reported_usage(reply)
        if reported is not None:
            counter.observe(prompt_chars, reported[0])
            return reported
        out = len(message_text(reply)) if isinstance(reply, BaseMessage) else 0
        return max(1, counter.count_chars(prompt_chars)), max(1, counter.count_chars(out))

    def _method_for(self, model: BaseChatModel) -> StructuredMethod:
        if self.method != "auto":
            return self.method
        return formats.auto_method(model)

    @staticmethod
    def _config(role: str, metadata: Mapping[str, Any] | None) -> dict[str, Any]:
        return {
            "run_name": role,
            "tags": [f"role:{role}", "deepsearch", "nostream"],
            "metadata": {"role": role, **(metadata or {})},
        }

    async def text(
        self,
        role: str,
        system: str,
        user: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        images: list[str] | None = None,
        max_tokens: int | None = None,
    ) -> LLMResult[Any]:
        """Ask for free text; returns the reply with ``<think>`` removed.

        ``max_tokens`` lowers the role's completion cap for this call (budget room).
        """
        model = self._capped(self.model_for(role), role, max_tokens)
        messages = chat_messages(system, user, images)
        for retries_left in range(self.retries, -1, -1):
            try:
                reply = await model.ainvoke(messages, config=self._config(role, metadata))  # type: ignore[arg-type]
                break
            except Exception as exc:
                self.learn_from_overflow(role, exc, len(system) + len(user))
                if not (garbled(exc) and retries_left):
                    raise LLMUnavailable(f"{role} call failed: {exc}") from exc
        p, c = self._count(role, reply, len(system) + len(user))
        return LLMResult(
            value=strip_think(message_text(reply)),
            prompt_tokens=p,
            completion_tokens=c,
            cached_tokens=reported_cached(reply),
        )

    async def structured(
        self,
        role: str,
        schema: type[T],
        system: str,
        user: str,
        *,
        fallback: Callable[[], T],
        metadata: Mapping[str, Any] | None = None,
        images: list[str] | None = None,
        max_tokens: int | None = None,
        limit: int | None = None,
    ) -> LLMResult[T]:
        """Ask for an object of ``schema``; never raises for bad output, uses ``fallback``.

        ``max_tokens`` lowers the role's completion cap for this call (budget room);
        ``limit`` bounds what the call may spend in all: a retry that would pass it is
        not made (the fallback is used instead).
        """
        model = self._capped(self.model_for(role), role, max_tokens)
        config = self._config(role, metadata)
        method = self._method_for(model)
        prompt_tokens = completion_tokens = cached = 0
        errors: list[str] = []
        unreachable = 0
        attempts = 0
        if native_structured(model, method):
            attempts += 1
            try:
                runnable = model.with_structured_output(schema, method=method, include_raw=True)
                out = await runnable.ainvoke(chat_messages(system, user, images), config=config)  # type: ignore[arg-type]
                raw = out.get("raw") if isinstance(out, dict) else None
                p, c = self._count(role, raw, len(system) + len(user))
                prompt_tokens += p
                completion_tokens += c
                cached += reported_cached(raw)
                parsed = out.get("parsed") if isinstance(out, dict) else out
                if isinstance(parsed, schema):
                    return LLMResult(parsed, prompt_tokens, completion_tokens, cached_tokens=cached)
                errors.append(str(out.get("parsing_error") if isinstance(out, dict) else out))
                note_unusable(role, errors[-1], message_text(raw) if raw is not None else "")
            except Exception as exc:  # a server that rejects the method: fall back to JSON
                errors.append(f"{method}: {exc}")
                if self.learn_from_overflow(role, exc, len(system) + len(user)):
                    return LLMResult(fallback(), 0, 0, ok=False, error=errors[-1][-1000:])
                log.info("structured output via %s failed for %s: %s", method, role, exc)
            method = "prompt"
        # The schema goes last: the system prompt and the evidence before it stay a
        # stable prefix that servers cache (the planner's schema changes with its step).
        sys_prompt = system
        user = user + schema_prompt(schema)
        user_prompt = user
        replies = 0
        garbled_retries = self.retries
        stepped_down = False
        cap = self.completion_cap(role) if max_tokens is None else max_tokens
        while replies < 1 + self.retries:
            if attempts and limit is not None:
                next_cost = self.estimate(role, sys_prompt, user_prompt) + cap
                if prompt_tokens + completion_tokens + next_cost > limit:
                    errors.append("no budget left for another try")
                    break
            attempts += 1
            try:
                reply = await with_format(model, method, schema).ainvoke(
                    chat_messages(sys_prompt, user_prompt, images), config=config
                )
            except Exception as exc:
                errors.append(f"call failed: {exc}")
                if self.learn_from_overflow(role, exc, len(sys_prompt) + len(user_prompt)):
                    break  # a prompt too long for the server: the next one is fitted anew
                unreachable += 1
                if garbled(exc) and garbled_retries:
                    garbled_retries -= 1
                    continue
                if method in formats.DOWNGRADES and (formats.refused(exc) or garbled(exc)):
                    # The server may not support this response format: try the next one
                    # (remembered for the endpoint once the next one works, if it refused).
                    method, stepped_down = formats.DOWNGRADES[method], formats.refused(exc)
                    continue
                break
            if stepped_down and self.method == "auto":
                formats.remember(model, method)  # this endpoint works with it: ask so from now on
                stepped_down = False
            replies += 1
            p, c = self._count(role, reply, len(sys_prompt) + len(user_prompt))
            prompt_tokens += p
            completion_tokens += c
            cached += reported_cached(reply)
            text = message_text(reply)
            try:
                value = parse_reply(text, schema)
                return LLMResult(value, prompt_tokens, completion_tokens, cached_tokens=cached)
            except ValueError as exc:
                err = str(exc)[:800]
                errors.append(err)
                note_unusable(role, err, text)
                user_prompt = (
                    f"{user}\n\nYour previous reply could not be used: {err}\n"
                    "Reply again with only the JSON object, valid against the schema."
                )
        if unreachable and unreachable == attempts:
            raise LLMUnavailable(f"{role} call failed: {errors[-1] if errors else 'unknown'}")
        return LLMResult(
            fallback(),
            prompt_tokens,
            completion_tokens,
            ok=False,
            error="; ".join(errors)[-1000:],
            cached_tokens=cached,
        )


def make_llm(settings: Settings) -> LLM:
    """Build the role-aware :class:`LLM` from settings."""
    models: dict[str, BaseChatModel] = {"default": make_chat_model(settings)}
    for role in ("planner", "evaluator", "answerer"):
        if getattr(settings, f"{role}_model", None):
            models[role] = make_chat_model(settings, role)
    return LLM(
        models,
        method=settings.structured_output,
        max_tokens=settings.llm_max_tokens,
        context_window=configured_context_window(settings),
        discover_context=settings.llm_context is None,
    )


__all__ = [
    "LLM",
    "AIMessage",
    "LLMResult",
    "LLMUnavailable",
    "extract_json",
    "make_chat_model",
    "message_text",
    "strip_think",
]
