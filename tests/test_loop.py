"""The research loop end to end through the public API, with a scripted model."""

from __future__ import annotations

import json

import pytest

from deepsearch import aask, astream_run, build_graph
from deepsearch.citations import normalize
from deepsearch.context import Context
from deepsearch.settings import Settings
from deepsearch.state import Knowledge
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.testweb import WebPage


def make_graph(brain: Brain, search: MemorySearch, reader: MemoryReader, settings: Settings):
    return build_graph(
        model=ScriptedChatModel(brain=brain), search=search, reader=reader, settings=settings
    )


@pytest.fixture
def graph(brain, memory_search, memory_reader, offline_settings):
    return make_graph(brain, memory_search, memory_reader, offline_settings)


def quotes_are_real(result, pages: dict[str, WebPage]) -> bool:
    for ref in result.references:
        text = normalize(pages[ref["url"]].text())
        if normalize(ref["exactQuote"]) not in text:
            return False
    return True


async def test_direct_answer_at_step_one(graph, brain, memory_search) -> None:
    brain.script("planner", {"think": "Trivial arithmetic.", "action": "answer"})
    brain.direct_answer = "1 + 1 = 2."
    result = await aask("What is 1 + 1?", graph=graph)
    assert result.answer == "1 + 1 = 2."
    assert result.mode == "direct"
    assert result.steps == 1
    assert memory_search.queries == []
    assert "reviewer" not in brain.roles()  # a direct answer only needs to be definitive


async def test_search_read_answer_evaluate_with_real_quotes(graph, brain, web_pages) -> None:
    result = await aask("Who designed the Statue of Liberty?", graph=graph)
    assert "Bartholdi" in result.answer
    assert result.mode == "researched"
    assert "[^1]" in result.answer
    assert result.references and quotes_are_real(result, web_pages)
    assert result.references[0]["url"].endswith("/news/statue-of-liberty")
    assert result.read_urls and set(result.read_urls) <= set(result.visited_urls)
    # search (the planner), read the new results (no call), answer: the page read
    # covers the question, so the loop attempts the answer without asking again
    assert brain.roles()[:3] == ["planner", "answerer", "evaluator"]
    assert [line.split(" — ")[0] for line in result.diary if " — " in line] == [
        "Step 1: search",
        "Step 2: read",
        "Step 3: answer",
    ]
    assert {"evaluator", "reviewer"} <= set(brain.roles())
    assert result.usage["total_tokens"] > 0


async def test_failed_evaluation_feeds_the_next_answer(graph, brain) -> None:
    brain.fail_evaluations = 1
    result = await aask("Who designed the Statue of Liberty?", graph=graph, max_attempts=3)
    assert "Bartholdi" in result.answer
    assert result.mode == "researched"
    assert brain.roles().count("evaluator") == 2
    # The improvement plan reached the planner and the second answerer call.
    later = [c for c in brain.calls if c.role in ("planner", "answerer")][-2:]
    assert any("The answer is not specific enough." in c.user for c in later)


async def test_the_first_judgement_chooses_the_checks_and_they_stick(graph, brain) -> None:
    """Freshness applies to this question: it is judged from then on, without a separate call."""
    from tests.support.brain import field_of

    seen: list[tuple[str, str]] = []

    def evaluator(system: str, user: str) -> str:
        checks = field_of(user, "Checks")
        optional = field_of(user, "Checks if they apply")
        seen.append((checks, optional))
        verdicts = [{"type": c.strip(), "pass": True} for c in checks.split(",")]
        if optional:  # the first judgement: freshness applies, and fails
            verdicts += [
                {"type": "freshness", "applies": True, "pass": False, "reason": "old data"},
                {"type": "plurality", "applies": False, "pass": True},
                {"type": "completeness", "applies": False, "pass": True},
            ]
        return json.dumps(
            {"checks": verdicts, "analysis": "The figures are old.", "improvement_plan": "x"}
        )

    brain.handlers["evaluator"] = evaluator
    result = await aask("Who designed the Statue of Liberty?", graph=graph, max_attempts=3)
    assert seen[0] == ("definitive", "freshness, plurality, completeness")
    assert seen[1] == ("definitive, freshness", "")  # chosen once, judged every time after
    assert any("freshness check" in line for line in result.diary)
    assert result.mode == "researched"
    assert "check-picker" not in brain.roles()


async def test_budget_exhaustion_ends_in_beast_mode(graph, brain) -> None:
    result = await aask("Who designed the Statue of Liberty?", graph=graph, budget_tokens=1000)
    assert "beast" in brain.roles()
    assert result.mode == "beast"
    assert result.answer
    # the budget is a cap: every call was fitted to what was left
    assert result.usage["total_tokens"] <= 1.1 * 1000


async def test_attempts_exhaustion_ends_in_beast_mode(graph, brain) -> None:
    brain.fail_reviews = 100
    result = await aask("Who designed the Statue of Liberty?", graph=graph, max_attempts=2)
    assert brain.roles().count("reviewer") == 2
    assert brain.roles()[-1] == "beast"
    assert result.mode == "beast"
    assert "Bartholdi" in result.answer


async def test_no_direct_answer_forces_a_search(graph, brain, memory_search) -> None:
    # The model wants to answer from memory at step 1; the rules forbid it.
    brain.script("planner", {"action": "answer"})
    brain.direct_answer = "From memory."
    result = await aask("Who designed the Statue of Liberty?", graph=graph, no_direct_answer=True)
    assert memory_search.queries, "a search must run"
    assert "Allowed actions: search" in brain.calls[0].user
    assert "answer" not in brain.calls[0].user.split("Allowed actions:")[1].splitlines()[0]
    assert result.mode == "researched"


async def test_bad_hostnames_are_never_read(brain, offline_settings) -> None:
    pages = {
        "https://bad.example.com/liberty": WebPage(
            "Liberty", ["The Statue of Liberty was designed by Bartholdi."]
        ),
        "https://good.example.org/liberty": WebPage(
            "Liberty facts", ["The Statue of Liberty was designed by Frédéric Auguste Bartholdi."]
        ),
    }
    reader = MemoryReader(pages)
    graph = make_graph(brain, MemorySearch(pages), reader, offline_settings)
    result = await aask(
        "Who designed the Statue of Liberty?", graph=graph, bad_hostnames=["example.com"]
    )
    assert reader.reads == ["https://good.example.org/liberty"]
    assert all("bad.example.com" not in r["url"] for r in result.references)


async def test_only_hostnames_are_read(brain, offline_settings) -> None:
    pages = {
        "https://a.example.com/liberty": WebPage(
            "Liberty", ["The Statue of Liberty was designed by Bartholdi."]
        ),
        "https://docs.trusted.org/liberty": WebPage(
            "Liberty facts", ["The Statue of Liberty was designed by Frédéric Auguste Bartholdi."]
        ),
    }
    reader = MemoryReader(pages)
    graph = make_graph(brain, MemorySearch(pages), reader, offline_settings)
    await aask("Who designed the Statue of Liberty?", graph=graph, only_hostnames=["trusted.org"])
    assert reader.reads == ["https://docs.trusted.org/liberty"]


async def test_pasted_urls_are_read_first(graph, brain, memory_reader) -> None:
    url = "https://example.org/wiki/gustave-eiffel"
    result = await aask(f"According to {url}, where was Gustave Eiffel born?", graph=graph)
    assert memory_reader.reads[0] == url
    # Reading what the user pasted is not a choice: the planner is not asked at step 1.
    assert "Step 1: read — Read the pages the user gave first." in result.diary
    planned = [c for c in brain.calls if c.role == "planner"]
    assert all("Allowed actions: read\n" not in c.user for c in planned)


@pytest.mark.parametrize(
    "garbage",
    [
        "not json at all",
        "",
        '{"action": "teleport"}',
        '{"queries": 42}',
        "<think>I should search</think>",
        '<think>unterminated reasoning with {"action": "answer"}',
        '```json\n{"action": "search", "queries": ["Statue of Liberty designer"]\n```',
        "[1, 2, 3]",
    ],
)
async def test_malformed_model_output_never_crashes(graph, brain, garbage: str) -> None:
    for role in ("planner", "answerer", "evaluator", "reviewer", "reflector"):
        brain.script(role, *([garbage] * 3))
    result = await aask("Who designed the Statue of Liberty?", graph=graph, max_attempts=2)
    assert result.answer  # an answer comes out whatever the model says
    assert result.mode in ("researched", "beast", "failed")


async def test_model_that_only_returns_garbage_ends_in_beast_mode(graph, brain) -> None:
    for role in ("planner", "answerer", "evaluator", "reviewer", "reflector", "beast"):
        brain.handlers[role] = lambda system, user: "I refuse to produce JSON."
    result = await aask("Who designed the Statue of Liberty?", graph=graph, budget_tokens=60_000)
    assert result.mode in ("beast", "failed")
    assert result.answer
    assert result.steps <= Context().max_steps


async def test_think_wrapped_json_is_parsed(graph, brain, memory_search) -> None:
    brain.script(
        "planner",
        '<think>Let me think about the best query.</think>\n{"action": "search", "queries": ["Bartholdi statue"]}',
    )
    await aask("Who designed the Statue of Liberty?", graph=graph)
    assert memory_search.queries[0] == "Bartholdi statue"


async def test_wrong_schema_is_retried_with_the_error(graph, brain) -> None:
    brain.script("planner", '{"action": "fly"}')
    await aask("Who designed the Statue of Liberty?", graph=graph)
    first, second = brain.calls[0], brain.calls[1]
    assert second.role == "planner" and "could not be used" in second.user
    assert "fly" in first.reply


async def test_search_failure_degrades_the_run(
    brain, memory_reader, offline_settings, web_pages
) -> None:
    search = MemorySearch(web_pages, fail=True)
    graph = make_graph(brain, search, memory_reader, offline_settings)
    result = await aask("Who designed the Statue of Liberty?", graph=graph, budget_tokens=50_000)
    assert result.answer
    assert result.mode in ("beast", "failed")


async def test_progress_events_stream_the_reasoning(graph) -> None:
    from deepsearch import astream_run

    kinds = []
    async for event in astream_run("Who designed the Statue of Liberty?", graph=graph):
        if event["type"] == "progress":
            kinds.append(event["kind"])
    for kind in ("start", "plan", "query", "read", "answer", "verdict", "done"):
        assert kind in kinds


async def test_multi_turn_history_becomes_knowledge(graph, brain) -> None:
    messages = [
        {"role": "user", "content": "Tell me about the Statue of Liberty."},
        {"role": "assistant", "content": "It stands in New York Harbor."},
        {"role": "user", "content": "Who designed it?"},
    ]
    await aask(messages, graph=graph)
    planner_prompt = brain.calls[0].user
    assert "Original question: Who designed it?" in planner_prompt
    assert "It stands in New York Harbor." in planner_prompt


def test_graph_draws_the_design() -> None:
    graph = build_graph(team=False)
    drawn = graph.get_graph()
    nodes = set(drawn.nodes)
    for name in (
        "plan",
        "search",
        "rank_urls",
        "read",
        "reflect",
        "answer",
        "evaluate",
        "beast_mode",
        "finalize",
    ):
        assert name in nodes
    edges = {(e.source, e.target) for e in drawn.edges}
    for edge in [
        ("plan", "search"),
        ("plan", "read"),
        ("plan", "reflect"),
        ("plan", "answer"),
        ("search", "rank_urls"),
        ("read", "rank_urls"),
        ("rank_urls", "plan"),
        ("rank_urls", "beast_mode"),
        ("answer", "evaluate"),
        ("evaluate", "finalize"),
        ("evaluate", "plan"),
        ("evaluate", "beast_mode"),
        ("beast_mode", "finalize"),
    ]:
        assert edge in edges, edge


def test_json_response_schema(graph, brain) -> None:
    import asyncio

    schema = {
        "type": "object",
        "properties": {"designer": {"type": "string"}},
        "required": ["designer"],
    }
    brain.handlers["formatter"] = lambda s, u: json.dumps({"designer": "Bartholdi"})
    result = asyncio.run(
        aask("Who designed the Statue of Liberty?", graph=graph, response_schema=schema)
    )
    assert json.loads(result.answer) == {"designer": "Bartholdi"}


@pytest.mark.parametrize("team_size", [1, 2])
async def test_streamed_result_matches_the_final_state(
    brain, memory_search, memory_reader, offline_settings, team_size: int
) -> None:
    """astream_run folds node updates instead of copying the state out at every step."""
    from deepsearch.api import astream_run, make_input, result_from_state

    question = "Who designed the Statue of Liberty, and where was Gustave Eiffel born?"
    ctx = Context(team_size=team_size)
    graph = make_graph(brain, memory_search, memory_reader, offline_settings)
    streamed = [e async for e in astream_run(question, graph=graph, context=ctx)][-1]["result"]
    graph = make_graph(Brain(), MemorySearch(memory_search.pages), memory_reader, offline_settings)
    final = await graph.ainvoke(make_input(question), context=ctx)
    expected = result_from_state(final, ctx)
    assert streamed.to_dict() == expected.to_dict()
    assert streamed.visited_urls and streamed.diary and streamed.usage["total_tokens"] > 0


async def test_a_passage_from_deep_in_a_long_page_reaches_the_model_under_its_heading(
    brain, offline_settings
) -> None:
    filler = " ".join(f"In year {1700 + i} the harbour saw {i} ships arrive." for i in range(200))
    stairs = " ".join(f"On step {i} of the stair the visitors rest." for i in range(200))
    url = "https://example.org/wiki/coast"
    pages = {
        url: WebPage(
            title="The coast",
            paragraphs=[
                f"## Harbour towns\n{filler}",
                f"## Ravensbourne lighthouse\nThe tower is white. {stairs} "
                "The lamp was designed by Elsa Marrow in 1887.",
                f"## Bridges\n{filler}",
            ],
        )
    }
    graph = make_graph(brain, MemorySearch(pages), MemoryReader(pages), offline_settings)
    result = await aask("Who designed the lamp of the Ravensbourne lighthouse?", graph=graph)
    answerer = next(c for c in brain.calls if c.role == "answerer")
    assert "## Ravensbourne lighthouse\n…\n" in answerer.user
    shown = answerer.user.split("## Ravensbourne lighthouse\n…\n", 1)[1]
    assert shown.index("Elsa Marrow") < shown.index("</source>")
    assert "On step 150 of" not in answerer.user  # a long page is cut to its passages
    assert result.references and quotes_are_real(result, pages)


async def test_a_long_attached_file_still_reaches_the_answer_prompt(graph, brain) -> None:
    fact = "The Orrin clock tower was designed by Mae Tull in 1902."
    knowledge: list[Knowledge] = [
        {
            "question": "notes.txt",
            "answer": fact + " " + "Filler about clocks. " * 3_000,  # ~60,000 characters
            "kind": "file",
            "references": [],
            "date": None,
        }
    ]
    result = None
    async for event in astream_run(
        "Who designed the Orrin clock tower?", graph=graph, knowledge=knowledge
    ):
        if event.get("type") == "result":
            result = event["result"]
    assert result is not None
    prompts = [c.user for c in brain.calls if c.role in ("planner", "answerer", "beast")]
    assert prompts and all(fact in p for p in prompts)


async def test_a_long_question_goes_to_the_engine_as_a_bounded_query(
    graph, memory_search
) -> None:
    question = "Who designed the Statue of Liberty? " + "Please explain in detail. " * 100
    await aask(question, graph=graph, reasoning_effort="low")
    assert memory_search.queries
    assert all(len(q) <= 300 for q in memory_search.queries)
