"""The team map-reduce (team_size > 1) end to end, with the scripted brain and in-memory web."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from deepsearch import Context, astream_run, build_graph
from deepsearch.api import DeepSearchResult
from deepsearch.citations import MARKER, quote_occurs
from deepsearch.settings import Settings
from deepsearch.tools.llm import LLMUnavailable
from tests.support.brain import Brain, field_of
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.testweb import WebPage

LANDMARKS = {
    "eiffel-tower": ("Eiffel Tower", "Paris", 1889, "Gustave Eiffel's company"),
    "statue-of-liberty": ("Statue of Liberty", "New York", 1886, "Frédéric Bartholdi"),
    "big-ben": ("Big Ben", "London", 1859, "Augustus Pugin"),
    "sydney-opera-house": ("Sydney Opera House", "Sydney", 1973, "Jørn Utzon"),
    "golden-gate-bridge": ("Golden Gate Bridge", "San Francisco", 1937, "Joseph Strauss"),
}
QUESTION = (
    "When were the Eiffel Tower, the Statue of Liberty, Big Ben, the Sydney Opera House "
    "and the Golden Gate Bridge completed?"
)


@pytest.fixture
def landmark_pages() -> dict[str, WebPage]:
    """One page per landmark; each names only its own landmark."""
    return {
        f"https://landmarks.example/{slug}": WebPage(
            name,
            [
                f"The {name} was completed in {year} in {city}.",
                f"The {name} was designed by {designer}.",
            ],
            date="2024-01-01",
        )
        for slug, (name, city, year, designer) in LANDMARKS.items()
    }


def team_graph(brain: Brain, pages: dict[str, WebPage], **kw: Any) -> Any:
    """The default graph (the team graph) over in-memory providers and the scripted brain."""
    return build_graph(
        model=ScriptedChatModel(brain=brain),
        search=kw.pop("search", None) or MemorySearch(pages),
        reader=kw.pop("reader", None) or MemoryReader(pages),
        settings=Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None),  # type: ignore[call-arg]
        **kw,
    )


async def run(graph: Any, ctx: Context, question: str = QUESTION) -> tuple[list[dict], Any]:
    """Run to the end; return the progress events and the result."""
    events: list[dict[str, Any]] = []
    result: DeepSearchResult | None = None
    async for event in astream_run(question, graph=graph, context=ctx):
        if event["type"] == "progress":
            events.append(event)
        else:
            result = event["result"]
    assert result is not None
    return events, result


def assert_references_sound(result: Any, pages: dict[str, WebPage]) -> None:
    """Markers 1..k each point to a reference; references are unique and quote their page."""
    refs = result.references
    used = {int(n) for n in MARKER.findall(result.answer)}
    assert used == set(range(1, len(refs) + 1))
    assert len({(r["url"], r["exactQuote"]) for r in refs}) == len(refs)
    for ref in refs:
        assert quote_occurs(ref["exactQuote"], pages[ref["url"]].paragraphs)


def worker_originals(brain: Brain) -> list[str]:
    """The question each worker's loop worked on (its planner's 'Original question')."""
    return [field_of(c.user, "Original question") for c in brain.calls if c.role == "planner"]


@pytest.mark.parametrize("size", [2, 3, 5])
async def test_team_splits_into_n_subproblems_each_researched_by_its_worker(
    brain: Brain, landmark_pages: dict[str, WebPage], size: int
) -> None:
    search = MemorySearch(landmark_pages)
    graph = team_graph(brain, landmark_pages, search=search)
    events, result = await run(graph, Context(team_size=size, budget_tokens=200_000))

    tasks = [e for e in events if e["kind"] == "team-task"]
    assert [e["assignee"] for e in tasks] == [f"worker-{i}" for i in range(1, size + 1)]
    subproblems = [e["text"].split(": ", 1)[1].split(" — ")[0] for e in tasks]
    assert len(set(subproblems)) == size
    assert brain.roles().count("team-planner") == 1
    # Each worker researched its own sub-problem, not the original question.
    assert set(worker_originals(brain)) == set(subproblems)
    assert QUESTION not in worker_originals(brain)
    for sub in subproblems:
        assert sub in search.queries
    starts = {e["worker"]: e["text"] for e in events if e["kind"] == "start" and e["worker"]}
    assert starts == {
        f"worker-{i}": f"Question: {sub}" for i, sub in enumerate(subproblems, start=1)
    }
    # One merged answer citing every worker's landmark, with sound, unique references.
    assert result.mode == "merged"
    assert brain.roles()[-1] == "merger"
    assert len({r["url"] for r in result.references}) == size
    assert_references_sound(result, landmark_pages)
    assert result.usage["total_tokens"] <= 200_000
    assert result.question == QUESTION


async def test_progress_events_name_their_worker(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    events, _ = await run(team_graph(brain, landmark_pages), Context(team_size=3))
    by_worker = Counter(e["worker"] for e in events)
    assert set(by_worker) == {None, "worker-1", "worker-2", "worker-3"}
    for name in ("worker-1", "worker-2", "worker-3"):
        kinds = [e["kind"] for e in events if e["worker"] == name]
        assert kinds[0] == "start" and "plan" in kinds and "answer" in kinds
    team_kinds = [e["kind"] for e in events if e["worker"] is None]
    assert team_kinds[:3] == ["start", "query", "team-plan"]
    assert team_kinds[-3:] == ["merge", "answer", "done"]


async def test_planner_reply_is_repaired_to_exactly_n_distinct_subproblems(
    landmark_pages: dict[str, WebPage],
) -> None:
    brain = Brain(team_size_hint=2)  # the model writes two sub-problems where four are asked
    brain.script(
        "team-planner",
        {"subproblems": [{"question": "When was Big Ben completed?"}] * 2},
        {"subproblems": [{"question": "When was Big Ben completed?"}] * 2},
    )
    events, result = await run(team_graph(brain, landmark_pages), Context(team_size=4))
    tasks = [e["text"] for e in events if e["kind"] == "team-task"]
    assert len(tasks) == 4
    subproblems = {t.split(": ", 1)[1].split(" — ")[0] for t in tasks}
    assert len(subproblems) == 4 and "When was Big Ben completed?" in subproblems
    assert result.mode == "merged"


async def test_unusable_merger_reply_stitches_parts_without_colliding_footnotes(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    brain.script("merger", "I am not JSON at all")
    _, result = await run(team_graph(brain, landmark_pages), Context(team_size=3))
    # Every worker numbered its own footnote [^1]; the merged answer has 1, 2, 3.
    assert result.mode == "merged"
    assert sorted(int(n) for n in MARKER.findall(result.answer)) == [1, 2, 3]
    assert len({r["url"] for r in result.references}) == 3
    assert_references_sound(result, landmark_pages)


async def test_merger_duplicate_and_invented_references_are_cleaned(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    quote = "The Big Ben was completed in 1859 in London."

    def merger(system: str, user: str) -> str:
        sid = re.search(r'<source id="(S\d+)" url="[^"]*big-ben"', user)
        assert sid is not None
        refs = [
            {"source": sid.group(1), "quote": quote},
            {"source": sid.group(1), "quote": quote},
            {"source": sid.group(1), "quote": "Big Ben is made of cheese."},
        ]
        text = "Big Ben was finished in 1859 [^1][^2], and it is cheese [^3]."
        return json.dumps({"answer": text, "references": refs})

    brain.handlers["merger"] = merger
    brain.script(
        "team-planner",
        {"subproblems": [{"question": "When was Big Ben completed?"}, {"question": QUESTION}]},
    )
    _, result = await run(team_graph(brain, landmark_pages), Context(team_size=2))
    assert result.answer == "Big Ben was finished in 1859 [^1], and it is cheese ."
    assert [r["exactQuote"] for r in result.references] == [quote]


async def test_failing_worker_does_not_sink_the_team(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    def planner(system: str, user: str) -> str:
        if "Big Ben" in field_of(user, "Original question"):
            raise ConnectionError("model endpoint dropped the connection")
        return brain._planner(system, user)

    brain.handlers["planner"] = planner
    brain.script(
        "team-planner",
        {
            "subproblems": [
                {"question": "When was the Eiffel Tower completed?", "deliverable": "year"},
                {"question": "When was Big Ben completed?", "deliverable": "year"},
                {"question": "When was the Golden Gate Bridge completed?", "deliverable": "year"},
            ]
        },
    )
    events, result = await run(team_graph(brain, landmark_pages), Context(team_size=3))
    errors = [e for e in events if e["kind"] == "error"]
    assert [e["worker"] for e in errors] == ["worker-2"]
    assert result.mode == "merged"
    assert "When was Big Ben completed?" in result.answer  # says what is missing
    urls = {r["url"] for r in result.references}
    assert urls == {
        "https://landmarks.example/eiffel-tower",
        "https://landmarks.example/golden-gate-bridge",
    }
    assert_references_sound(result, landmark_pages)


async def test_team_fails_honestly_when_the_llm_is_down_for_every_worker(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    def down(system: str, user: str) -> str:
        raise ConnectionError("connection refused")

    brain.handlers["planner"] = down
    with pytest.raises(LLMUnavailable):
        await run(team_graph(brain, landmark_pages), Context(team_size=2))


@pytest.mark.parametrize("budget", [9_000, 15_000, 30_000, 100_000])
async def test_team_stays_within_the_one_budget(
    brain: Brain, landmark_pages: dict[str, WebPage], budget: int
) -> None:
    brain.fail_evaluations = 100  # workers never get an answer accepted: they spend it all
    events, result = await run(
        team_graph(brain, landmark_pages), Context(team_size=3, budget_tokens=budget)
    )
    assert result.usage["total_tokens"] <= budget
    # A team only as large as the budget can pay for: each worker gets at least 5,000.
    size = min(3, int(0.85 * budget) // 5_000)
    assert result.answer  # incomplete parts are merged and flagged, not dropped
    if size < 3:
        assert any(e["kind"] == "team-size" for e in events)
    if size == 1:  # one researcher: no team plan, no workers
        assert not any(e["kind"] == "team-plan" or e["worker"] for e in events)
        return
    plan = next(e for e in events if e["kind"] == "team-plan")
    assert plan["worker_budget"] * size <= 0.85 * budget
    assert plan["worker_budget"] >= 5_000
    assert {e["budget_tokens"] for e in events if e["worker"]} == {plan["worker_budget"]}
    assert len({e["worker"] for e in events if e["worker"]}) == size
    # Workers run out: beast mode, a stop, or a last draft given unchecked for lack of budget.
    assert any(
        e["kind"] in ("beast", "stopped") or "No budget left" in str(e.get("text"))
        for e in events
        if e["worker"]
    ) or any("no budget left to evaluate" in line for line in result.diary)


async def test_team_size_one_is_exactly_the_research_loop(
    landmark_pages: dict[str, WebPage],
) -> None:
    outcomes = []
    for team in (True, False):
        brain = Brain()
        graph = team_graph(brain, landmark_pages, team=team)
        events, result = await run(graph, Context(), "When was Big Ben completed?")
        outcomes.append(([(e["kind"], e["text"], e["worker"]) for e in events], result, brain))
    (team_events, team_result, team_brain), (loop_events, loop_result, loop_brain) = outcomes
    assert team_events == loop_events
    assert team_result == loop_result
    assert team_brain.roles() == loop_brain.roles()
    assert "team-planner" not in team_brain.roles()
    assert "1859" in team_result.answer and team_result.references


async def test_raw_graph_keeps_the_loop_output_and_streams_subgraph_events_once(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    graph = team_graph(brain, landmark_pages)
    for size in (1, 2):
        counts = []
        for subgraphs in (False, True):
            n = 0
            async for _item in graph.astream(
                {"question": "When was Big Ben completed?"},
                context={"team_size": size},  # the LangGraph server passes a plain dict
                stream_mode="custom",
                subgraphs=subgraphs,
            ):
                n += 1
            counts.append(n)
        assert counts[0] == counts[1] > 5
    out = await graph.ainvoke({"question": "When was Big Ben completed?"}, context={"team_size": 2})
    assert set(out) == {
        "messages", "original_question", "answer", "visited_urls",
        "read_urls", "usage", "step", "diary",
    }  # fmt: skip
    assert out["answer"]["mode"] == "merged"
    assert out["messages"][-1].content == out["answer"]["text"]


def test_studio_sees_the_loop_and_the_workers_as_a_subgraph(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    graph = team_graph(brain, landmark_pages)
    # One researcher runs the loop's own nodes; only team workers are a subgraph.
    assert {name for name, _ in graph.get_subgraphs()} == {"worker"}
    nodes = set(graph.get_graph(xray=True).nodes)
    assert {"plan", "answer", "evaluate", "beast_mode"} <= nodes
    assert {"team_plan", "team_merge", "worker:plan", "worker:beast_mode"} <= nodes


async def test_team_runs_with_a_checkpointer_and_json_answers(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    graph = team_graph(brain, landmark_pages, checkpointer=InMemorySaver())
    schema = {
        "type": "object",
        "properties": {"summary": {"type": "string"}},
        "required": ["summary"],
    }
    brain.script("formatter", {"summary": "Big Ben 1859, Eiffel Tower 1889"})
    out = await graph.ainvoke(
        {"question": QUESTION},
        config={"configurable": {"thread_id": "t1"}},
        context=Context(team_size=2, response_schema=schema),
    )
    assert json.loads(out["answer"]["text"]) == {"summary": "Big Ben 1859, Eiffel Tower 1889"}
    assert brain.roles().count("formatter") == 1  # workers answer in prose; only the merge is JSON
    state = await graph.aget_state({"configurable": {"thread_id": "t1"}})
    assert len(state.values["reports"]) == 2


async def test_a_pasted_url_in_a_subproblem_is_read_first_by_its_worker(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    url = "https://landmarks.example/big-ben"
    brain.script(
        "team-planner",
        {
            "subproblems": [
                {"question": f"According to {url} when was Big Ben completed?"},
                {"question": "When was the Eiffel Tower completed?"},
            ]
        },
    )
    events, result = await run(
        team_graph(brain, landmark_pages), Context(team_size=2), f"Summarise {url} and more."
    )
    reads = [e["text"] for e in events if e["kind"] == "read" and e["worker"] == "worker-1"]
    assert reads[0] == url
    assert url in result.read_urls


@pytest.mark.parametrize("budget", [20_000, 50_000])
async def test_budget_holds_when_pages_make_every_step_expensive(budget: int) -> None:
    long_pages = {
        f"https://landmarks.example/{slug}": WebPage(
            name,
            [f"The {name} was completed in {year} in {city}."]
            + [f"The {name} in {city} has had visitors and guides, story {i}." for i in range(300)],
        )
        for slug, (name, city, year, _) in LANDMARKS.items()
    }
    brain = Brain(fail_evaluations=100)
    events, result = await run(
        team_graph(brain, long_pages), Context(team_size=4, budget_tokens=budget)
    )
    assert result.usage["total_tokens"] <= budget
    # No worker could afford to research on after a failed check: each was stopped, or
    # handed its cited draft over unchecked; either way its sources reached the merge.
    cut_short = [e for e in events if e["kind"] == "stopped"]
    unchecked = [line for line in result.diary if "no budget left to evaluate" in line]
    assert len(cut_short) + len(unchecked) >= min(4, int(0.85 * budget) // 5_000)
    assert result.references
    assert_references_sound(result, long_pages)


async def test_team_nodes_make_no_blocking_calls(
    brain: Brain, landmark_pages: dict[str, WebPage]
) -> None:
    """`langgraph dev` fails runs that block the event loop; the team must not."""
    blockbuster = pytest.importorskip("blockbuster")
    graph = team_graph(brain, landmark_pages)
    with blockbuster.blockbuster_ctx(["deepsearch"]):
        _, result = await run(graph, Context(team_size=3))
    assert result.mode == "merged"
