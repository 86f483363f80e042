"""MCP over streamable HTTP at /mcp on the API server, with the official MCP client SDK.

The server is the real app (``create_app``) under uvicorn on 127.0.0.1, its default
graph built from settings that point at a local OpenAI-compatible server driven by
the brain, the real SearXNG provider and the direct reader on the local test web.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp.shared.exceptions import McpError
from pydantic import SecretStr

from deepsearch.server.app import create_app
from deepsearch.settings import NO_LLM_MESSAGE, Settings
from tests.support.api_server import local_settings, new_model, scripted_graph, server_settings
from tests.support.brain import Brain
from tests.support.llm_server import LLMServer
from tests.support.mcp_client import (
    OTHER_QUESTION,
    QUESTION,
    Progress,
    cancel,
    http_session,
    next_request_id,
    text_of,
    unverified_quotes,
    wait_until,
)
from tests.support.servers import serve
from tests.support.testweb import TestWeb

KEY = "mcp-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
LOW = {"question": QUESTION, "reasoning_effort": "low"}


@dataclass
class Api:
    """A running API server and the LLM server behind it."""

    base: str
    llm: LLMServer

    @property
    def url(self) -> str:
        return self.base + "/mcp"

    async def active_runs(self) -> int:
        async with httpx.AsyncClient() as client:
            return int((await client.get(self.base + "/health")).json()["active_runs"])


def web_settings(llm_base: str, web: TestWeb, folder: Path) -> Settings:
    return Settings(
        OPENAI_BASE_URL=llm_base + "/v1",
        OPENAI_API_KEY=SecretStr("test"),
        DEEPSEARCH_MODEL="brain",
        DEEPSEARCH_SEARCH_PROVIDER="searxng",
        SEARXNG_URL=web.base_url,
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
        DEEPSEARCH_CACHE=str(folder / "cache.sqlite3"),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def api(testweb: TestWeb, tmp_path: Path) -> Iterator[Api]:
    llm = LLMServer(Brain())
    with serve(llm.app) as llm_base:
        app = create_app(
            settings=web_settings(llm_base, testweb, tmp_path),
            server_settings=server_settings(
                DEEPSEARCH_API_KEY=KEY, DEEPSEARCH_CORS_ORIGINS="http://ui.example"
            ),
        )
        with serve(app) as base:
            yield Api(base, llm)


async def test_the_tool_is_listed_with_its_input_and_output_schemas(api: Api) -> None:
    async with http_session(api.url, AUTH) as session:
        tools = (await session.list_tools()).tools
    assert [tool.name for tool in tools] == ["deep_search"]
    tool = tools[0]
    assert tool.description and "citations" in tool.description
    assert tool.annotations is not None and tool.annotations.readOnlyHint is True
    schema = tool.inputSchema
    assert schema["required"] == ["question"]
    assert schema["additionalProperties"] is False
    options = schema["properties"]
    assert {
        "question",
        "reasoning_effort",
        "budget_tokens",
        "max_attempts",
        "team_size",
        "boost_hostnames",
        "bad_hostnames",
        "only_hostnames",
        "search_provider",
        "search_language_code",
        "language_code",
    } <= set(options)
    assert options["reasoning_effort"]["enum"] == ["low", "medium", "high"]
    assert all(prop.get("description") for prop in options.values())
    assert "arxiv" in json.dumps(options["search_provider"])

    output = tool.outputSchema
    assert output is not None
    assert set(output["required"]) >= {"answer", "references", "visitedURLs", "readURLs", "usage"}
    reference = output["$defs"]["Reference"]["properties"]
    assert set(reference) == {"url", "title", "exactQuote", "dateTime"}


async def test_a_call_returns_a_cited_answer_whose_quotes_occur_in_the_pages(
    api: Api, testweb: TestWeb
) -> None:
    progress = Progress()
    async with http_session(api.url, AUTH) as session:
        result = await session.call_tool("deep_search", LOW, progress_callback=progress)

    assert not result.isError, text_of(result)
    content: dict[str, Any] = result.structuredContent or {}
    page = f"{testweb.base_url}/news/statue-of-liberty"
    assert "Bartholdi" in content["answer"] and "[^1]" in content["answer"]
    assert content["references"][0]["url"] == page
    assert unverified_quotes(content, testweb) == []
    assert page in content["readURLs"] and page in content["visitedURLs"]
    assert content["usage"]["total_tokens"] > 0 and content["mode"] == "researched"

    markdown = text_of(result)
    assert markdown.startswith(content["answer"].strip())
    quote = content["references"][0]["exactQuote"]
    assert f"[^1]: [Statue of Liberty]({page}) (2022-06-10): \u201c{quote}\u201d" in markdown

    messages = progress.messages
    assert any("· search: " + QUESTION in m for m in messages), messages
    assert any(f"· read: {page}" in m for m in messages), messages
    assert any("· verdict: passed" in m for m in messages), messages
    values = [value for value, _, _ in progress.seen]
    assert values == sorted(set(values)), "progress grows with every notification"
    assert {total for _, total, _ in progress.seen} == {100_000.0}, "tokens against the budget"
    assert values[-1] <= content["usage"]["total_tokens"] + len(values)


async def test_cancelling_a_call_stops_its_run(api: Api) -> None:
    api.llm.hold_after = 1  # the run's second LLM call waits until released
    progress = Progress()
    outcome: dict[str, Any] = {}
    async with http_session(api.url, AUTH) as session:
        request_id = next_request_id(session)

        async def call() -> None:
            try:
                outcome["result"] = await session.call_tool(
                    "deep_search", LOW, progress_callback=progress
                )
            except McpError as exc:
                outcome["error"] = exc

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            await wait_until(lambda: api.llm.held >= 1, "the run reached its second LLM call")
            await wait_until(lambda: bool(progress.seen), "progress while the run goes on")
            assert await api.active_runs() == 1
            assert "result" not in outcome, "progress arrived during the run, not after it"
            await cancel(session, request_id)
            await wait_until_async(api.active_runs, 0)
            group.cancel_scope.cancel()
        assert "result" not in outcome
        calls_at_cancel = len(api.llm.requests)
        assert calls_at_cancel == 2

        api.llm.hold_after = None  # the held call may be answered now; nobody waits for it
        again = await session.call_tool(
            "deep_search", {"question": OTHER_QUESTION, "reasoning_effort": "low"}
        )
        assert not again.isError, text_of(again)
        assert "Dijon" in (again.structuredContent or {})["answer"]

    later = api.llm.requests[calls_at_cancel:]
    assert later, "the second call ran"
    assert not [r for r in later if QUESTION in json.dumps(r, ensure_ascii=False)], (
        "the cancelled run called the LLM again"
    )


async def wait_until_async(probe: Any, expected: int, limit: float = 60) -> None:
    """Poll an async probe until it returns ``expected`` (the limit bounds a hung test)."""
    with anyio.fail_after(limit):
        while await probe() != expected:
            await anyio.sleep(0.02)


async def test_bad_arguments_are_a_clean_tool_error_and_start_no_run(api: Api) -> None:
    bad: list[tuple[dict[str, Any], str]] = [
        ({}, "question is required"),
        ({"question": "   "}, "question: must not be empty"),
        ({"question": "q", "reasoning_effort": "max"}, "reasoning_effort must be one of"),
        ({"question": "q", "budget_tokens": 5}, "budget_tokens must be at least 1000, got 5"),
        ({"question": "q", "team_size": 99}, "team_size must be at most 8, got 99"),
        ({"question": "q", "only_hostnames": [""]}, "only_hostnames.0"),
        ({"question": "q", "language_code": "english!"}, "language_code"),
        ({"question": "q", "search_provider": "bing"}, "search_provider"),
        ({"question": "q", "search_provider": "brave"}, "BRAVE_API_KEY"),
        ({"question": "q", "depth": 3}, "'depth' is not an argument of deep_search"),
    ]
    async with http_session(api.url, AUTH) as session:
        for arguments, expected in bad:
            result = await session.call_tool("deep_search", arguments)
            assert result.isError, arguments
            text = text_of(result)
            assert text.startswith("Invalid arguments for deep_search: "), text
            assert expected in text, (arguments, text)
            assert "Traceback" not in text and "pydantic" not in text
        unknown = await session.call_tool("research", {"question": "q"})
        assert unknown.isError and "deep_search" in text_of(unknown)
        # Lists may come as text, as some hosts send them.
        fine = await session.call_tool(
            "deep_search", {**LOW, "bad_hostnames": "pinterest.com, Quora.com"}
        )
        assert not fine.isError, text_of(fine)
    assert len(api.llm.requests) > 0, "only the last call ran"


async def test_an_unconfigured_llm_is_a_tool_error_with_the_how_to(testweb: TestWeb) -> None:
    app = create_app(settings=local_settings(), server_settings=server_settings())
    with serve(app) as base:
        async with http_session(base + "/mcp") as session:
            result = await session.call_tool("deep_search", LOW)
            assert result.isError
            assert text_of(result) == NO_LLM_MESSAGE
            again = await session.call_tool("deep_search", LOW)
            assert again.isError and text_of(again) == NO_LLM_MESSAGE, "the server kept serving"
            assert [t.name for t in (await session.list_tools()).tools] == ["deep_search"]


async def test_the_api_key_and_the_origin_guard_the_endpoint(api: Api) -> None:
    hello = HELLO
    accept = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(timeout=30) as client:
        missing = await client.post(api.url, json=hello, headers=accept)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = await client.post(
            api.url, json=hello, headers={**accept, "Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
        rebound = await client.post(
            api.url, json=hello, headers={**accept, **AUTH, "Origin": "http://attacker.example"}
        )
        assert rebound.status_code == 403
        assert rebound.json()["error"]["code"] == "origin_not_allowed"
        allowed = await client.post(
            api.url, json=hello, headers={**accept, **AUTH, "Origin": "http://ui.example"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["mcp-session-id"]
        public = await client.get(api.base + "/health")
        assert public.status_code == 200
    with pytest.raises(Exception):  # noqa: B017 (the SDK surfaces the 401 as an HTTP error)
        async with http_session(api.url, {"Authorization": "Bearer nope"}):
            pass


async def test_without_its_lifespan_the_endpoint_says_so() -> None:
    app = create_app(settings=local_settings(), server_settings=server_settings())
    transport = httpx.ASGITransport(app=app)  # runs no lifespan
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        reply = await client.post("/mcp", json={})
    assert reply.status_code == 503 and "lifespan" in reply.json()["error"]


HELLO = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
CALL = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "deep_search", "arguments": LOW, "_meta": {"progressToken": "t"}},
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


def stream_until_the_model_is_called(url: str, headers: dict[str, str], model: Any) -> None:
    """POST the call, read its stream until the run reaches the model, then hang up."""
    with httpx.stream("POST", url, json=CALL, headers=headers, timeout=30) as reply:
        for line in reply.iter_lines():
            if line.startswith("data:") and model.started.wait(10):
                break


def test_a_stateless_endpoint_cancels_a_call_whose_stream_is_closed() -> None:
    model = new_model(block=True)
    settings = server_settings(DEEPSEARCH_MCP_STATELESS=True)
    with serve(create_app(graph=scripted_graph(model), server_settings=settings)) as base:
        stream_until_the_model_is_called(base + "/mcp", ACCEPT, model)
        assert model.cancelled.wait(10), "closing the stream cancelled the run"
        assert httpx.get(base + "/health").json()["active_runs"] == 0
    assert model.calls == 1


def test_a_session_that_ends_cancels_its_calls() -> None:
    model = new_model(block=True)
    with serve(create_app(graph=scripted_graph(model), server_settings=server_settings())) as base:
        url = base + "/mcp"
        hello = httpx.post(url, json=HELLO, headers=ACCEPT)
        session = {**ACCEPT, "mcp-session-id": hello.headers["mcp-session-id"]}
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert httpx.post(url, json=initialized, headers=session).status_code == 202
        stream_until_the_model_is_called(url, session, model)
        # A stateful session outlives a dropped stream (the client may come back for it) ...
        assert httpx.get(base + "/health").json()["active_runs"] == 1
        assert not model.cancelled.is_set()
        # ... and its calls stop when it ends.
        assert httpx.delete(url, headers=session).status_code == 200
        assert model.cancelled.wait(10)
        assert httpx.get(base + "/health").json()["active_runs"] == 0
    assert model.calls == 1
