"""DeepSearch inside other apps: as a subgraph, a node, a LangChain tool, a ReAct agent's tool, LCEL."""

from __future__ import annotations

from typing import Any, cast

import pytest
from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from deepsearch.api import build_graph
from deepsearch.context import Context
from deepsearch.integrations import as_node, as_runnable, as_tool, format_answer
from deepsearch.settings import Settings
from deepsearch.state import Answer
from deepsearch.tools.llm import make_chat_model
from tests.support.agent_llm import AGENT_PREFIX, AgentLLMServer
from tests.support.brain import Brain
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.resume import GraphOnCheckpointer
from tests.support.servers import serve

QUESTION = "Who designed the Statue of Liberty?"


@pytest.fixture
def graph(make_graph: GraphOnCheckpointer) -> Any:
    """The research graph (solo loop) on the scripted model and in-memory providers."""
    return make_graph(None, team=False)


class ReportState(TypedDict, total=False):
    """A parent app's state that shares DeepSearch's input and output keys."""

    question: str
    answer: Answer
    read_urls: list[str]
    report: str


async def test_compiled_graph_runs_as_a_subgraph_node(
    graph: Any, memory_search: MemorySearch
) -> None:
    def write_report(state: ReportState) -> dict[str, Any]:
        refs = state["answer"]["references"]
        return {"report": f"{state['answer']['text']} ({len(refs)} sources)"}

    builder = StateGraph(ReportState, context_schema=Context)
    builder.add_node("research", graph)
    builder.add_node("write_report", write_report)
    builder.add_edge(START, "research")
    builder.add_edge("research", "write_report")
    builder.add_edge("write_report", END)
    parent = builder.compile(name="report_app")

    custom: list[Any] = []
    final: dict[str, Any] = {}
    async for namespace, mode, chunk in parent.astream(
        {"question": QUESTION},
        context=Context(reasoning_effort="low"),
        stream_mode=["custom", "values"],
        subgraphs=True,
    ):
        if mode == "custom":
            custom.append((namespace, chunk))
        elif mode == "values" and not namespace:
            final = cast(dict[str, Any], chunk)

    assert "Bartholdi" in final["answer"]["text"]
    assert final["answer"]["references"][0]["url"] in final["read_urls"]
    assert final["report"].endswith("(1 sources)")
    assert memory_search.queries, "the subgraph searched"
    # The research loop's reasoning stream reaches the parent, labelled with the subgraph.
    kinds = {c["kind"] for ns, c in custom}
    assert {"query", "read"} <= kinds
    assert all(ns and ns[0].startswith("research:") for ns, _ in custom)


class TopicState(TypedDict, total=False):
    """A parent app's state with its own key names."""

    topic: str
    summary: str
    details: dict[str, Any]


async def test_as_node_maps_other_state_keys(graph: Any) -> None:
    builder = StateGraph(TopicState)
    builder.add_node(
        "research", as_node(graph, question_key="topic", answer_key="summary", result_key="details")
    )
    builder.add_edge(START, "research")
    builder.add_edge("research", END)
    out = await builder.compile().ainvoke({"topic": QUESTION})
    assert "Bartholdi" in out["summary"]
    assert out["details"]["answer"] == out["summary"]
    assert out["details"]["references"][0]["exactQuote"] in out["summary"]


async def test_as_tool_returns_answer_with_sources_and_the_result_as_artifact(graph: Any) -> None:
    tool = as_tool(graph, reasoning_effort="low")
    assert tool.name == "deepsearch"
    assert set(tool.args) == {"question"}

    content = await tool.ainvoke({"question": QUESTION})
    assert "Bartholdi" in content
    assert "Sources:" in content and "https://example.org/news/statue-of-liberty" in content

    message = await tool.ainvoke(
        {"type": "tool_call", "id": "call-1", "name": "deepsearch", "args": {"question": QUESTION}}
    )
    assert isinstance(message, ToolMessage)
    assert message.tool_call_id == "call-1"
    assert message.artifact["references"][0]["url"] == "https://example.org/news/statue-of-liberty"
    assert message.artifact["mode"] in {"researched", "direct", "beast"}


def test_as_tool_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match="reasoning_efort"):
        as_tool(reasoning_efort="low")


def test_as_tool_without_a_graph_needs_no_key_until_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    tool = as_tool()
    runnable = as_runnable()
    assert tool.name == "deepsearch" and runnable.name == "deepsearch"


async def test_react_agent_calls_deepsearch_as_a_tool(
    memory_search: MemorySearch, memory_reader: MemoryReader, offline_settings: Settings
) -> None:
    brain = Brain()
    server = AgentLLMServer(brain)
    with serve(server.app) as base:
        settings = offline_settings.model_copy(
            update={"openai_base_url": base + "/v1", "model": "brain"}
        )
        research = build_graph(
            search=memory_search, reader=memory_reader, settings=settings, team=False
        )
        agent = create_agent(make_chat_model(settings), tools=[as_tool(research)])
        out = await agent.ainvoke({"messages": [{"role": "user", "content": QUESTION}]})

    tool_messages = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert len(tool_messages) == 1 and "Bartholdi" in tool_messages[0].content
    final = out["messages"][-1].content
    assert final.startswith(AGENT_PREFIX) and "Bartholdi" in final
    assert server.agent_requests == 2
    assert {"planner", "answerer"} <= set(brain.roles()), "DeepSearch's own roles ran"


async def test_as_runnable_in_an_lcel_chain(graph: Any) -> None:
    chain: Runnable[Any, Any] = (
        RunnableLambda(lambda landmark: f"Who designed the {landmark}?")
        | as_runnable(graph, output="result", reasoning_effort="low")
        | RunnableLambda(lambda result: (result["answer"], len(result["references"])))
    )
    answer, n_refs = await chain.ainvoke("Statue of Liberty")
    assert "Bartholdi" in answer and n_refs == 1

    text = await as_runnable(graph, output="text").ainvoke({"question": QUESTION})
    assert "Bartholdi" in text and "Sources:" in text

    bare = await as_runnable(graph).ainvoke([{"role": "user", "content": QUESTION}])
    assert "Bartholdi" in bare and "Sources:" not in bare


async def test_as_runnable_rejects_input_it_cannot_read(graph: Any) -> None:
    with pytest.raises(TypeError, match="question"):
        await as_runnable(graph).ainvoke(42)


def test_format_answer_numbers_sources() -> None:
    from deepsearch.api import DeepSearchResult

    result = DeepSearchResult(
        question="q",
        answer="A [^1] and B [^2].",
        references=[
            {"url": "https://a.example/", "title": "A", "exactQuote": "a", "dateTime": None},
            {"url": "https://b.example/", "title": "", "exactQuote": "b", "dateTime": None},
        ],
        visited_urls=[],
        read_urls=[],
        usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        mode="researched",
    )
    assert format_answer(result).splitlines()[-2:] == [
        "[^1]: A - https://a.example/",
        "[^2]: https://b.example/ - https://b.example/",
    ]
