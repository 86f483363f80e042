"""Traces as LangSmith receives them, captured by a local stand-in for its API on loopback.

The real ``langsmith`` client and LangChain's tracer post runs to a tiny local app
that records them; nothing leaves the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.tracers import LangChainTracer
from langsmith import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deepsearch.api import astream_run, build_graph
from deepsearch.context import Context
from deepsearch.settings import Settings
from deepsearch.tools.tracing import traced_reader, traced_search
from tests.support.chat_model import ScriptedChatModel
from tests.support.langgraph_dev import REPO, offline_env
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import serve

QUESTION = "Who designed the Statue of Liberty?"


class RunSink:
    """Records what a LangSmith client sends: run creations and updates, merged by run id."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.runs: dict[str, dict[str, Any]] = {}
        self.app = Starlette(
            routes=[Route("/{path:path}", self.record, methods=["GET", "POST", "PATCH"])]
        )

    async def record(self, request: Request) -> Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if request.url.path.startswith("/runs") and request.method in ("POST", "PATCH"):
            body = json.loads(await request.body() or b"{}")
            if "id" in body:
                self.runs.setdefault(body["id"], {}).update(body)
        return JSONResponse({})

    def named(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.runs.values() if r.get("name") == name]

    def parent(self, run: dict[str, Any]) -> dict[str, Any]:
        return self.runs[run["parent_run_id"]]


@pytest.fixture
def sink() -> Iterator[tuple[RunSink, str]]:
    recorder = RunSink()
    with serve(recorder.app) as base:
        yield recorder, base


async def test_langsmith_receives_the_loop_as_named_runs_with_tool_runs_for_providers(
    sink: tuple[RunSink, str],
    model: ScriptedChatModel,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> None:
    recorder, base = sink
    client = Client(api_url=base, api_key="local-test", auto_batch_tracing=False)
    tracer = LangChainTracer(client=client, project_name="deepsearch-tests")
    graph = build_graph(
        model=model,
        search=traced_search(memory_search),
        reader=traced_reader(memory_reader),
        settings=offline_settings,
        team=False,
    )
    async for _ in astream_run(
        QUESTION,
        graph=graph,
        context=Context(reasoning_effort="low"),
        config={"callbacks": [tracer]},
    ):
        pass
    tracer.wait_for_futures()

    [root] = [r for r in recorder.runs.values() if not r.get("parent_run_id")]
    assert root["name"] == "deepsearch" and root["run_type"] == "chain"
    assert root["extra"]["metadata"]["budget_tokens"] == 100_000
    assert "Bartholdi" in root["outputs"]["answer"]["text"]

    [search_tool] = recorder.named("search.memory")
    assert search_tool["run_type"] == "tool"
    assert recorder.parent(search_tool)["name"] == "search"
    assert search_tool["inputs"]["query"] == QUESTION
    assert "provider:memory" in search_tool["tags"]
    reads = recorder.named("read.memory")
    assert reads and all(
        r["run_type"] == "tool" and r["outputs"]["output"]["chars"] > 0 for r in reads
    )

    planner = recorder.named("planner")
    assert planner and all(r["run_type"] == "llm" and "role:planner" in r["tags"] for r in planner)
    assert [r["extra"]["metadata"]["step"] for r in planner] == [1]  # then read, answer
    assert all(recorder.parent(r)["name"] == "plan" for r in planner)


SCRIPT = textwrap.dedent(
    """
    import asyncio
    from deepsearch.api import aask, build_graph
    from deepsearch.settings import Settings
    from tests.support.brain import Brain
    from tests.support.chat_model import ScriptedChatModel
    from tests.support.memory import MemoryReader, MemorySearch
    from tests.support.testweb import DEFAULT_PAGES

    pages = {f"https://example.org{p}": v for p, v in DEFAULT_PAGES.items()}
    graph = build_graph(
        model=ScriptedChatModel(brain=Brain()), search=MemorySearch(pages),
        reader=MemoryReader(pages), settings=Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None),
        team=False,
    )
    print(asyncio.run(aask("Who designed the Statue of Liberty?", graph=graph)).answer)
    from langchain_core.tracers.langchain import wait_for_all_tracers
    wait_for_all_tracers()
    """
)


@pytest.mark.parametrize("tracing", [False, True])
def test_tracing_is_off_unless_the_users_langsmith_variables_turn_it_on(
    sink: tuple[RunSink, str], tracing: bool
) -> None:
    recorder, base = sink
    env = offline_env({"PYTHONPATH": str(REPO), "LANGSMITH_ENDPOINT": base})
    if tracing:
        env.pop("LANGCHAIN_TRACING_V2")  # the legacy name would win over LANGSMITH_TRACING
        env.update({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "local-test"})
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Bartholdi" in out.stdout
    if tracing:
        assert any("/runs" in r for r in recorder.requests), recorder.requests
    else:
        assert recorder.requests == []
