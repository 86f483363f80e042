"""What a LangSmith trace of a run would hold, seen through a plain callback handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler

from deepsearch.api import astream_run, build_graph
from deepsearch.context import Context
from deepsearch.settings import Settings
from deepsearch.tools.base import ProviderError
from deepsearch.tools.tracing import (
    TracedReader,
    TracedSearch,
    step_metadata,
    traced_reader,
    traced_search,
)
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch

QUESTION = "Who designed the Statue of Liberty?"


@dataclass
class TraceRun:
    """One run as a tracer sees it."""

    kind: str
    name: str
    tags: list[str]
    metadata: dict[str, Any]
    run_id: UUID
    parent_run_id: UUID | None
    outputs: Any = None
    error: str | None = None


@dataclass
class TraceRecorder(AsyncCallbackHandler):
    """Records chain, chat model and tool runs with their names, tags and metadata."""

    runs: dict[UUID, TraceRun] = field(default_factory=dict)

    def _start(self, kind: str, run_id: UUID, parent: UUID | None, kw: dict[str, Any]) -> None:
        self.runs[run_id] = TraceRun(
            kind,
            kw.get("name") or "",
            list(kw.get("tags") or []),
            dict(kw.get("metadata") or {}),
            run_id,
            parent,
        )

    async def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self._start("chain", run_id, parent_run_id, kw)

    async def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self._start("llm", run_id, parent_run_id, kw)

    async def on_tool_start(
        self,
        serialized: Any,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self._start("tool", run_id, parent_run_id, kw)
        self.runs[run_id].metadata["inputs"] = kw.get("inputs")

    async def on_tool_end(self, output: Any, *, run_id: UUID, **kw: Any) -> None:
        self.runs[run_id].outputs = output

    async def on_tool_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self.runs[run_id].error = str(error)

    def of_kind(self, kind: str) -> list[TraceRun]:
        return [r for r in self.runs.values() if r.kind == kind]

    def parent_name(self, run: TraceRun) -> str | None:
        parent = self.runs.get(run.parent_run_id) if run.parent_run_id else None
        return parent.name if parent else None


@pytest.fixture
def traced_graph(
    model: ScriptedChatModel,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> Any:
    return build_graph(
        model=model,
        search=traced_search(memory_search),
        reader=traced_reader(memory_reader),
        settings=offline_settings,
        team=False,
    )


async def run_traced(graph: Any, recorder: TraceRecorder) -> Any:
    result = None
    async for event in astream_run(
        QUESTION,
        graph=graph,
        context=Context(reasoning_effort="low"),
        config={"callbacks": [recorder]},
    ):
        if event["type"] == "result":
            result = event["result"]
    return result


async def test_a_run_traces_named_nodes_role_tagged_llm_calls_and_provider_tools(
    traced_graph: Any,
) -> None:
    recorder = TraceRecorder()
    result = await run_traced(traced_graph, recorder)
    assert "Bartholdi" in result.answer

    roots = [r for r in recorder.runs.values() if r.parent_run_id is None]
    assert [r.name for r in roots] == ["deepsearch"]
    assert roots[0].metadata["budget_tokens"] == 100_000

    node_names = {
        r.name for r in recorder.of_kind("chain") if recorder.parent_name(r) == "deepsearch"
    }
    assert {
        "prepare",
        "plan",
        "search",
        "rank_urls",
        "read",
        "answer",
        "evaluate",
        "finalize",
    } <= node_names

    llm_runs = recorder.of_kind("llm")
    assert llm_runs
    for run in llm_runs:
        role_tags = [t for t in run.tags if t.startswith("role:")]
        assert role_tags == [f"role:{run.metadata['role']}"], run.tags
        assert run.name == run.metadata["role"]
    planner = [r for r in llm_runs if r.name == "planner"]
    # step 2 reads the new results and step 3 answers the pages that cover the
    # question: neither needs the planner
    assert [r.metadata["step"] for r in planner] == [1]
    assert all(r.metadata["langgraph_node"] == "plan" for r in planner)
    assert {r.name for r in llm_runs} >= {"planner", "answerer", "evaluator"}

    tools = recorder.of_kind("tool")
    searches = [t for t in tools if t.name == "search.memory"]
    reads = [t for t in tools if t.name == "read.memory"]
    assert [t.metadata["inputs"]["query"] for t in searches] == [QUESTION]
    assert all(recorder.parent_name(t) == "search" for t in searches)
    assert "tool:search" in searches[0].tags and "provider:memory" in searches[0].tags
    assert {r["url"] for r in searches[0].outputs["results"]} >= set(result.read_urls)
    assert sorted(t.metadata["inputs"]["url"] for t in reads) == sorted(result.read_urls)
    assert all(recorder.parent_name(t) == "read" and t.outputs["chars"] > 0 for t in reads)


async def test_a_failed_provider_call_is_traced_as_a_tool_error(
    traced_graph: Any, memory_search: MemorySearch
) -> None:
    memory_search.fail = True
    recorder = TraceRecorder()
    await run_traced(traced_graph, recorder)
    failed = [t for t in recorder.of_kind("tool") if t.name == "search.memory"]
    assert failed and all("search backend down" in (t.error or "") for t in failed)


async def test_wrappers_work_outside_a_run_and_do_not_double_wrap(
    memory_search: MemorySearch, memory_reader: MemoryReader
) -> None:
    search = traced_search(memory_search)
    assert isinstance(search, TracedSearch) and traced_search(search) is search
    reader = traced_reader(memory_reader)
    assert isinstance(reader, TracedReader) and traced_reader(reader) is reader
    assert search.name == "memory" and reader.name == "memory"
    response = await search.search("Statue of Liberty")
    assert response.results[0].url == "https://example.org/news/statue-of-liberty"
    page = await reader.read(response.results[0].url)
    assert "Bartholdi" in page.text
    with pytest.raises(ProviderError):
        await reader.read("https://example.org/missing")


def test_step_metadata_carries_budget_progress() -> None:
    state = {"step": 4, "tokens_used": 1200, "budget_tokens": 100_000, "worker": "w2"}
    assert step_metadata(state) == {
        "step": 4,
        "tokens_used": 1200,
        "budget_tokens": 100_000,
        "worker": "w2",
    }
    assert "worker" not in step_metadata({"step": 1})
