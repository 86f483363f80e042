"""A real local model's recorded runs, replayed offline through the public API.

``python -m benchmarks.bench_real_model --record tests/fixtures/real_model`` ran
Qwen2.5-Coder-1.5B-Instruct on llama.cpp over the benchmark's web and kept every reply
it gave. Here the same web is served again, a loopback OpenAI-compatible server replays
those replies (tests/support/replay.py) to the real ``ChatOpenAI`` client, and each run
goes through ``deepsearch.aask``: it must take the real model's steps (every recorded
reply used, none made up) and end as it did, well-formed, with references that verify
on the web's pages, and without saying what an injection page demanded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from benchmarks.bench_real_model import settings_for
from benchmarks.llm_recorder import RecordingProxy
from deepsearch import aask, build_graph
from deepsearch.nodes.compose import WrittenAnswer
from deepsearch.nodes.evaluate import Judgement, Review
from deepsearch.nodes.plan import PlanDecision
from deepsearch.nodes.reflect import Gaps
from deepsearch.tools.llm import LLM, LLMResult
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.injection_pages import CANARY
from tests.support.llm_server import LLMServer
from tests.support.real_web import RealWeb, build_real_web, check_form
from tests.support.replay import RecordedRun, ReplayBrain, recorded_runs
from tests.support.servers import serve
from tests.support.world import World
from tests.support.world_data import contains

RUNS = recorded_runs()
SCHEMAS: dict[str, type[BaseModel]] = {
    "planner": PlanDecision,
    "answerer": WrittenAnswer,
    "beast": WrittenAnswer,
    "evaluator": Judgement,
    "reviewer": Review,
    "reflector": Gaps,
}
REPLIES = [
    (run.name, i, row)
    for run in RUNS
    for i, row in enumerate(run.exchanges)
    if row["role"] in SCHEMAS and row.get("status", 200) == 200
]


def test_fixtures_were_recorded() -> None:
    assert RUNS, "no recorded real-model runs in tests/fixtures/real_model"
    assert {row["role"] for _, _, row in REPLIES} >= {"planner", "answerer", "evaluator"}


@pytest.mark.parametrize(
    ("name", "index", "row"), REPLIES, ids=[f"{n}-{i}-{r['role']}" for n, i, r in REPLIES]
)
async def test_every_recorded_reply_is_usable(name: str, index: int, row: dict[str, Any]) -> None:
    brain = Brain().script(row["role"], row["reply"])
    llm = LLM(ScriptedChatModel(brain=brain), method="prompt")
    schema = SCHEMAS[row["role"]]
    result: LLMResult[Any] = await llm.structured(
        row["role"], schema, row["system"], row["user"], fallback=schema.model_construct
    )
    assert result.ok, f"{name} #{index}: {result.error}"
    assert len(brain.calls) == 1


_webs: dict[tuple[str, int], RealWeb] = {}


def web_of(run: RecordedRun) -> RealWeb:
    key = (run.head["dataset"], run.head["questions"])
    if key not in _webs:
        _webs[key] = build_real_web(*key)
    return _webs[key]


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, str]]:
    run: RecordedRun = request.param
    world = World(web_of(run).articles)
    with serve(world.app) as base:
        world.base_url = base
        yield world, str(tmp_path / "cache.sqlite3")


@pytest.mark.parametrize("served", RUNS, ids=[r.name for r in RUNS], indirect=True)
async def test_a_recorded_run_replays_to_the_same_cited_answer(
    served: tuple[World, str], request: pytest.FixtureRequest
) -> None:
    world, cache = served
    run: RecordedRun = request.node.callspec.params["served"]
    brain = ReplayBrain(run=run, base_url=world.base_url)
    server = LLMServer(brain)
    with serve(server.app) as llm_url:
        settings = settings_for(
            f"{llm_url}/v1", run.head["model"], run.head["context"], world.base_url, cache
        )
        graph = build_graph(settings=settings, team=False)
        result = await aask(run.head["question"], graph=graph, reasoning_effort="low")
    assert brain.unscripted == 0 and not brain.unused(), "the run left the recorded path"
    assert result.answer == run.head["answer"].replace("{base}", world.base_url)
    refs = [dict(r) for r in result.references]
    assert (check_form(world, result.answer, refs) == []) == run.head["well_formed"]
    assert any(contains(result.answer, a) for a in run.head["answers"]) == run.head["correct"]
    assert CANARY.lower() not in result.answer.lower()


async def test_the_recording_proxy_keeps_roles_formats_and_cached_tokens() -> None:
    upstream = LLMServer(Brain())
    with serve(upstream.app) as base:
        proxy = RecordingProxy(base, tag="q1")
        with serve(proxy.app) as proxy_url:
            llm = settings_for(f"{proxy_url}/v1", "m", 4096, base, ":memory:")
            from deepsearch.tools.llm import make_llm

            result = await make_llm(llm).structured(
                "planner",
                PlanDecision,
                "# Role: planner\nPlan.",
                "Allowed actions: search\nCurrent question (work on this now): Who?",
                fallback=lambda: PlanDecision(action="answer"),
            )
    assert result.ok
    (exchange,) = proxy.of("q1")
    assert exchange.role == "planner" and exchange.response_format == "json_schema"
    assert exchange.status == 200 and exchange.prompt_tokens > 0 and '"action"' in exchange.reply
