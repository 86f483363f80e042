"""The ``deepsearch`` command end to end, in a subprocess.

The LLM is the scripted brain behind a real OpenAI-compatible HTTP server; search is
the SearXNG provider against the local test web; pages are fetched by the direct
reader. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from deepsearch.cli.options import Effort, Provider, RunOptions, with_run_options
from tests.support.brain import Brain
from tests.support.cli_env import base_env, command, llm_env, run_cli
from tests.support.llm_server import LLMServer
from tests.support.servers import free_port, serve
from tests.support.testweb import TestWeb

QUESTION = "Who designed the Statue of Liberty?"


@pytest.fixture
def llm() -> Iterator[tuple[LLMServer, str]]:
    """An OpenAI-compatible server driven by a fresh brain, and its base URL."""
    server = LLMServer(Brain())
    with serve(server.app) as base:
        yield server, base


@pytest.fixture
def web_env(tmp_path: Path, llm: tuple[LLMServer, str], testweb: TestWeb) -> dict[str, str]:
    """The CLI's environment: test LLM, SearXNG on the test web, direct reader."""
    return llm_env(
        tmp_path,
        llm[1],
        DEEPSEARCH_SEARCH_PROVIDER="searxng",
        SEARXNG_URL=testweb.base_url,
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_ALLOW_PRIVATE_URLS="1",
    )


def test_ask_shows_the_run_live_then_the_cited_answer(
    tmp_path: Path, web_env: dict[str, str], testweb: TestWeb
) -> None:
    proc = run_cli(["ask", QUESTION, "--effort", "low"], web_env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    live = proc.stderr
    assert "Question: " + QUESTION in live
    assert "search" in live and QUESTION in live  # the query line
    assert f"{testweb.base_url}/" in live  # a URL being read
    assert "verdict" in live and "passed every check" in live
    assert "tok" in live and "/100,000" in live  # tokens against the low-effort budget
    assert "Bartholdi" in proc.stdout
    assert "References" in proc.stdout and testweb.base_url in proc.stdout
    assert "[^1]" not in proc.stdout  # footnote markers are shown as [1]


def test_ask_json_prints_the_result_only(
    tmp_path: Path, web_env: dict[str, str], testweb: TestWeb
) -> None:
    proc = run_cli(["ask", QUESTION, "--json", "-q", "--budget", "60000"], web_env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    assert set(data) >= {"question", "answer", "references", "usage", "mode", "read_urls"}
    assert data["question"] == QUESTION and "Bartholdi" in data["answer"]
    assert data["references"] and data["references"][0]["url"].startswith(testweb.base_url)
    assert 0 < data["usage"]["total_tokens"] <= 60000 + 20000


@pytest.mark.parametrize(
    ("method", "expects_json_object"), [("json_mode", True), ("prompt", False)]
)
def test_structured_output_method_reaches_the_server(
    tmp_path: Path,
    web_env: dict[str, str],
    llm: tuple[LLMServer, str],
    method: str,
    expects_json_object: bool,
) -> None:
    env = {**web_env, "DEEPSEARCH_STRUCTURED_OUTPUT": method}
    proc = run_cli(["ask", QUESTION, "-q"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Bartholdi" in proc.stdout
    formats = [r.get("response_format") for r in llm[0].requests]
    assert formats
    json_object = [f for f in formats if f == {"type": "json_object"}]
    assert bool(json_object) is expects_json_object
    # Local servers ignore max_completion_tokens: the CLI must send max_tokens.
    assert all("max_tokens" in r for r in llm[0].requests)


def test_an_interrupted_run_resumes_on_its_thread(
    tmp_path: Path, web_env: dict[str, str], llm: tuple[LLMServer, str]
) -> None:
    llm[0].hold_after = 3  # the model stops answering after its third reply: the run hangs
    proc = subprocess.Popen(
        command("ask", QUESTION, "--thread", "t-resume"),
        env=web_env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not llm[0].held and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llm[0].held, "the run never reached its fourth model call"
    proc.send_signal(signal.SIGKILL)  # killed mid-run, waiting on the model
    proc.wait(timeout=30)
    llm[0].hold_after = None
    db = Path(web_env["DEEPSEARCH_HOME"]) / "checkpoints.sqlite"
    with sqlite3.connect(db) as conn:
        saved = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = 't-resume'"
        ).fetchone()[0]
    assert saved > 0
    calls_before = len(llm[0].brain.calls)
    resumed = run_cli(["ask", "--thread", "t-resume"], web_env, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "Bartholdi" in resumed.stdout
    assert "Question: " not in resumed.stderr  # the run was not started again
    assert "thread t-resume" in resumed.stderr
    assert len(llm[0].brain.calls) > calls_before


def test_resuming_a_thread_with_nothing_to_resume_is_a_usage_error(
    tmp_path: Path, web_env: dict[str, str]
) -> None:
    proc = run_cli(["ask", "--thread", "never-started"], web_env, tmp_path)
    assert proc.returncode == 2
    assert "no interrupted run" in proc.stderr


def test_without_an_llm_the_command_says_how_to_configure_one(tmp_path: Path) -> None:
    proc = run_cli(["ask", QUESTION], base_env(tmp_path), tmp_path)
    assert proc.returncode == 3
    message = " ".join(proc.stderr.split())
    assert "No LLM is configured" in message
    assert "OPENAI_API_KEY" in message and "OPENAI_BASE_URL" in message
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "   "],
        ["ask"],
        ["ask", QUESTION, "--effort", "extreme"],
        ["ask", QUESTION, "--budget", "0"],
        ["ask", QUESTION, "--team-size", "0"],
        ["ask", QUESTION, "--provider", "altavista"],
        ["eval", "missing.jsonl"],
        ["no-such-command"],
    ],
)
def test_usage_errors_exit_with_2(tmp_path: Path, args: list[str]) -> None:
    env = base_env(tmp_path, OPENAI_API_KEY="sk-test")
    assert run_cli(args, env, tmp_path).returncode == 2


def test_a_provider_without_its_key_exits_with_3_and_names_the_key(
    tmp_path: Path, web_env: dict[str, str]
) -> None:
    proc = run_cli(["ask", QUESTION, "--provider", "brave", "-q"], web_env, tmp_path)
    assert proc.returncode == 3
    assert "BRAVE_API_KEY" in proc.stderr


def test_an_unreachable_llm_fails_the_run_with_1(tmp_path: Path, testweb: TestWeb) -> None:
    env = llm_env(
        tmp_path,
        f"http://127.0.0.1:{free_port()}",
        DEEPSEARCH_SEARCH_PROVIDER="searxng",
        SEARXNG_URL=testweb.base_url,
        DEEPSEARCH_ALLOW_PRIVATE_URLS="1",
        DEEPSEARCH_LLM_TIMEOUT="5",
    )
    proc = run_cli(["ask", QUESTION, "-q"], env, tmp_path)
    assert proc.returncode == 1
    assert "could not be reached" in proc.stderr or "failed" in proc.stderr


SECRETS = {
    "OPENAI_API_KEY": "sk-fake-OPENAI-s3cr3t-value",
    "JINA_API_KEY": "jina_fake-JINA-s3cr3t-value",
    "BRAVE_API_KEY": "fake-BRAVE-s3cr3t-value",
    "DEEPSEARCH_API_KEY": "fake-SERVER-s3cr3t-value",
}


@pytest.mark.parametrize("name", ["config", "doctor"])
def test_config_reports_without_printing_secrets(tmp_path: Path, name: str) -> None:
    env = base_env(
        tmp_path,
        **SECRETS,
        OPENAI_BASE_URL="http://admin:hunter2-pw@127.0.0.1:8080/v1?token=qs-s3cr3t",
        DEEPSEARCH_SEARCH_PROVIDER="brave",
    )
    proc = run_cli([name], env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    for secret in [*SECRETS.values(), "hunter2-pw", "qs-s3cr3t", "admin"]:
        assert secret not in output
    assert "OPENAI_API_KEY" in output and "set" in output
    assert "http://127.0.0.1:8080/v1" in output
    assert "Ready" in output


def test_config_names_what_is_missing_and_how_to_fix_it(tmp_path: Path) -> None:
    env = base_env(tmp_path, DEEPSEARCH_SEARCH_PROVIDER="searxng")
    proc = run_cli(["config"], env, tmp_path)
    assert proc.returncode == 3
    output = " ".join(proc.stdout.split())
    assert "No LLM is configured" in output
    assert "SEARXNG_URL missing" in output
    assert "missing" in output


def test_dotenv_in_the_working_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={SECRETS['OPENAI_API_KEY']}\n")
    proc = run_cli(["config"], base_env(tmp_path), tmp_path)
    assert proc.returncode == 0
    assert SECRETS["OPENAI_API_KEY"] not in proc.stdout
    assert "Ready" in proc.stdout


def test_serve_starts_the_http_api(tmp_path: Path) -> None:
    pytest.importorskip("deepsearch.server.app")
    import httpx

    port = free_port()
    env = base_env(tmp_path, OPENAI_API_KEY="sk-test")
    proc = subprocess.Popen(
        command("serve", "--port", str(port)), env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_index_builds_a_local_corpus(tmp_path: Path) -> None:
    pytest.importorskip("deepsearch.cli.index")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("# Lighthouses\n\nThe Pharos of Alexandria was a lighthouse.\n")
    db = tmp_path / "corpus.sqlite3"
    proc = run_cli(["index", str(docs), "--db", str(db)], base_env(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert db.exists() and os.path.getsize(db) > 0
    assert "Indexed 1 of 1 files" in proc.stdout and "1 documents" in proc.stdout
    assert "export DEEPSEARCH_SEARCH_PROVIDER=local" in proc.stdout
    assert f"export DEEPSEARCH_CORPUS={db}" in proc.stdout


def test_the_command_line_starts_without_loading_the_agent(tmp_path: Path) -> None:
    """``--help``, ``config`` and ``index`` must not pay for langchain and the graph."""
    probe = (
        "import sys, deepsearch.cli as cli\n"
        "heavy = [m for m in ('deepsearch.api', 'deepsearch.graph', 'langchain_core', "
        "'langgraph') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=base_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"loaded at start-up: {done.stdout.strip()}"


def test_run_options_reach_the_command_gathered_in_one_object() -> None:
    """Every per-run flag is declared once and arrives in ``RunOptions`` with its value."""
    seen: list[tuple[str, RunOptions]] = []
    app = typer.Typer()

    @app.command()
    @with_run_options(effort=Effort.low)
    def probe(name: str, *, run: RunOptions, loud: bool = False) -> None:
        seen.append((name, run))

    flags = ["--team-size", "3", "--only-host", "a.org", "--only-host", "b.org"]
    flags += ["--provider", "local", "--language", "de", "--no-direct-answer"]
    flags += ["--max-seconds", "90"]
    result = CliRunner().invoke(app, ["owls", *flags])
    assert result.exit_code == 0, result.output
    name, run = seen[0]
    assert name == "owls"
    assert run.effort is Effort.low  # the command's own default
    assert (run.team_size, run.only_host, run.provider) == (3, ["a.org", "b.org"], Provider.local)
    assert run.language == "de" and run.no_direct_answer and run.budget is None
    assert run.max_seconds == 90 and run.context().max_seconds == 90
    assert CliRunner().invoke(app, ["owls", "--effort", "extreme"]).exit_code == 2
    assert CliRunner().invoke(app, ["owls", "--max-seconds", "0"]).exit_code == 2
