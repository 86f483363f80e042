"""Fault injection: flaky LLM, search and pages never crash, hang or leak a run.

Every run goes through the public API (``aask``) with a real ``ChatOpenAI``, the real
SearXNG provider and the real direct reader, against local servers that fail on
purpose (see ``tests/support/faults.py``). The wall-clock deadline only detects hangs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deepsearch.api import aask
from deepsearch.context import Context
from deepsearch.nodes.answer_check import BEST_EFFORT
from deepsearch.tools.llm import LLMUnavailable
from tests.support.fault_runs import (
    API_KEY,
    QUESTIONS,
    FaultyStack,
    faulty_stack,
    run_once,
    stray_tasks,
)
from tests.support.faults import ALL_FAULTS, FaultInjector, FaultyApp, llm_content
from tests.support.servers import serve
from tests.support.testweb import TestWeb

HANG_DEADLINE = 90.0


def test_injector_is_seeded_and_counts_what_it_injects() -> None:
    first = FaultInjector({"http_500": 0.2, "reset": 0.1}, seed=7)
    second = FaultInjector({"http_500": 0.2, "reset": 0.1}, seed=7)
    draws = [first.draw() for _ in range(500)]
    assert draws == [second.draw() for _ in range(500)]
    assert first.requests == 500
    assert first.injected["http_500"] == draws.count("http_500") > first.injected["reset"] > 0
    assert first.total_injected == sum(d is not None for d in draws)
    with pytest.raises(ValueError, match="unknown"):
        FaultInjector({"meteor": 0.1})
    with pytest.raises(ValueError, match="more than 1"):
        FaultInjector({"http_500": 0.7, "reset": 0.7})


def _under(prefix: str) -> Callable[[str], bool]:
    return lambda path: path.startswith(f"/{prefix}/")


@pytest.fixture(scope="module")
def web_base() -> Iterator[tuple[str, dict[str, FaultInjector]]]:
    """One faulty test web per fault kind: ``/<kind>/...`` always fails that way."""
    web = TestWeb()
    injectors = {kind: FaultInjector({kind: 1.0}) for kind in ALL_FAULTS}
    app: Any = web.app
    for kind, injector in injectors.items():
        app = FaultyApp(app, injector, llm_content, _under(kind), hang_seconds=5)
    with serve(app) as base:
        yield base, injectors


@pytest.mark.parametrize("kind", ALL_FAULTS)
async def test_every_fault_reaches_the_wire(
    kind: str, web_base: tuple[str, dict[str, FaultInjector]]
) -> None:
    base, injectors = web_base
    async with httpx.AsyncClient(timeout=0.5) as client:
        try:
            response = await client.post(f"{base}/{kind}/v1/chat/completions", json={})
        except httpx.TimeoutException:
            assert kind == "timeout"
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            assert kind in ("reset", "truncated"), exc
        else:
            status = {"http_500": 500, "http_429": 429}.get(kind, 200)
            assert response.status_code == status
            if kind == "http_429":
                assert response.headers["retry-after"] == "0"
            if kind == "invalid_json":
                with pytest.raises(json.JSONDecodeError):
                    response.json()
            if kind in ("schema_violation", "empty"):
                content = response.json()["choices"][0]["message"]["content"]
                assert content == "" if kind == "empty" else "action" in content
            assert kind not in ("timeout", "reset", "truncated")
    assert injectors[kind].injected[kind] == 1


@pytest.fixture
def mixed_faults() -> Iterator[FaultyStack]:
    """LLM, search and pages each failing 20% of requests, all fault kinds."""
    rates = {kind: 0.2 / len(ALL_FAULTS) for kind in ALL_FAULTS}
    with faulty_stack(rates, rates, seed=12) as stack:
        yield stack


async def test_runs_under_mixed_faults_end_well_formed(
    mixed_faults: FaultyStack, tmp_path: Path
) -> None:
    settings = mixed_faults.settings(str(tmp_path), timeout=0.5)
    graph = mixed_faults.graph(settings, timeout=0.5)
    outcomes = []
    for i, question in enumerate(QUESTIONS[:2]):
        ctx = Context(budget_tokens=(4_000, 60_000)[i % 2])
        outcomes.append(await run_once(graph, question, ctx, mixed_faults.web, HANG_DEADLINE))
    kinds = [o.kind for o in outcomes]
    assert not {"crash", "hang"} & set(kinds), [o.detail for o in outcomes]
    assert [o.problems for o in outcomes] == [[] for _ in outcomes]
    assert "answered" in kinds
    assert mixed_faults.faults_injected().total() >= 3
    assert stray_tasks() == []


async def test_useless_llm_replies_end_in_a_bounded_degraded_answer(tmp_path: Path) -> None:
    rates = {"schema_violation": 0.5, "empty": 0.5}
    with faulty_stack(rates, {}, seed=2) as stack:
        graph = stack.graph(stack.settings(str(tmp_path)))
        outcome = await run_once(
            graph, QUESTIONS[0], Context(budget_tokens=500_000), stack.web, HANG_DEADLINE
        )
    assert outcome.kind == "degraded" and outcome.result is not None
    # No usable answer from the model: the pages read answer instead, quoted and cited.
    assert outcome.result.answer.startswith(BEST_EFFORT) and outcome.result.mode == "beast"
    assert outcome.result.references and outcome.problems == []
    assert outcome.result.steps < Context().max_steps  # stopped by the stall rule
    assert stray_tasks() == []


async def test_search_and_pages_down_end_degraded(tmp_path: Path) -> None:
    web_rates = {"http_500": 0.4, "reset": 0.2, "truncated": 0.2, "timeout": 0.2}
    with faulty_stack({}, web_rates, seed=3) as stack:
        graph = stack.graph(stack.settings(str(tmp_path)))
        outcome = await run_once(graph, QUESTIONS[1], Context(), stack.web, HANG_DEADLINE)
    assert outcome.kind == "degraded", outcome.detail
    assert outcome.problems == [] and outcome.result is not None
    assert outcome.result.read_urls == []


async def test_unreachable_llm_is_a_clean_error(tmp_path: Path) -> None:
    with faulty_stack({"http_500": 0.5, "reset": 0.5}, {}, seed=4) as stack:
        graph = stack.graph(stack.settings(str(tmp_path)))
        with pytest.raises(LLMUnavailable) as info:
            await aask(QUESTIONS[0], graph=graph)
    assert API_KEY not in str(info.value)  # the API key never leaks into errors
    assert stray_tasks() == []
