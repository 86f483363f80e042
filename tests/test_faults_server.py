"""Faults through the HTTP server: every stream ends in an answer or a clean error chunk.

The server runs DeepSearch on a real ``ChatOpenAI`` against a faulty LLM server, with
faulty search and pages; concurrent streaming clients read each run to ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from deepsearch.server.app import create_app
from tests.support.api_server import server_settings
from tests.support.fault_runs import API_KEY, QUESTIONS, faulty_stack
from tests.support.faults import ALL_FAULTS
from tests.support.load_runs import DiagApp, diag, request_body, settle
from tests.support.servers import serve


async def read_stream(client: httpx.AsyncClient, base: str, question: str) -> list[dict[str, Any]]:
    """Read one streamed run; return its chunks, or raise if it never reaches [DONE]."""
    chunks: list[dict[str, Any]] = []
    body = request_body(True, question)
    async with client.stream("POST", f"{base}/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line == "data: [DONE]":
                return chunks
            if line.startswith("data: "):
                chunks.append(json.loads(line[len("data: ") :]))
    raise AssertionError("the stream ended without [DONE]")


def ending(chunks: list[dict[str, Any]]) -> str:
    """Classify how a stream ended: ``stop`` (an answer) or ``error`` (a clean error chunk)."""
    last = chunks[-1]
    finish = last["choices"][0]["finish_reason"]
    if finish == "error":
        assert set(last["error"]) >= {"message", "type", "code"}
        assert last["choices"][0]["delta"]["type"] == "error"
    else:
        assert finish == "stop" and "usage" in last
    return str(finish)


async def test_streams_under_faults_end_in_an_answer_or_a_clean_error(tmp_path: Path) -> None:
    rates = {kind: 0.3 / len(ALL_FAULTS) for kind in ALL_FAULTS}
    with faulty_stack(rates, rates, seed=21) as stack:
        graph = stack.graph(stack.settings(str(tmp_path), timeout=0.5), timeout=0.5)
        app = DiagApp(create_app(graph=graph, server_settings=server_settings()))
        with serve(app) as base:
            async with httpx.AsyncClient(timeout=120) as client:
                streams = await asyncio.gather(
                    *(read_stream(client, base, q) for q in QUESTIONS * 2)
                )
                await settle(client, base)
                after = await diag(client, base, collect=True)
    endings = [ending(chunks) for chunks in streams]
    assert "stop" in endings
    assert after["tasks"] == 0, after["task_names"]
    assert stack.faults_injected().total() > 0


async def test_a_dead_llm_ends_every_stream_with_a_clean_error(tmp_path: Path) -> None:
    with faulty_stack({"http_500": 1.0}, {}, seed=22) as stack:
        graph = stack.graph(stack.settings(str(tmp_path)))
        app = DiagApp(create_app(graph=graph, server_settings=server_settings()))
        with serve(app) as base:
            async with httpx.AsyncClient(timeout=120) as client:
                streams = await asyncio.gather(
                    *(read_stream(client, base, q) for q in QUESTIONS[:2])
                )
                await settle(client, base)
                after = await diag(client, base, collect=True)
    assert [ending(chunks) for chunks in streams] == ["error", "error"]
    assert all(API_KEY not in json.dumps(chunks) for chunks in streams)  # no key leaks
    assert after["tasks"] == 0
