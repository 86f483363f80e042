"""``deepsearch eval`` end to end, offline: HotpotQA/MuSiQue over their local corpus.

The scripted brain answers through the OpenAI-compatible test server; search and
reading go to the SQLite corpus built from the benchmarks' evidence paragraphs.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepsearch.evaluation.datasets import load_dataset
from tests.support.brain import Brain
from tests.support.cli_env import command, llm_env, run_cli
from tests.support.llm_server import LLMServer
from tests.support.servers import serve

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HOTPOT = DATA / "hotpotqa_train_distractor_100.jsonl"
MUSIQUE = DATA / "musique_train_100.jsonl"

pytestmark = pytest.mark.skipif(
    not (HOTPOT.exists() and MUSIQUE.exists()), reason="benchmark data not on this machine"
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmarks' evidence paragraphs indexed for the ``local`` provider."""
    from deepsearch.tools.corpus import build_benchmark_corpus

    db = tmp_path_factory.mktemp("corpus") / "bench.sqlite3"
    build_benchmark_corpus([HOTPOT, MUSIQUE], db)
    return db


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    """The scripted brain behind an OpenAI-compatible server (its base URL in ``.base``)."""
    server = LLMServer(Brain())
    with serve(server.app) as base:
        server.base = base  # type: ignore[attr-defined]
        yield server


def _env(tmp_path: Path, llm: LLMServer, corpus: Path) -> dict[str, str]:
    return llm_env(
        tmp_path,
        llm.base,  # type: ignore[attr-defined]
        DEEPSEARCH_SEARCH_PROVIDER="local",
        DEEPSEARCH_CORPUS=str(corpus),
    )


@pytest.mark.parametrize("dataset", [HOTPOT, MUSIQUE], ids=["hotpotqa", "musique"])
def test_eval_runs_offline_and_writes_json_markdown_and_png(
    tmp_path: Path, llm: LLMServer, corpus: Path, dataset: Path
) -> None:
    out = tmp_path / "report"
    proc = run_cli(
        ["eval", str(dataset), "--limit", "3", "--concurrency", "2", "--out", str(out)],
        _env(tmp_path, llm, corpus),
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    summary = report["summary"]
    assert summary["questions"] == 3 and summary["error"] == 0
    assert summary["correct"] + summary["incorrect"] + summary["not_attempted"] == 3
    assert summary["tokens_total"] > 0 and summary["steps_mean"] > 0
    expected = [item.id for item in load_dataset(dataset, 3)]
    assert [q["id"] for q in report["questions"]] == expected
    cited = [q for q in report["questions"] if q["quotes_checked"]]
    assert cited, "the scripted runs should cite corpus passages"
    assert summary["faithfulness_overall"] is not None
    # The judge was asked (grader role) once per question.
    graders = [c for c in llm.brain.calls if c.role == "grader"]
    assert len(graders) == 3
    markdown = (out / "report.md").read_text()
    assert all(f"| {qid} |" in markdown for qid in expected)
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len((out / "results.jsonl").read_text().splitlines()) == 3
    assert "accuracy" in proc.stdout


def test_a_killed_eval_resumes_without_redoing_finished_questions(
    tmp_path: Path, llm: LLMServer, corpus: Path
) -> None:
    env = _env(tmp_path, llm, corpus)
    out = tmp_path / "report"
    results = out / "results.jsonl"
    args = ["eval", str(HOTPOT), "--limit", "4", "--concurrency", "1", "--out", str(out)]
    llm.delay = 0.2  # slow enough that the kill lands while later questions are pending
    proc = subprocess.Popen(
        command(*args), env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if results.exists() and results.read_text().strip():
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = [json.loads(line)["id"] for line in results.read_text().splitlines()]
    assert 1 <= len(finished) < 4, "the kill should land mid-run"
    questions = {item.id: item.question for item in load_dataset(HOTPOT, 4)}

    llm.delay = 0.0
    calls_before = len(llm.brain.calls)
    resumed = run_cli(args, env, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming: {len(finished)} of 4 questions already done." in " ".join(
        resumed.stderr.split()
    )
    new_calls = llm.brain.calls[calls_before:]
    for qid in finished:  # no prompt of the resumed run mentions a finished question
        assert not any(questions[qid] in call.user for call in new_calls)
    counts = Counter(json.loads(line)["id"] for line in results.read_text().splitlines())
    assert set(counts) == set(questions)
    assert all(counts[qid] == 1 for qid in finished)
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["questions"] == 4
