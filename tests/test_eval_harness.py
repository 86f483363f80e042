"""The evaluation harness in-process: datasets, grading, the resumable runner and reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepsearch.api import build_graph
from deepsearch.context import Context
from deepsearch.evaluation.datasets import DatasetError, EvalItem, load_dataset
from deepsearch.evaluation.grading import (
    citation_faithfulness,
    contains_match,
    exact_match,
    judge,
    normalize_answer,
)
from deepsearch.evaluation.report import summarize, write_reports
from deepsearch.evaluation.runner import EvalRunner, load_results, run_eval
from deepsearch.settings import Settings
from deepsearch.tools.llm import LLM
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED_FILES = [
    "frames_824.jsonl",
    "simpleqa_800.jsonl",
    "bamboogle_125.jsonl",
    "hotpotqa_train_distractor_100.jsonl",
    "musique_train_100.jsonl",
]


@pytest.mark.parametrize("name", SHARED_FILES)
def test_every_shared_benchmark_loads_with_questions_and_answers(name: str) -> None:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    items = load_dataset(path)
    expected = int(name.rsplit("_", 1)[1].split(".")[0])
    assert len(items) == expected
    assert all(item.question and item.answers for item in items)
    assert len({item.id for item in items}) == len(items)


def test_dataset_fields_are_mapped_per_benchmark(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    rows = [
        {"id": 7, "problem": "P?", "answer": "A"},
        {"id": "b1", "question": "Q?", "answers": ["x", "y"]},
        {"question": "M?", "answer": "G. Stanley Hall", "answer_aliases": ["Stanley Hall"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    items = load_dataset(path)
    assert [(i.id, i.question, i.answers) for i in items] == [
        ("7", "P?", ["A"]),
        ("b1", "Q?", ["x", "y"]),
        ("line-3", "M?", ["G. Stanley Hall", "Stanley Hall"]),
    ]
    assert load_dataset(path, limit=1)[0].id == "7"


def test_malformed_datasets_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "no answer"}\n')
    with pytest.raises(DatasetError, match="no answer"):
        load_dataset(bad)
    bad.write_text("not json\n")
    with pytest.raises(DatasetError, match="not JSON"):
        load_dataset(bad)


def test_matching_normalises_case_punctuation_articles_and_footnotes() -> None:
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert exact_match("Gustave Eiffel. [^1]", ["gustave eiffel"])
    assert not exact_match("It was Gustave Eiffel.", ["Gustave Eiffel"])
    assert contains_match("It was Gustave Eiffel [^1].", ["Gustave Eiffel"])
    assert not contains_match("It was Eiffelson.", ["Eiffel"])


def test_faithfulness_counts_quotes_found_verbatim_up_to_whitespace_and_markup() -> None:
    sources = {"https://a": "The tower is <b>330 metres</b>\n tall.", "https://b": "Other text."}
    refs = [
        {"url": "https://a", "exactQuote": "The tower is 330 metres tall."},
        {"url": "https://b", "exactQuote": "A quote that is not there."},
        {"url": "https://c", "exactQuote": "Unread source."},
        {"url": "https://a", "exactQuote": ""},
    ]
    assert citation_faithfulness(refs, sources) == (pytest.approx(1 / 3), 1, 3)
    assert citation_faithfulness([], sources) == (None, 0, 0)


async def test_judge_uses_the_grader_role_and_falls_back_on_unusable_replies() -> None:
    brain = Brain()
    llm = LLM(ScriptedChatModel(brain=brain), method="prompt")
    grade, tokens, ok = await judge(llm, "Who?", ["Gustave Eiffel"], "Gustave Eiffel built it.")
    assert (grade.grade, ok) == ("correct", True) and tokens > 0
    assert brain.calls[-1].role == "grader"
    grade, _, _ = await judge(llm, "Who?", ["Gustave Eiffel"], "It was Napoleon.")
    assert grade.grade == "incorrect"
    grade, _, _ = await judge(llm, "Who?", ["Gustave Eiffel"], "I don't know.")
    assert grade.grade == "not_attempted"
    brain.script("grader", "no json here", "still none")
    grade, _, ok = await judge(llm, "Who?", ["Gustave Eiffel"], "Gustave Eiffel.")
    assert (grade.grade, ok) == ("correct", False)


ITEMS = [
    EvalItem("q1", "Who designed the Statue of Liberty?", ["Frédéric Auguste Bartholdi"]),
    EvalItem("q2", "In which city is the Eiffel Tower?", ["Paris"]),
    EvalItem("q3", "When was the Eiffel Tower completed?", ["1889"]),
]


def _runner(tmp_path: Path, web_pages: dict, brain: Brain) -> EvalRunner:
    from langgraph.checkpoint.memory import InMemorySaver

    settings = Settings(
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_CACHE=str(tmp_path / "cache.sqlite3"),
        _env_file=None,  # type: ignore[call-arg]
    )
    model = ScriptedChatModel(brain=brain)
    graph = build_graph(
        model=model,
        search=MemorySearch(web_pages),
        reader=MemoryReader(web_pages),
        settings=settings,
        checkpointer=InMemorySaver(),
        team=False,
    )
    judge_llm = LLM(ScriptedChatModel(brain=brain), method="prompt")
    return EvalRunner(graph=graph, context=Context(reasoning_effort="low"), judge_llm=judge_llm)


async def test_runner_grades_every_question_and_resumes_without_rerunning(
    tmp_path: Path,
    web_pages: dict,
    brain: Brain,
) -> None:
    results = tmp_path / "out" / "results.jsonl"
    runner = _runner(tmp_path, web_pages, brain)
    first = await run_eval(ITEMS[:2], runner, results, concurrency=2)
    assert [r["id"] for r in first] == ["q1", "q2"]
    for record in first:
        assert record.get("error") is None
        assert record["grade"] in ("correct", "incorrect", "not_attempted")
        assert record["tokens"] > 0 and record["steps"] > 0 and record["latency_s"] >= 0
    answered = [r for r in first if r["references"]]
    assert answered, "the scripted runs should cite their sources"
    assert all(r["faithfulness"] == 1.0 for r in answered)
    calls_before = len(brain.calls)

    seen: list[str] = []
    records = await run_eval(
        ITEMS, runner, results, concurrency=2, on_result=lambda r: seen.append(r["id"])
    )
    assert seen == ["q3"]
    assert [r["id"] for r in records] == ["q1", "q2", "q3"]
    asked = [c.user for c in brain.calls[calls_before:] if c.role == "planner"]
    first_lines = [u.splitlines()[0] for u in asked]
    assert asked and not any(
        ITEMS[0].question in line or ITEMS[1].question in line for line in first_lines
    )
    assert sorted(load_results(results)) == ["q1", "q2", "q3"]

    paths = write_reports("unit", records, tmp_path / "out")
    report = json.loads(paths["json"].read_text())
    assert report["summary"]["questions"] == 3
    assert (
        report["summary"]["correct"]
        + report["summary"]["incorrect"]
        + report["summary"]["not_attempted"]
        == 3
    )
    assert "| q3 |" in paths["markdown"].read_text()
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_figures() -> None:
    records = [
        {
            "id": "1",
            "grade": "correct",
            "tokens": 100,
            "latency_s": 1.0,
            "exact_match": True,
            "contains": True,
            "faithfulness": 1.0,
            "quotes_found": 2,
            "quotes_checked": 2,
            "judge_ok": True,
        },
        {
            "id": "2",
            "grade": "incorrect",
            "tokens": 300,
            "latency_s": 3.0,
            "exact_match": False,
            "contains": False,
            "faithfulness": 0.0,
            "quotes_found": 0,
            "quotes_checked": 1,
            "judge_ok": True,
        },
        {"id": "3", "grade": "not_attempted", "tokens": 200, "latency_s": 2.0, "judge_ok": True},
        {"id": "4", "error": "boom", "latency_s": 0.5},
    ]
    s = summarize(records)
    assert (s["questions"], s["correct"], s["incorrect"], s["not_attempted"], s["error"]) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert s["accuracy"] == 0.25 and s["accuracy_attempted"] == 0.5
    assert s["f_score"] == pytest.approx(2 * 0.25 * 0.5 / 0.75, abs=1e-4)
    assert s["faithfulness_overall"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["tokens_mean"] == 200.0 and s["latency_median_s"] == 1.5


async def test_failed_questions_are_recorded_then_retried_on_resume(
    tmp_path: Path,
    web_pages: dict,
    brain: Brain,
) -> None:
    from tests.support.brain import field_of

    def planner_down_for_paris(system: str, user: str) -> str:
        if "Eiffel Tower" in field_of(user, "Current question (work on this now)"):
            raise ConnectionError("model endpoint down")
        return Brain._planner(brain, system, user)

    brain.handlers["planner"] = planner_down_for_paris
    results = tmp_path / "results.jsonl"
    runner = _runner(tmp_path, web_pages, brain)
    first = await run_eval(ITEMS[:2], runner, results, concurrency=1)
    assert first[0].get("error") is None
    assert "model endpoint down" in first[1]["error"]
    assert summarize(first)["error"] == 1

    del brain.handlers["planner"]
    retried: list[str] = []
    second = await run_eval(ITEMS[:2], runner, results, on_result=lambda r: retried.append(r["id"]))
    assert retried == ["q2"]
    assert [r.get("error") for r in second] == [None, None]


async def test_without_the_judge_grades_come_from_string_match(
    tmp_path: Path,
    web_pages: dict,
    brain: Brain,
) -> None:
    runner = _runner(tmp_path, web_pages, brain)
    runner.judge_llm = None
    records = await run_eval(ITEMS[:1], runner, tmp_path / "r.jsonl")
    assert records[0]["grade"] == "correct" and records[0]["reason"] == "string match"
    assert "grader" not in brain.roles()
