"""Every example in examples/ runs offline against local servers (a subprocess per run).

The environment points the examples at a local OpenAI-compatible server (the brain,
plus a tool-calling agent turn) and at the test web's SearXNG endpoint, exactly as a
user would point them at Ollama and a SearXNG instance.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deepsearch.server.app import create_app
from deepsearch.settings import Settings
from tests.support.agent_llm import AGENT_PREFIX, AgentLLMServer
from tests.support.api_server import server_settings
from tests.support.brain import Brain
from tests.support.langgraph_dev import REPO, offline_env
from tests.support.servers import serve
from tests.support.testweb import TestWeb

QUESTION = "Who designed the Statue of Liberty?"


@dataclass
class Local:
    """The local services and the environment that points at them."""

    env: dict[str, str]
    brain: Brain
    llm: AgentLLMServer
    web: TestWeb


@pytest.fixture(scope="module")
def local(testweb: TestWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    brain = Brain()
    llm = AgentLLMServer(brain)
    folder = tmp_path_factory.mktemp("examples")
    with serve(llm.app) as llm_url:
        env = offline_env(
            {
                "OPENAI_BASE_URL": llm_url + "/v1",
                "DEEPSEARCH_MODEL": "brain",
                "DEEPSEARCH_SEARCH_PROVIDER": "searxng",
                "SEARXNG_URL": testweb.base_url,
                "DEEPSEARCH_ALLOW_PRIVATE_URLS": "1",
                "DEEPSEARCH_EMBEDDINGS": "local",
                "DEEPSEARCH_READER": "direct",
                "DEEPSEARCH_CACHE": str(folder / "cache.sqlite3"),
            }
        )
        yield Local(env=env, brain=brain, llm=llm, web=testweb)


def run_example(local: Local, name: str, *args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), *args],
        env=local.env,
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_react_agent_example(local: Local) -> None:
    before = local.llm.agent_requests
    out = run_example(local, "react_agent.py", QUESTION)
    assert "Tool deepsearch answered:" in out and "Sources:" in out
    agent_line = out.split("Agent:", 1)[1]
    assert AGENT_PREFIX in agent_line and "Bartholdi" in agent_line
    assert local.llm.agent_requests - before == 2


def test_lcel_chain_example(local: Local) -> None:
    out = run_example(local, "lcel_chain.py", "Statue of Liberty")
    assert out.startswith("## Who designed the Statue of Liberty?")
    assert "Bartholdi" in out
    assert f"({local.web.base_url}/news/statue-of-liberty)" in out


def test_subgraph_example(local: Local) -> None:
    out = run_example(local, "subgraph.py", QUESTION)
    assert "[query]" in out and "[read]" in out, "the reasoning stream reached the parent"
    briefing = out[out.index("Q: ") :]
    assert "A: " in briefing and "Bartholdi" in briefing
    assert f"1. {local.web.base_url}/news/statue-of-liberty" in briefing


def test_resume_example_continues_the_thread_in_a_second_process(
    local: Local, tmp_path: Path
) -> None:
    db = str(tmp_path / "runs.sqlite3")
    common = ["--db", db, "--thread", "t1"]
    first = run_example(local, "resume_run.py", *common, "--pause-before", "answer", QUESTION)
    assert "Paused on thread 't1' before ['answer']" in first
    queries = list(local.web.queries)
    answerer_calls = local.brain.roles().count("answerer")

    second = run_example(local, "resume_run.py", *common, "--resume")
    assert "Resuming thread 't1' at ['answer']" in second
    assert "Bartholdi" in second.split("Answer:", 1)[1]
    assert "Steps: 3" in second
    assert local.web.queries == queries, "the resumed run did not search again"
    assert local.brain.roles().count("answerer") == answerer_calls + 1


def test_resume_example_refuses_a_finished_thread(local: Local, tmp_path: Path) -> None:
    db = str(tmp_path / "done.sqlite3")
    run_example(local, "resume_run.py", "--db", db, "--thread", "t2", QUESTION)
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "resume_run.py"),
            "--db",
            db,
            "--thread",
            "t2",
            "--resume",
        ],
        env=local.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and "no interrupted run" in proc.stderr


def test_mcp_agent_example_over_stdio(local: Local) -> None:
    before = local.llm.agent_requests
    out = run_example(local, "mcp_agent.py", QUESTION)
    assert "[deepsearch] Step 1 · plan: " in out, "progress notifications reached the agent"
    assert "Tool deep_search answered:" in out
    page = f"{local.web.base_url}/news/statue-of-liberty"
    assert f"[^1]: [Statue of Liberty]({page})" in out
    agent_line = out.split("Agent:", 1)[1]
    assert AGENT_PREFIX in agent_line and "Bartholdi" in agent_line
    assert local.llm.agent_requests - before == 2


def test_mcp_agent_example_over_http(local: Local, tmp_path: Path) -> None:
    settings = Settings(
        OPENAI_BASE_URL=local.env["OPENAI_BASE_URL"],
        DEEPSEARCH_MODEL="brain",
        DEEPSEARCH_SEARCH_PROVIDER="searxng",
        SEARXNG_URL=local.web.base_url,
        DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_CACHE=str(tmp_path / "cache.sqlite3"),
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings=settings, server_settings=server_settings(DEEPSEARCH_API_KEY="k1"))
    with serve(app) as base:
        url = base + "/mcp"
        out = run_example(local, "mcp_agent.py", "--url", url, "--api-key", "k1", QUESTION)
    assert "[deepsearch] Step 1 · plan: " in out and "Tool deep_search answered:" in out
    assert "Bartholdi" in out.split("Agent:", 1)[1]
