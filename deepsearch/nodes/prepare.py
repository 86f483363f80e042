"""prepare: turn the conversation into a question, set the budget and seed the run."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import Command, Overwrite

from deepsearch.context import Context
from deepsearch.nodes.common import NodeFn, run_options
from deepsearch.nodes.room import learn_context_window
from deepsearch.nodes.routing import next_step
from deepsearch.nodes.screened import ScreeningNotes, screen_knowledge
from deepsearch.progress import emit
from deepsearch.state import Candidate, Knowledge, ResearchState
from deepsearch.tools.llm import message_text
from deepsearch.tools.toolbox import Toolbox

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


Route = Callable[[Mapping[str, Any], Context], str]


def make_prepare(
    route: Route = next_step, *, screen: bool = True, tools: Toolbox | None = None
) -> NodeFn:
    """Build the ``prepare`` node; ``route`` picks the first step from the prepared state.

    With ``screen``, knowledge given as input (attached files) is screened for orders to
    the assistant like fetched pages (off only in ablation benchmarks). With ``tools``,
    the model's context window is learnt before any prompt is fitted.

    The node routes itself (``Command(goto=...)``): a conditional edge after it
    would make LangGraph copy every channel of the state to read it fresh.
    """

    async def prepare(state: ResearchState, runtime: Runtime[Context]) -> Command[str]:
        """Start a run, then go to the first step (or beast mode when nothing is left)."""
        ctx = run_options(runtime)
        update = prepare_update(state, ctx, screen=screen)
        if tools is not None:
            await learn_context_window(tools)
        return Command(goto=route({**state, **update}, ctx), update=update)

    return prepare


def prepare_update(state: ResearchState, ctx: Context, *, screen: bool = True) -> dict[str, Any]:
    """Find the question, pasted URLs and history; set budget and attempts."""
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
        "halt": None,
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
    # Knowledge given as input (attached files) is fetched content: screen it like a page.
    notes = ScreeningNotes({**state, **update})
    screened = screen_knowledge(state.get("knowledge", []), notes) if screen else None
    if screened is not None:
        update["knowledge"] = Overwrite([*screened, *history])
        update["diary"] = notes.diary
        update.update(notes.update())
    return update
