"""prepare: turn the conversation into a question, set the budget and seed the run."""

from __future__ import annotations

import re
import time
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime

from deepsearch.context import Context
from deepsearch.nodes.common import run_options
from deepsearch.progress import emit
from deepsearch.state import Candidate, Knowledge, ResearchState
from deepsearch.tools.llm import message_text

_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def _turns(messages: list[AnyMessage]) -> list[Knowledge]:
    """Earlier user/assistant turns become chat knowledge."""
    out: list[Knowledge] = []
    pending: str | None = None
    for msg in messages:
        if isinstance(msg, HumanMessage):
            pending = message_text(msg)
        elif isinstance(msg, AIMessage) and pending is not None:
            out.append(
                {
                    "question": pending[:2000],
                    "answer": message_text(msg)[:4000],
                    "kind": "chat",
                    "references": [],
                    "date": None,
                }
            )
            pending = None
    return out


async def prepare(state: ResearchState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Start a run: find the question, pasted URLs and history; set budget and attempts."""
    ctx = run_options(runtime)
    messages = list(state.get("messages", []))
    question = (state.get("question") or "").strip()
    if not question:
        humans = [m for m in messages if isinstance(m, HumanMessage)]
        if humans:
            question = message_text(humans[-1]).strip()
            messages = messages[: messages.index(humans[-1])]
    if not question:
        raise ValueError("a DeepSearch run needs a question: give `question` or a user message")
    pasted = list(dict.fromkeys(u.rstrip(".,;:") for u in _URL.findall(question)))[:5]
    candidates: dict[str, Candidate] = {
        url: {
            "url": url,
            "title": "",
            "snippet": "pasted by the user",
            "date": None,
            "hits": 1,
            "score": 1.0,
            "weak": False,
        }
        for url in pasted
    }
    budget = state.get("budget_tokens") or ctx.resolved_budget()
    update: dict[str, Any] = {
        "original_question": question,
        "question": question,
        "budget_tokens": budget,
        "max_attempts": state.get("max_attempts") or ctx.resolved_attempts(),
        "deadline": state.get("deadline")
        or (time.time() + ctx.max_seconds if ctx.max_seconds else None),
        "step": 0,
        "stalled_steps": 0,
        "failures": {},
        "checks": [],
        "gaps": [],
        "all_questions": [question],
        "last_action": None,
        "action": None,
        "action_args": {},
        "evaluations": [],
        "candidates": candidates,
        "must_read": pasted,
        "visited_urls": pasted,
        "draft": None,
    }
    history = _turns(messages)
    if history:
        update["knowledge"] = history
    emit({**state, **update}, "start", f"Question: {question}", budget_tokens=budget)
    return update
