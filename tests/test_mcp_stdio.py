"""``deepsearch mcp`` over stdio: a subprocess driven by the official MCP client SDK (and raw).

The server process reaches its model over loopback (a local OpenAI-compatible server
driven by the brain) and searches and reads the local test web, as a desktop host's
``deepsearch mcp`` would reach Ollama and SearXNG.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TextIO

import anyio
import pytest
from mcp.shared.exceptions import McpError

from deepsearch.settings import NO_LLM_MESSAGE
from tests.support.brain import Brain
from tests.support.llm_server import LLMServer
from tests.support.mcp_client import (
    OTHER_QUESTION,
    QUESTION,
    Progress,
    cancel,
    next_request_id,
    server_command,
    stdio_env,
    stdio_session,
    text_of,
    unverified_quotes,
    wait_until,
    web_env,
)
from tests.support.servers import serve
from tests.support.testweb import TestWeb

LOW = {"question": QUESTION, "reasoning_effort": "low"}


@pytest.fixture
def llm() -> Iterator[tuple[LLMServer, str]]:
    server = LLMServer(Brain())
    with serve(server.app) as base:
        yield server, base


@pytest.fixture
def errlog(tmp_path: Path) -> Iterator[TextIO]:
    with (tmp_path / "stderr.log").open("w+") as log:
        yield log


def read_log(log: TextIO) -> str:
    return Path(log.name).read_text()


async def test_a_call_over_stdio_returns_a_cited_answer_with_progress(
    llm: tuple[LLMServer, str], testweb: TestWeb, tmp_path: Path, errlog: TextIO
) -> None:
    server, base = llm
    progress = Progress()
    async with stdio_session(web_env(tmp_path, base, testweb), tmp_path, errlog) as session:
        tools = (await session.list_tools()).tools
        assert [t.name for t in tools] == ["deep_search"]
        assert tools[0].outputSchema is not None
        assert tools[0].inputSchema["required"] == ["question"]
        result = await session.call_tool("deep_search", LOW, progress_callback=progress)

    assert not result.isError, text_of(result)
    content: dict[str, Any] = result.structuredContent or {}
    assert "Bartholdi" in content["answer"]
    assert content["references"] and unverified_quotes(content, testweb) == []
    assert f"{testweb.base_url}/news/statue-of-liberty" in content["readURLs"]
    assert "[^1]: [Statue of Liberty](" in text_of(result)
    assert any("· read: " in m for m in progress.messages), progress.messages
    assert len(server.requests) > 0, "the model was reached over loopback"
    assert "deep_search" in read_log(errlog), "logs go to stderr"


async def test_bad_arguments_and_an_unconfigured_llm_are_tool_errors_over_stdio(
    tmp_path: Path, errlog: TextIO
) -> None:
    async with stdio_session(stdio_env(tmp_path), tmp_path, errlog) as session:
        bad = await session.call_tool("deep_search", {"question": "q", "max_attempts": 0})
        assert bad.isError
        assert text_of(bad) == (
            "Invalid arguments for deep_search: max_attempts must be at least 1, got 0"
        )
        unconfigured = await session.call_tool("deep_search", LOW)
        assert unconfigured.isError and text_of(unconfigured) == NO_LLM_MESSAGE
        still = await session.call_tool("deep_search", LOW)
        assert still.isError and text_of(still) == NO_LLM_MESSAGE, "the server kept serving"
    assert "No LLM is configured" in read_log(errlog)


async def test_cancelling_over_stdio_stops_the_run(
    llm: tuple[LLMServer, str], testweb: TestWeb, tmp_path: Path, errlog: TextIO
) -> None:
    server, base = llm
    server.hold_after = 1  # the run's second LLM call waits until released
    progress = Progress()
    outcome: dict[str, Any] = {}
    async with stdio_session(web_env(tmp_path, base, testweb), tmp_path, errlog) as session:
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
            await wait_until(lambda: server.held >= 1, "the run reached its second LLM call")
            await wait_until(lambda: bool(progress.seen), "progress while the run goes on")
            await cancel(session, request_id)
            await wait_until(
                lambda: "the run was cancelled and has stopped" in read_log(errlog),
                "the server reports the run stopped",
            )
            group.cancel_scope.cancel()
        assert "result" not in outcome
        calls_at_cancel = len(server.requests)
        assert calls_at_cancel == 2

        server.hold_after = None
        again = await session.call_tool(
            "deep_search", {"question": OTHER_QUESTION, "reasoning_effort": "low"}
        )
        assert not again.isError, text_of(again)

    later = server.requests[calls_at_cancel:]
    assert later and not [r for r in later if QUESTION in json.dumps(r, ensure_ascii=False)]


def test_stdout_carries_nothing_but_the_protocol(
    llm: tuple[LLMServer, str], testweb: TestWeb, tmp_path: Path
) -> None:
    _, base = llm
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "info"}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "deep_search", "arguments": LOW, "_meta": {"progressToken": "p1"}},
        },
    ]
    proc = subprocess.Popen(
        server_command(),
        env=web_env(tmp_path, base, testweb),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        proc.stdin.flush()
        lines = read_until_response(proc.stdout, 3)
    finally:
        rest, stderr = proc.communicate(timeout=60)  # closes stdin: the server ends
    lines += rest.splitlines(keepends=True)

    parsed = [json.loads(line) for line in lines]  # every line is JSON ...
    assert all(message["jsonrpc"] == "2.0" for message in parsed)  # ... and JSON-RPC
    progress = [m for m in parsed if m.get("method") == "notifications/progress"]
    logged = [m for m in parsed if m.get("method") == "notifications/message"]
    assert progress and all(m["params"]["progressToken"] == "p1" for m in progress)
    assert len(logged) == len(progress), "each step also went out as a log message"
    assert logged[0]["params"]["logger"] == "deepsearch"
    result = next(m["result"] for m in parsed if m.get("id") == 3)
    assert result["isError"] is False and "Bartholdi" in result["structuredContent"]["answer"]
    assert proc.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr


def read_until_response(stdout: IO[str], request_id: int, limit: float = 120) -> list[str]:
    """Read stdout lines until the response to ``request_id`` (the limit bounds a hung test)."""
    lines: list[str] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = stdout.readline()
        if not line:
            break
        lines.append(line)
        if json.loads(line).get("id") == request_id and "method" not in json.loads(line):
            return lines
    raise AssertionError(f"no response to request {request_id}; stdout was: {lines[-5:]}")


def test_stray_writes_to_stdout_go_to_stderr(tmp_path: Path) -> None:
    script = (
        "import os\n"
        "from deepsearch.mcp.stdio import claim_stdout\n"
        "protocol = claim_stdout()\n"
        "print('a stray print')\n"
        "os.system('echo a child process')\n"
        'protocol.write(\'{"jsonrpc": "2.0"}\\n\'); protocol.flush()\n'
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=stdio_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == '{"jsonrpc": "2.0"}\n'
    assert "a stray print" in out.stderr and "a child process" in out.stderr
