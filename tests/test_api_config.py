"""``ask`` / ``aask`` take a LangChain config, so an app that embeds them can observe the run."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.outputs import LLMResult
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import GraphRecursionError

from deepsearch import Context, aask, ask, build_graph
from deepsearch.api import run_config
from deepsearch.settings import Settings
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch

QUESTION = "Who designed the Statue of Liberty?"


def app_config(handler: BaseCallbackHandler, thread_id: str) -> RunnableConfig:
    """Return the config an embedding app passes: its handler, tags, metadata, run name."""
    return {
        "callbacks": [handler],
        "tags": ["app:museum-guide"],
        "metadata": {"tenant": "acme", "request_id": "r-42"},
        "run_name": "museum-guide-research",
        "configurable": {"thread_id": thread_id},
    }


class Calls:
    """What a handler saw: the root run, and every chat model call from start to end."""

    def __init__(self) -> None:
        self.roots: list[dict[str, Any]] = []
        self.llm_starts: dict[UUID, dict[str, Any]] = {}
        self.llm_ends: dict[UUID, str] = {}

    def chain_start(self, run_id: UUID, parent: UUID | None, kw: dict[str, Any]) -> None:
        if parent is None:
            self.roots.append(
                {"name": kw.get("name"), "tags": kw.get("tags"), "metadata": kw.get("metadata")}
            )

    def llm_start(self, run_id: UUID, kw: dict[str, Any]) -> None:
        self.llm_starts[run_id] = {
            "name": kw.get("name"),
            "tags": list(kw.get("tags") or []),
            "metadata": dict(kw.get("metadata") or {}),
        }

    def llm_end(self, run_id: UUID, response: LLMResult) -> None:
        self.llm_ends[run_id] = " ".join(g.text for gens in response.generations for g in gens)

    def check(self) -> None:
        """Assert the run was observed as the app configured it."""
        assert [(r["name"], r["metadata"]["tenant"]) for r in self.roots] == [
            ("museum-guide-research", "acme")
        ]
        # The API's own metadata is still there, beside the app's.
        assert (
            self.roots[0]["metadata"]["budget_tokens"]
            == Context(reasoning_effort="low").resolved_budget()
        )
        assert "app:museum-guide" in self.roots[0]["tags"]
        assert self.llm_starts, "the handler saw no LLM call"
        assert set(self.llm_ends) == set(self.llm_starts)  # every call seen to its end
        for call in self.llm_starts.values():
            role_tags = [t for t in call["tags"] if t.startswith("role:")]
            assert role_tags == [f"role:{call['metadata']['role']}"], call["tags"]
            assert "app:museum-guide" in call["tags"]
            assert call["metadata"]["tenant"] == "acme"
            assert call["metadata"]["request_id"] == "r-42"
        seen_roles = {call["metadata"]["role"] for call in self.llm_starts.values()}
        assert {"planner", "answerer", "evaluator"} <= seen_roles
        answers = [
            self.llm_ends[run_id]
            for run_id, call in self.llm_starts.items()
            if call["metadata"]["role"] == "answerer"
        ]
        assert any("Bartholdi" in text for text in answers)


class AsyncRecorder(AsyncCallbackHandler):
    """An async handler, as an async app would register."""

    def __init__(self) -> None:
        self.calls = Calls()

    async def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self.calls.chain_start(run_id, parent_run_id, kw)

    async def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        self.calls.llm_start(run_id, kw)

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kw: Any) -> None:
        self.calls.llm_end(run_id, response)


class SyncRecorder(BaseCallbackHandler):
    """A plain (synchronous) handler, as a script calling ``ask`` would register."""

    def __init__(self) -> None:
        self.calls = Calls()

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self.calls.chain_start(run_id, parent_run_id, kw)

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        self.calls.llm_start(run_id, kw)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kw: Any) -> None:
        self.calls.llm_end(run_id, response)


@pytest.fixture(name="graph")
def graph_fixture(
    model: ScriptedChatModel,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> Any:
    return build_graph(
        model=model,
        search=memory_search,
        reader=memory_reader,
        settings=offline_settings,
        checkpointer=InMemorySaver(),
    )


async def test_aask_runs_with_the_apps_callbacks_tags_metadata_and_run_name(graph: Any) -> None:
    handler = AsyncRecorder()
    result = await aask(
        QUESTION,
        graph=graph,
        reasoning_effort="low",
        config=app_config(handler, "museum-1"),
    )
    assert "Bartholdi" in result.answer
    handler.calls.check()
    # The thread id reached the checkpointer: the run can be read back by it.
    saved = await graph.aget_state({"configurable": {"thread_id": "museum-1"}})
    assert "Bartholdi" in saved.values["answer"]["text"]


def test_ask_runs_with_a_synchronous_handler(graph: Any) -> None:
    handler = SyncRecorder()
    result = ask(
        QUESTION,
        graph=graph,
        context=Context(reasoning_effort="low"),
        config=app_config(handler, "museum-2"),
    )
    assert "Bartholdi" in result.answer
    handler.calls.check()


async def test_the_apps_recursion_limit_wins_over_the_runs_own(graph: Any) -> None:
    with pytest.raises(GraphRecursionError):
        await aask(
            QUESTION,
            graph=graph,
            config={"recursion_limit": 3, "configurable": {"thread_id": "m-3"}},
        )


def test_run_config_keeps_the_runs_defaults_under_the_apps_keys() -> None:
    ctx = Context(reasoning_effort="low", max_steps=10)
    assert run_config(ctx) == {
        "recursion_limit": 90,
        "run_name": "deepsearch",
        "metadata": {"budget_tokens": ctx.resolved_budget(), "team_size": 1},
    }
    merged = run_config(ctx, {"metadata": {"team_size": 7, "tenant": "acme"}, "tags": ["x"]})
    assert merged["metadata"] == {
        "budget_tokens": ctx.resolved_budget(),
        "team_size": 7,
        "tenant": "acme",
    }
    assert merged["tags"] == ["x"] and merged["run_name"] == "deepsearch"
