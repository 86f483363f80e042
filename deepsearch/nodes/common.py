"""Small helpers the nodes share: the run's options, the question in work, today's date."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime

from deepsearch.context import Context
from deepsearch.prompts.render import UNTRUSTED_NOTE
from deepsearch.state import Candidate
from deepsearch.tools.ranking import host_matches
from deepsearch.tools.urls import hostname

# A node function as LangGraph calls it: (state, runtime) -> update or Command.
NodeFn = Callable[..., Awaitable[Any]]


def run_options(runtime: Runtime[Context] | None) -> Context:
    """Return the run's :class:`Context`, accepting a plain dict or nothing at all."""
    ctx: Any = runtime.context if runtime is not None else None
    if ctx is None:
        return Context()
    if isinstance(ctx, Context):
        return ctx
    if isinstance(ctx, Mapping):
        names = {f.name for f in dataclasses.fields(Context)}
        return Context(**{k: v for k, v in ctx.items() if k in names and v is not None})
    return Context()


def today() -> str:
    """Return today's date (UTC) for prompts."""
    return datetime.now(UTC).strftime("%Y-%m-%d")


def ranked_unread(state: Mapping[str, Any]) -> list[Candidate]:
    """Return unread, unfailed candidates, best score first."""
    done = set(state.get("read_urls", [])) | set(state.get("failed_urls", []))
    cands = [
        c
        for url, c in state.get("candidates", {}).items()
        if url not in done and c.get("score", 0.0) >= 0
    ]
    return sorted(cands, key=lambda c: (-c.get("score", 0.0), -c.get("hits", 0)))


def worth_reading(state: Mapping[str, Any]) -> list[Candidate]:
    """Return the unread candidates still worth a read, best first.

    Every search result is (the engine matched its full text, whatever its snippet
    says); a link found on a page only when its own anchor text or URL matches the
    question (navigation links do not).
    """
    return [c for c in ranked_unread(state) if not c.get("weak") or c.get("relevance", 0.0) > 0]


def untrusted() -> str:
    """Return the note that declares source text as data."""
    return "\n" + UNTRUSTED_NOTE


def diary_line(state: Mapping[str, Any], text: str) -> str:
    """Prefix a diary entry with its step (and worker, in a team)."""
    who = f"[{state['worker']}] " if state.get("worker") else ""
    return f"{who}Step {state.get('step', 0)}: {text}"


def host_allowed(url: str, ctx: Context) -> bool:
    """Apply ``bad_hostnames`` and ``only_hostnames`` to a URL about to be read."""
    try:
        host = hostname(url)
    except ValueError:
        return False
    if url.startswith("corpus://"):
        return True
    if host_matches(host, ctx.bad_hostnames):
        return False
    return not ctx.only_hostnames or host_matches(host, ctx.only_hostnames)
