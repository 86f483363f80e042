"""Run DeepSearch over benchmark questions: concurrent, graded, resumable.

Each finished question is appended to a JSONL file at once (flushed and synced), so a
run killed at any moment loses at most the questions in flight; starting again skips
every id already recorded without an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepsearch.context import Context
from deepsearch.evaluation.datasets import EvalItem
from deepsearch.evaluation.grading import (
    citation_faithfulness,
    contains_match,
    exact_match,
    judge,
    looks_unattempted,
)
from deepsearch.tools.base import Reader

if TYPE_CHECKING:  # the graph (langgraph, langchain) loads only when a run starts
    from deepsearch.api import DeepSearchResult
    from deepsearch.tools.llm import LLM

Record = dict[str, Any]


def load_results(path: Path) -> dict[str, Record]:
    """Return the last record per id from a results JSONL file (a torn last line is ignored)."""
    records: dict[str, Record] = {}
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        if isinstance(record, dict) and "id" in record:
            records[str(record["id"])] = record
    return records


def done_ids(records: Mapping[str, Record]) -> set[str]:
    """Return the ids that need no new run (recorded without an error)."""
    return {qid for qid, r in records.items() if not r.get("error")}


@dataclass
class EvalRunner:
    """Runs questions through one compiled graph and grades them.

    Attributes:
        graph: a graph compiled with a checkpointer (its state gives the pages read).
        context: per-run options applied to every question.
        judge_llm: the LLM judge, or None to grade by string match only.
        reader: re-reads a cited URL whose text the run's state lacks (optional).
    """

    graph: Any
    context: Context
    judge_llm: LLM | None = None
    reader: Reader | None = None

    async def _sources(self, thread_id: str, result: DeepSearchResult) -> dict[str, str]:
        """Return the text behind each cited URL: the passages read, else a fresh read."""
        config: Any = {"configurable": {"thread_id": thread_id}}
        sources: dict[str, str] = {}
        try:
            snapshot = await self.graph.aget_state(config)
            for url, page in (snapshot.values.get("pages") or {}).items():
                sources[url] = "\n".join([page.get("title", ""), *page.get("passages", [])])
        except Exception:  # a graph without a checkpointer: fall back to reading
            pass
        cited = {ref["url"] for ref in result.references}
        for url in cited - sources.keys():
            if self.reader is None:
                continue
            try:
                sources[url] = (await self.reader.read(url)).text
            except Exception:
                sources[url] = ""
        checkpointer = getattr(self.graph, "checkpointer", None)
        if checkpointer is not None and hasattr(checkpointer, "adelete_thread"):
            await checkpointer.adelete_thread(thread_id)
        return sources

    async def run_one(self, item: EvalItem) -> Record:
        """Answer and grade one question; errors are recorded, never raised."""
        from deepsearch.api import astream_run

        thread_id = f"eval-{item.id}-{time.time_ns()}"
        started = time.perf_counter()
        record: Record = {"id": item.id, "question": item.question, "gold": item.answers}
        result: DeepSearchResult | None = None
        try:
            async for event in astream_run(
                item.question,
                graph=self.graph,
                context=self.context,
                config={"configurable": {"thread_id": thread_id}},
            ):
                if event.get("type") == "result":
                    result = event["result"]
        except Exception as exc:
            record.update(error=f"{type(exc).__name__}: {exc}"[:1000])
        record["latency_s"] = round(time.perf_counter() - started, 3)
        if result is None:
            record.setdefault("error", "the run ended without a result")
            return record
        record.update(await self._grade(item, result, thread_id))
        return record

    async def _grade(self, item: EvalItem, result: DeepSearchResult, thread_id: str) -> Record:
        sources = await self._sources(thread_id, result)
        share, found, checked = citation_faithfulness(result.references, sources)
        graded: Record = {
            "prediction": result.answer,
            "mode": result.mode,
            "steps": result.steps,
            "tokens": result.usage.get("total_tokens", 0),
            "prompt_tokens": result.usage.get("prompt_tokens", 0),
            "completion_tokens": result.usage.get("completion_tokens", 0),
            "references": len(result.references),
            "read_urls": len(result.read_urls),
            "exact_match": exact_match(result.answer, item.answers),
            "contains": contains_match(result.answer, item.answers),
            "faithfulness": share,
            "quotes_found": found,
            "quotes_checked": checked,
        }
        if self.judge_llm is not None:
            grade, tokens, ok = await judge(
                self.judge_llm, item.question, item.answers, result.answer
            )
            graded.update(grade=grade.grade, reason=grade.reason, judge_ok=ok, judge_tokens=tokens)
        else:
            verdict = "correct" if graded["contains"] else "incorrect"
            if looks_unattempted(result.answer):
                verdict = "not_attempted"
            graded.update(grade=verdict, reason="string match", judge_ok=False, judge_tokens=0)
        return graded


def append_record(path: Path, record: Record) -> None:
    """Append one record as a JSON line and force it to disk."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


async def run_eval(
    items: list[EvalItem],
    runner: EvalRunner,
    results_path: Path,
    *,
    concurrency: int = 2,
    on_result: Callable[[Record], None] | None = None,
) -> list[Record]:
    """Run every item not yet done, appending results; return all records in item order.

    Args:
        items: The questions.
        runner: Answers and grades one question.
        results_path: The JSONL file of per-question results (appended to; read to resume).
        concurrency: Questions run at the same time.
        on_result: Called after each new record is written (progress display).
    """
    results_path.parent.mkdir(parents=True, exist_ok=True)
    previous = load_results(results_path)
    skip = done_ids(previous)
    todo = [item for item in items if item.id not in skip]
    gate = asyncio.Semaphore(max(1, concurrency))
    lock = asyncio.Lock()
    fresh: dict[str, Record] = {}

    async def one(item: EvalItem) -> None:
        async with gate:
            record = await runner.run_one(item)
        async with lock:
            append_record(results_path, record)
            fresh[item.id] = record
        if on_result is not None:
            on_result(record)

    await asyncio.gather(*(one(item) for item in todo))
    merged = {**previous, **fresh}
    return [merged[item.id] for item in items if item.id in merged]


def pending(items: list[EvalItem], results_path: Path) -> list[EvalItem]:
    """Return the items a run would still do (those not recorded without an error)."""
    skip = done_ids(load_results(results_path))
    return [item for item in items if item.id not in skip]


def make_eval_graph(**build_options: Any) -> Any:
    """Build the graph for evaluation, with an in-memory checkpointer to read run state."""
    from langgraph.checkpoint.memory import InMemorySaver

    from deepsearch.api import build_graph

    return build_graph(checkpointer=InMemorySaver(), **build_options)
