"""The ``deep_search`` tool through the MCP SDK's in-memory transport: results, errors, limits.

Transports have their own tests (test_mcp_http.py, test_mcp_stdio.py); here the
client and the server talk in one process over the SDK's memory streams, which
carry the same protocol messages.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp import types
from mcp.shared.memory import create_connected_server_and_client_session
from pydantic import SecretStr

from deepsearch.agent import graph
from deepsearch.api import DeepSearchResult, build_graph
from deepsearch.mcp import DeepSearchMCP
from deepsearch.mcp.output import markdown, structured
from deepsearch.mcp.progress import describe
from deepsearch.settings import Settings
from tests.support.api_server import PAGES, new_model, scripted_graph
from tests.support.mcp_client import QUESTION, Progress, text_of, wait_until
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import free_port

LOW = {"question": QUESTION, "reasoning_effort": "low"}


def result(**values: Any) -> DeepSearchResult:
    base: dict[str, Any] = {
        "question": QUESTION,
        "answer": "Bartholdi designed it.[^1]",
        "references": [
            {
                "url": "https://example.org/s",
                "title": "Statue [of] Liberty",
                "exactQuote": "designed by\n Bartholdi",
                "dateTime": None,
            }
        ],
        "visited_urls": ["https://example.org/s"],
        "read_urls": ["https://example.org/s"],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "mode": "researched",
        "steps": 2,
    }
    return DeepSearchResult(**{**base, **values})


def test_markdown_has_one_footnote_per_reference() -> None:
    text = markdown(result())
    assert text == (
        "Bartholdi designed it.[^1]\n\n"
        "[^1]: [Statue \\[of\\] Liberty](https://example.org/s): \u201cdesigned by Bartholdi\u201d"
    )
    assert markdown(result(references=[])) == "Bartholdi designed it.[^1]"
    content = structured(result())
    assert content["references"][0]["dateTime"] is None
    assert content["usage"]["total_tokens"] == 3 and content["steps"] == 2


def test_progress_lines_read_like_the_cli() -> None:
    plan = {"kind": "plan", "action": "search", "text": "Look it up.", "step": 1}
    assert describe(plan) == "Step 1 · plan: search. Look it up."
    verdict = {"kind": "verdict", "passed": False, "text": "Hedges.", "step": 3, "worker": "w2"}
    assert describe(verdict) == "[w2] Step 3 · verdict: failed: Hedges."
    assert len(describe({"kind": "read", "text": "x" * 1000})) == 300


async def test_a_run_without_an_answer_is_an_error_result_with_its_data() -> None:
    failed = DeepSearchMCP.tool_result(result(answer="I could not find enough.", mode="failed"))
    assert failed.isError and failed.structuredContent is not None
    assert failed.structuredContent["mode"] == "failed"
    empty = DeepSearchMCP.tool_result(result(answer="  ", references=[]))
    assert empty.isError and text_of(empty) == "The run produced no answer."


async def test_an_unreachable_llm_fails_the_call_not_the_server() -> None:
    settings = Settings(
        OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",  # nothing listens there
        OPENAI_API_KEY=SecretStr("test"),
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_LLM_TIMEOUT=5,
        DEEPSEARCH_CACHE=":memory:",
        _env_file=None,  # type: ignore[call-arg]
    )
    graph = build_graph(
        search=MemorySearch(PAGES), reader=MemoryReader(PAGES), settings=settings, team=False
    )
    mcp = DeepSearchMCP(graph=graph, settings=settings)
    async with create_connected_server_and_client_session(mcp.server) as client:
        failed = await client.call_tool("deep_search", LOW)
        assert failed.isError
        assert text_of(failed).startswith("The LLM endpoint failed: ")
        assert "Traceback" not in text_of(failed)
        assert [t.name for t in (await client.list_tools()).tools] == ["deep_search"]
    assert mcp.active_runs == 0


async def test_log_messages_go_to_a_client_that_asks_for_them() -> None:
    logged: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logged.append(params)

    mcp = DeepSearchMCP(graph=scripted_graph(new_model()))
    async with create_connected_server_and_client_session(
        mcp.server, logging_callback=on_log
    ) as client:
        progress = Progress()
        await client.call_tool("deep_search", LOW, progress_callback=progress)
        assert logged == [], "no log messages unless asked for"
        await client.set_logging_level("info")
        await client.call_tool("deep_search", LOW)
    assert logged and {p.logger for p in logged} == {"deepsearch"}
    assert [p.data for p in logged] == progress.messages


async def test_a_call_over_the_run_limit_waits_and_says_so() -> None:
    model = new_model(block=True)
    mcp = DeepSearchMCP(graph=scripted_graph(model), max_concurrent_runs=1)
    first, second = Progress(), Progress()
    async with (
        create_connected_server_and_client_session(mcp.server) as client,
        anyio.create_task_group() as group,
    ):
        group.start_soon(lambda: client.call_tool("deep_search", LOW, progress_callback=first))
        await wait_until(lambda: mcp.active_runs == 1 and model.calls == 1, "first run")
        group.start_soon(lambda: client.call_tool("deep_search", LOW, progress_callback=second))
        await wait_until(lambda: bool(second.seen), "the second call's first notification")
        assert second.messages == ["Step 0 · queued: Waiting for a free run slot."]
        assert mcp.active_runs == 1 and model.calls == 1
        group.cancel_scope.cancel()
    await wait_until(lambda: mcp.active_runs == 0, "every run stopped")


def test_the_graph_describes_its_input_and_output_fields() -> None:
    for schema in (graph.get_input_jsonschema(), graph.get_output_jsonschema()):
        undescribed = [k for k, v in schema["properties"].items() if not v.get("description")]
        assert undescribed == []
    answer = graph.get_output_jsonschema()["$defs"]["Answer"]["properties"]
    assert "[^n]" in answer["text"]["description"]
