"""The LLM layer against a real OpenAI-compatible server that garbles some replies.

A 200 answer whose body is not JSON is a transient fault of a reachable server (a
proxy cut it, the server hiccuped); the OpenAI SDK does not retry it, so the LLM layer
must, instead of declaring the endpoint unavailable and ending the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deepsearch.nodes.plan import PlanDecision
from deepsearch.settings import Settings
from deepsearch.tools.llm import LLM, LLMUnavailable, make_llm
from tests.support.brain import Brain
from tests.support.faults import FaultInjector, FaultyApp, llm_content
from tests.support.llm_server import LLMServer
from tests.support.servers import serve

SYSTEM = "# Role: planner\nPlan."
USER = "Allowed actions: search\nCurrent question (work on this now): Who built it?"


def llm_behind(injector: FaultInjector, tmp_path: Path) -> Iterator[LLM]:
    app = FaultyApp(LLMServer(Brain()).app, injector, llm_content)
    with serve(app) as base:
        settings = Settings(
            OPENAI_BASE_URL=base + "/v1",
            OPENAI_API_KEY="test",  # type: ignore[arg-type]
            DEEPSEARCH_MODEL="brain",
            DEEPSEARCH_LLM_TIMEOUT=5,
            _env_file=None,  # type: ignore[call-arg]
        )
        yield make_llm(settings)


@pytest.fixture
def garbled_twice(tmp_path: Path) -> Iterator[tuple[LLM, FaultInjector]]:
    injector = FaultInjector({}, planned=["invalid_json", "invalid_json"])
    for llm in llm_behind(injector, tmp_path):
        yield llm, injector


@pytest.fixture
def garbled_once(tmp_path: Path) -> Iterator[tuple[LLM, FaultInjector]]:
    injector = FaultInjector({}, planned=["invalid_json"])
    for llm in llm_behind(injector, tmp_path):
        yield llm, injector


async def test_text_survives_one_garbled_reply(garbled_once: tuple[LLM, FaultInjector]) -> None:
    llm, injector = garbled_once
    result = await llm.text("planner", SYSTEM, USER)
    assert injector.injected["invalid_json"] == 1
    assert '"action"' in result.value


async def test_structured_survives_garbled_replies(
    garbled_twice: tuple[LLM, FaultInjector],
) -> None:
    llm, injector = garbled_twice
    result = await llm.structured(
        "planner", PlanDecision, SYSTEM, USER, fallback=lambda: PlanDecision(action="answer")
    )
    assert injector.injected["invalid_json"] == 2
    assert result.ok and result.value.action == "search"


async def test_a_server_that_always_fails_is_still_unavailable(tmp_path: Path) -> None:
    injector = FaultInjector({"invalid_json": 0.5, "http_500": 0.5})
    for llm in llm_behind(injector, tmp_path):
        with pytest.raises(LLMUnavailable):
            await llm.text("planner", SYSTEM, USER)
        with pytest.raises(LLMUnavailable):
            await llm.structured(
                "planner",
                PlanDecision,
                SYSTEM,
                USER,
                fallback=lambda: PlanDecision(action="answer"),
            )
