"""`langgraph dev` serves DeepSearch offline: Studio's view, SDK runs, breakpoints, OpenAI routes.

One `langgraph dev` process (subprocess, free loopback port) for the module, with the
LLM being the brain behind a local OpenAI-compatible server, search going to the
local test web's SearXNG endpoint, and pages read from it directly.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from openai import OpenAI

from deepsearch.server.langgraph_app import MCP_PATH as LANGGRAPH_MCP_PATH
from tests.support.brain import Brain
from tests.support.langgraph_dev import REPO, DevServer, langgraph_dev, offline_env
from tests.support.llm_server import LLMServer
from tests.support.mcp_client import Progress, text_of, unverified_quotes
from tests.support.servers import serve
from tests.support.testweb import TestWeb

QUESTION = "Who designed the Statue of Liberty?"
LOW = {"reasoning_effort": "low"}


@dataclass
class Stack:
    """The dev server and the local services behind it."""

    dev: DevServer
    brain: Brain
    web: TestWeb
    env: dict[str, str]


@pytest.fixture(scope="module")
def stack(testweb: TestWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start the LLM server and `langgraph dev` wired to it and to the test web."""
    brain = Brain()
    folder = tmp_path_factory.mktemp("langgraph-dev")
    with serve(LLMServer(brain).app) as llm_url:
        env = {
            "OPENAI_BASE_URL": llm_url + "/v1",
            "OPENAI_API_KEY": "test-key",
            "DEEPSEARCH_MODEL": "brain",
            "DEEPSEARCH_SEARCH_PROVIDER": "searxng",
            "SEARXNG_URL": testweb.base_url,
            "DEEPSEARCH_ALLOW_PRIVATE_URLS": "1",
            "DEEPSEARCH_EMBEDDINGS": "local",
            "DEEPSEARCH_READER": "direct",
            "DEEPSEARCH_CACHE": str(folder / "cache.sqlite3"),
        }
        with langgraph_dev(folder, env) as dev:
            yield Stack(dev=dev, brain=brain, web=testweb, env=env)


def page_url(stack: Stack, path: str) -> str:
    return stack.web.base_url + path


async def test_studio_lists_the_graph_with_its_option_form_and_drawing(stack: Stack) -> None:
    client = get_client(url=stack.dev.url)
    assistants = await client.assistants.search()
    by_graph = {a["graph_id"]: a for a in assistants}
    assert set(by_graph) == {"deepsearch"}

    schemas = await client.assistants.get_schemas(by_graph["deepsearch"]["assistant_id"])
    options = (schemas["context_schema"] or {})["properties"]
    assert {"reasoning_effort", "budget_tokens", "team_size", "only_hostnames"} <= set(options)
    assert options["reasoning_effort"]["enum"] == ["low", "medium", "high"]

    drawing = await client.assistants.get_graph(by_graph["deepsearch"]["assistant_id"], xray=True)
    nodes = {n["id"] for n in drawing["nodes"]}
    assert {"team_plan", "team_merge", "plan", "answer", "worker:plan"} <= nodes
    loop = await client.assistants.get_graph(by_graph["deepsearch"]["assistant_id"])
    edges = {(e["source"], e["target"]) for e in loop["edges"]}
    assert {("plan", "search"), ("search", "rank_urls"), ("answer", "evaluate")} <= edges


async def test_studio_gets_input_and_output_schemas(stack: Stack) -> None:
    client = get_client(url=stack.dev.url)
    schemas = await client.assistants.get_schemas(
        (await client.assistants.search())[0]["assistant_id"]
    )
    assert schemas["input_schema"] is not None, (
        "Studio has no input form: pydantic cannot build a JSON schema from typing.TypedDict "
        "on Python < 3.12; deepsearch/state/ must import TypedDict from typing_extensions"
    )
    assert {"question", "messages"} <= set(schemas["input_schema"]["properties"])
    assert {"answer", "read_urls"} <= set((schemas["output_schema"] or {})["properties"])


async def test_sdk_run_streams_reasoning_and_leaves_the_answer_in_the_thread(stack: Stack) -> None:
    client = get_client(url=stack.dev.url)
    thread = await client.threads.create()
    queries_before = len(stack.web.queries)
    custom: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    async for part in client.runs.stream(
        thread["thread_id"],
        "deepsearch",
        input={"question": QUESTION},
        context=LOW,
        stream_mode=["custom", "values"],
    ):
        if part.event == "custom":
            custom.append(part.data)
        elif part.event == "values":
            values.append(part.data)
        assert part.event != "error", part.data

    kinds = [event["kind"] for event in custom]
    assert "query" in kinds and "read" in kinds
    assert all(event["type"] == "progress" for event in custom)
    assert stack.web.queries[queries_before:], "search went to the local SearXNG endpoint"
    assert "Bartholdi" in values[-1]["answer"]["text"]

    state = await client.threads.get_state(thread["thread_id"])
    answer = state["values"]["answer"]  # type: ignore[call-overload]
    assert "Bartholdi" in answer["text"]
    assert answer["references"][0]["url"] == page_url(stack, "/news/statue-of-liberty")
    assert state["next"] == []
    runs = await client.runs.list(thread["thread_id"])
    assert [r["status"] for r in runs] == ["success"]


async def test_breakpoint_before_answer_then_resume_on_the_same_thread(stack: Stack) -> None:
    client = get_client(url=stack.dev.url)
    thread = await client.threads.create()
    calls_before = len(stack.brain.calls)
    await client.runs.wait(
        thread["thread_id"],
        "deepsearch",
        input={"question": QUESTION},
        context=LOW,
        interrupt_before=["answer"],
    )
    paused = await client.threads.get_state(thread["thread_id"])
    assert paused["next"] == ["answer"]
    assert "answer" not in paused["values"]
    roles_paused = [c.role for c in stack.brain.calls[calls_before:]]
    assert "answerer" not in roles_paused and "planner" in roles_paused
    queries = list(stack.web.queries)

    await client.runs.wait(thread["thread_id"], "deepsearch", input=None, context=LOW)
    done = await client.threads.get_state(thread["thread_id"])
    assert done["next"] == []
    assert "Bartholdi" in done["values"]["answer"]["text"]  # type: ignore[call-overload]
    resumed_roles = [c.role for c in stack.brain.calls[calls_before + len(roles_paused) :]]
    assert resumed_roles[0] == "answerer" and "planner" not in resumed_roles
    assert stack.web.queries == queries, "the resumed run did not search again"


def test_openai_route_is_served_by_the_same_process(stack: Stack) -> None:
    if stack.dev.http_app_missing:
        pytest.skip(f"OpenAI routes not mounted: {stack.dev.http_app_missing}")
    assert httpx.get(stack.dev.url + "/health", timeout=10).status_code == 200
    client = OpenAI(base_url=stack.dev.url + "/v1", api_key="unused", max_retries=0, timeout=120)
    models = [m.id for m in client.models.list().data]
    assert "jina-deepsearch-v1" in models
    reply = client.chat.completions.create(
        model="jina-deepsearch-v1",
        messages=[{"role": "user", "content": QUESTION}],
        reasoning_effort="low",
    )
    assert "Bartholdi" in (reply.choices[0].message.content or "")

    pieces: list[str] = []
    for chunk in client.chat.completions.create(
        model="jina-deepsearch-v1",
        messages=[{"role": "user", "content": QUESTION}],
        reasoning_effort="low",
        stream=True,
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    text = "".join(pieces)
    assert text.startswith("<think>") and "</think>" in text
    assert "Bartholdi" in text.split("</think>", 1)[1]


async def test_langgraph_mcp_and_deepsearch_mcp_serve_side_by_side(stack: Stack) -> None:
    """LangGraph's own /mcp (graphs as tools) and DeepSearch's tool at /deepsearch/mcp."""
    if stack.dev.http_app_missing:
        pytest.skip(f"DeepSearch routes not mounted: {stack.dev.http_app_missing}")
    async with (
        streamable_http_client(stack.dev.url + "/mcp") as (read, write, _),
        ClientSession(read, write) as session,
    ):
        hello = await session.initialize()
        assert hello.serverInfo.name == "LangGraph", "/mcp is still LangGraph's own endpoint"
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        graph_tool = tools["deepsearch"]
        assert graph_tool.description and graph_tool.description.startswith("Deep web research")
        question = graph_tool.inputSchema["properties"]["question"]
        assert "self-contained" in question["description"]
        reply = await session.call_tool("deepsearch", {"question": QUESTION})
        assert not reply.isError and "Bartholdi" in text_of(reply)

    progress = Progress()
    async with (
        streamable_http_client(stack.dev.url + LANGGRAPH_MCP_PATH) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        hello = await session.initialize()
        assert hello.serverInfo.name == "deepsearch"
        assert [t.name for t in (await session.list_tools()).tools] == ["deep_search"]
        result = await session.call_tool(
            "deep_search", {"question": QUESTION, **LOW}, progress_callback=progress
        )
    assert not result.isError, text_of(result)
    content = result.structuredContent or {}
    assert "Bartholdi" in content["answer"] and unverified_quotes(content, stack.web) == []
    assert any("· read: " in message for message in progress.messages)


def test_sdk_client_example_runs_against_the_server(stack: Stack) -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "sdk_client.py"), QUESTION],
        env=offline_env({"LANGGRAPH_URL": stack.dev.url}),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "[query]" in out.stdout
    assert "Answer:" in out.stdout and "Bartholdi" in out.stdout.split("Answer:", 1)[1]
    assert "/news/statue-of-liberty" in out.stdout


def test_dev_server_made_no_outbound_calls(stack: Stack) -> None:
    log = Path(stack.dev.log_path).read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert "BlockingError" not in log


def test_every_module_langgraph_json_names_imports_without_keys(tmp_path: Path) -> None:
    script = (
        "import json, importlib.util, sys\n"
        "config = json.load(open('langgraph.json'))\n"
        "targets = [g['path'] if isinstance(g, dict) else g for g in config['graphs'].values()]\n"
        "targets.append(config['http']['app'])\n"
        "for target in targets:\n"
        "    path, attr = target.split(':')\n"
        "    spec = importlib.util.spec_from_file_location('m' + str(len(path)), path)\n"
        "    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "    obj = getattr(module, attr)\n"
        "    print(target, type(obj).__name__, getattr(obj, 'checkpointer', 'n/a'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=offline_env({"HOME": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert "./deepsearch/agent.py:graph CompiledStateGraph None" in lines
    assert any(
        line.startswith("./deepsearch/server/langgraph_app.py:app FastAPI") for line in lines
    )
