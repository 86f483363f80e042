"""Loop decisions for a weak model, and the prompt prefix every research call shares.

Seen with a real 1.5B model on llama.cpp (benchmarks/bench_real_model.py): it answers
a factual question from memory at step 1 (wrongly) and at ``low`` effort that one
rejected guess used to end the run in beast mode before anything was read; an answer
attempted because the pages read cover the question used to read three more results
first (a longer prompt for nothing); and every role's prompt began differently, so the
server's prompt cache never held what the next call needed.
"""

from __future__ import annotations

import json

from deepsearch import aask, build_graph
from deepsearch.prompts.answerer import EVIDENCE_SYSTEM
from deepsearch.settings import Settings
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch

QUESTION = "Who designed the Statue of Liberty?"


def graph_for(brain: Brain, search: MemorySearch, reader: MemoryReader, settings: Settings):
    return build_graph(
        model=ScriptedChatModel(brain=brain),
        search=search,
        reader=reader,
        settings=settings,
        team=False,
    )


async def test_a_wrong_guess_before_any_reading_does_not_end_a_low_effort_run(
    brain: Brain,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    brain.script("planner", {"think": "I know this.", "action": "answer"})
    brain.direct_answer = "Gustave Eiffel designed it."
    brain.script(
        "evaluator",
        {"checks": [{"type": "definitive", "pass": False, "reason": "From memory."}]},
    )
    graph = graph_for(brain, memory_search, memory_reader, offline_settings)
    result = await aask(QUESTION, graph=graph, reasoning_effort="low")
    assert memory_search.queries, "research started after the rejected guess"
    assert "Bartholdi" in result.answer and result.references
    assert result.mode == "researched"
    assert "beast" not in brain.roles()


async def test_research_calls_share_one_system_prompt_and_evidence_prefix(
    brain: Brain,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    brain.fail_reviews = 1  # a second round: the planner, then the answer again
    graph = graph_for(brain, memory_search, memory_reader, offline_settings)
    await aask(QUESTION, graph=graph, reasoning_effort="medium")
    roles = brain.roles()
    assert {"planner", "answerer", "evaluator", "reviewer"} <= set(roles)
    research = [c for c in brain.calls if c.role in ("planner", "reflector", "answerer", "beast")]
    assert all(c.system == research[0].system for c in research)
    assert research[0].system.startswith(EVIDENCE_SYSTEM.split("\n", 1)[0])
    # The judges see the answer and its quotes, not the sources again.
    judges = [c for c in brain.calls if c.role in ("evaluator", "reviewer")]
    assert judges and all("Sources:" not in c.user and "<source id=\"S1\"" not in c.user for c in judges)
    first = next(i for i, c in enumerate(brain.calls) if c.role == "answerer")
    evidence = brain.calls[first].user.split("\n# Role: answerer\n")[0]
    assert '<source id="S1"' in evidence
    # The next research call, with no new page read, begins with the same evidence.
    later = next(c for c in brain.calls[first + 1 :] if c.role == "planner")
    assert later.user.startswith(evidence.split("\n\nQuestion:")[0])


async def test_an_answer_on_strong_evidence_does_not_read_more_results_first(
    brain: Brain,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    graph = graph_for(brain, memory_search, memory_reader, offline_settings)
    result = await aask(QUESTION, graph=graph, reasoning_effort="low")
    assert result.references
    planner_calls = [c for c in brain.calls if c.role == "planner"]
    assert len(planner_calls) == 1  # search, then read and answer without asking again
    answer_prompt = next(c.user for c in brain.calls if c.role == "answerer")
    read_in_answer = answer_prompt.count("<source id=")
    assert read_in_answer == len(result.read_urls), "nothing was read just to answer"
    assert json.loads(brain.calls[0].reply)["action"] == "search"


async def test_a_planner_that_never_answers_gets_an_answer_attempt_at_low_effort(
    brain: Brain,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    searches = iter(range(1000))

    def always_search(system: str, user: str) -> str:
        return json.dumps({"action": "search", "queries": [f"statue fact {next(searches)}"]})

    brain.handlers["planner"] = always_search
    brain.fail_evaluations = 100  # nothing is ever accepted: only the loop's rules end it
    graph = graph_for(brain, memory_search, memory_reader, offline_settings)
    question = "Which workshop hammered the copper skin of the harbour monument?"
    result = await aask(question, graph=graph, reasoning_effort="low")
    assert any("Enough steps of research" in line for line in result.diary), result.diary
    assert "answerer" in brain.roles()
    assert result.steps <= 6, result.diary
