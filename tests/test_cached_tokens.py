"""Prompt tokens served from the model server's cache, counted per call and per run.

llama.cpp, vLLM and OpenAI report them as ``usage.prompt_tokens_details.cached_tokens``.
The loopback server here keeps a prompt cache as llama.cpp does (see
:mod:`tests.support.llama_server`), so every count can be checked against what the
server itself reported, exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from deepsearch import Context, aask, build_graph
from deepsearch.budget import cached_share
from deepsearch.server.app import create_app
from deepsearch.settings import Settings
from deepsearch.tools import context_window
from deepsearch.tools.llm import make_llm
from tests.support.api_server import server_settings
from tests.support.brain import Brain
from tests.support.cli_env import llm_env, run_cli
from tests.support.llama_server import LlamaCppServer, local_model_settings
from tests.support.long_pages import ANSWER, QUESTION, long_pages
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import serve
from tests.support.testweb import TestWeb


@pytest.fixture
def llama(tmp_path: Path) -> Iterator[tuple[LlamaCppServer, Settings]]:
    """A llama.cpp-like server with a prompt cache, and settings that point at it."""
    context_window.forget_discovered()
    server = LlamaCppServer(Brain(), n_ctx=16_384)
    with serve(server.app) as base:
        yield (
            server,
            local_model_settings(base, str(tmp_path / "cache.sqlite3")),
        )


class Plan(BaseModel):
    """A reply shape for the LLM-level test."""

    action: str = "search"


async def test_each_call_reports_what_the_server_served_from_cache(
    llama: tuple[LlamaCppServer, Settings],
) -> None:
    server, settings = llama
    llm = make_llm(settings)
    system = "# Role: planner\n" + "Plan the next research step carefully. " * 40
    first = await llm.structured("planner", Plan, system, "Question one?", fallback=Plan)
    second = await llm.structured("planner", Plan, system, "Question two?", fallback=Plan)
    text = await llm.text("planner", system, "Question three?")
    assert first.cached_tokens == 0
    assert second.cached_tokens == server.cached_sizes[1] > 300  # the shared system prompt
    assert text.cached_tokens == server.cached_sizes[2] > 300
    assert second.prompt_tokens == server.prompt_sizes[1]


async def test_a_run_counts_its_cached_prompt_tokens(
    llama: tuple[LlamaCppServer, Settings],
) -> None:
    server, settings = llama
    pages = long_pages(paragraphs=20)
    graph = build_graph(settings=settings, search=MemorySearch(pages), reader=MemoryReader(pages))
    server.brain.fail_evaluations = 1  # a second round of calls that share prefixes
    result = await aask(QUESTION, graph=graph, context=Context(reasoning_effort="low"))
    assert ANSWER in result.answer
    usage = result.usage
    assert usage["prompt_tokens"] == sum(server.prompt_sizes)  # memory providers cost 0
    assert usage["prompt_tokens_details"]["cached_tokens"] == sum(server.cached_sizes) > 0
    assert cached_share(usage) == pytest.approx(server.cached_share)


async def test_a_team_sums_its_workers_cached_tokens(
    llama: tuple[LlamaCppServer, Settings],
) -> None:
    server, settings = llama
    server.brain.team_size_hint = 2
    pages = long_pages(paragraphs=20)
    graph = build_graph(settings=settings, search=MemorySearch(pages), reader=MemoryReader(pages))
    question = f"{QUESTION} and what do the Kestrel-9 probe launch records say?"
    result = await aask(question, graph=graph, context=Context(reasoning_effort="low", team_size=2))
    assert result.mode == "merged"
    assert result.usage["prompt_tokens_details"]["cached_tokens"] == sum(server.cached_sizes) > 0
    assert result.usage["prompt_tokens"] == sum(server.prompt_sizes)


async def test_the_api_reports_cached_tokens_in_openai_shape(
    llama: tuple[LlamaCppServer, Settings],
) -> None:
    server, settings = llama
    pages = long_pages(paragraphs=20)
    graph = build_graph(settings=settings, search=MemorySearch(pages), reader=MemoryReader(pages))
    app = create_app(graph=graph, settings=settings, server_settings=server_settings())
    body = {
        "model": "deepsearch",
        "reasoning_effort": "low",
        "messages": [{"role": "user", "content": QUESTION}],
    }
    with serve(app) as base:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            plain = (await client.post("/v1/chat/completions", json=body)).json()
            served_before = sum(server.cached_sizes)
            streamed = await client.post(
                "/v1/chat/completions",
                json={**body, "stream": True, "stream_options": {"include_usage": True}},
            )
    assert plain["usage"]["prompt_tokens_details"]["cached_tokens"] == served_before
    chunks = [
        json.loads(line[len("data: ") :])
        for line in streamed.text.splitlines()
        if line.startswith("data: {")
    ]
    usage = chunks[-1]["usage"]
    assert (
        usage["prompt_tokens_details"]["cached_tokens"] == sum(server.cached_sizes) - served_before
    )
    # The second run asked the same question: most of its prompts came from the cache.
    assert usage["prompt_tokens_details"]["cached_tokens"] > usage["prompt_tokens"] / 2


def test_the_cli_shows_the_cached_share(tmp_path: Path, testweb: TestWeb) -> None:
    server = LlamaCppServer(Brain(fail_evaluations=1), n_ctx=16_384)
    with serve(server.app) as base:
        env = llm_env(
            tmp_path,
            base,
            DEEPSEARCH_SEARCH_PROVIDER="searxng",
            SEARXNG_URL=testweb.base_url,
            DEEPSEARCH_READER="direct",
            DEEPSEARCH_ALLOW_PRIVATE_URLS="1",
        )
        proc = run_cli(
            ["ask", "Who designed the Statue of Liberty?", "--effort", "low"], env, tmp_path
        )
        as_json = run_cli(
            ["ask", "Who designed the Statue of Liberty?", "--json", "-q"], env, tmp_path
        )
    assert proc.returncode == 0, proc.stderr
    assert "Bartholdi" in proc.stdout
    assert "% of prompt tokens cached" in proc.stderr
    usage = json.loads(as_json.stdout)["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] > 0
