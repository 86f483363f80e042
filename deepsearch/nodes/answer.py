"""answer: write a cited answer; a sub-question's answer becomes knowledge."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from deepsearch.budget import Spend
from deepsearch.context import Context
from deepsearch.nodes.answer_check import WITHHELD, problem_in_run
from deepsearch.nodes.common import (
    NodeFn,
    diary_line,
    host_allowed,
    run_options,
    untrusted,
    worth_reading,
)
from deepsearch.nodes.compose import write_answer
from deepsearch.nodes.plan import evidence_strength
from deepsearch.nodes.reading import read_urls
from deepsearch.nodes.room import call_limit
from deepsearch.nodes.routing import next_step
from deepsearch.progress import emit
from deepsearch.prompts import answerer
from deepsearch.prompts.render import language_rule
from deepsearch.state import Knowledge, ResearchState
from deepsearch.tools.toolbox import Toolbox

# How many unread results an answer may read first when their snippets carry it.
SNIPPET_READS = 3


def snippet_sources(state: ResearchState, ctx: Context) -> list[str]:
    """Return the unread search results an answer may rest on, best first (at most 3).

    The planner sees the snippets of unread results and may decide to answer from
    one; the answerer can only cite pages read. So the unread results whose own title
    and snippet match the question best are read first, in the same step, and their
    passages can be cited. Links found on pages are not: they carry no snippet.
    """
    rested_on = [
        c
        for c in worth_reading(state)
        if not c.get("weak") and c.get("relevance", 0.0) > 0 and host_allowed(c["url"], ctx)
    ]
    rested_on.sort(key=lambda c: -c.get("relevance", 0.0))
    return [c["url"] for c in rested_on[:SNIPPET_READS]]


def make_answer(tools: Toolbox) -> NodeFn:
    """Build the ``answer`` node."""

    async def answer(
        state: ResearchState, runtime: Runtime[Context]
    ) -> Command[Literal["evaluate", "plan", "beast_mode"]]:
        """Answer the question in work from the gathered evidence."""
        ctx = run_options(runtime)
        question = state.get("question") or state["original_question"]
        is_original = question == state["original_question"]
        direct_ok = not ctx.no_direct_answer and state.get("step", 0) <= 1
        system = answerer.EVIDENCE_SYSTEM.format(untrusted=untrusted())
        task = {
            "language": language_rule(ctx.language_code),
            "direct_rule": answerer.DIRECT_RULE_ALLOWED
            if direct_ok
            else answerer.DIRECT_RULE_FORBIDDEN,
        }
        spend = Spend()
        update: dict[str, Any] = {"last_action": "answer", "answered_step": state.get("step", 0)}
        evidence = state
        # When one sentence read names everything the question does, the answer rests on
        # it: reading more results first would only lengthen the prompt. Short of that,
        # the snippets the decision may rest on are read (a sentence can name all but the
        # one thing asked).
        strong = evidence_strength(state, question) >= COMPLETE_EVIDENCE
        urls = [] if strong else snippet_sources(state, ctx)
        if urls:
            reading = await read_urls(tools, state, ctx, urls, question)
            spend.add_provider(reading.spend.total)
            update.update({k: v for k, v in reading.update().items() if k in _READ_KEYS})
            pages = {**state.get("pages", {}), **reading.pages}
            demands = [*state.get("injected_demands", []), *reading.notes.demands]
            evidence = {**state, "pages": pages, "injected_demands": demands}
            emit(state, "read-done", f"Read {len(reading.pages)} of {len(urls)} URLs first.")
        mode = "direct" if not evidence.get("pages") else "researched"
        written = await write_answer(
            tools,
            evidence,
            role="answerer",
            system=system,
            question=question,
            mode=mode,
            spend=spend,
            limit=call_limit(tools, state, spend.total),
            task=task,
        )
        if written is None:  # not affordable before the reserve: the final answer uses it
            emit(state, "answer", "No budget left for a checked answer: answering once, finally.")
            update.update(spend.update(), halt="budget left only for the final answer")
            return Command(goto="beast_mode", update=update)
        draft = written.answer
        shown = draft["text"][:500] or "(empty answer)"
        if tools.check_answers and problem_in_run(draft, evidence, question):
            shown = WITHHELD  # a draft that followed fetched instructions is not streamed
        emit(state, "answer", shown, question=question)
        update.update(spend.update())
        if urls:
            update["diary"] = [
                *reading.notes.diary,
                diary_line(state, f"read {list(reading.pages)} to cite them"),
            ]
        if is_original:
            update["draft"] = draft
            update["answer_evidence"] = written.evidence  # its judges' shared prefix
            update["diary"] = [
                *update.get("diary", []),
                diary_line(state, "answered the original question"),
            ]
            return Command(goto="evaluate", update=update)
        gaps = [q for q in state.get("gaps", []) if q != question]
        update["gaps"] = gaps
        if draft["text"]:
            item: Knowledge = {
                "question": question,
                "answer": draft["text"],
                "kind": "qa",
                "references": draft["references"],
                "date": None,
            }
            update["knowledge"] = [item]
        update["diary"] = [
            *update.get("diary", []),
            diary_line(state, f"answered sub-question {question!r}"),
        ]
        update["stalled_steps"] = 0 if draft["text"] else state.get("stalled_steps", 0) + 1
        return Command(
            goto=next_step({**state, **update, "tokens_used": _used(state, spend)}, ctx),
            update=update,
        )

    return answer


COMPLETE_EVIDENCE = 1.0  # the share of the question's words one sentence read must hold

_READ_KEYS = ("pages", "read_urls", "failed_urls", "candidates", "injected_demands", "unit_costs")


def _used(state: ResearchState, spend: Spend) -> int:
    return state.get("tokens_used", 0) + spend.total
