"""Loop benchmark: the whole research loop on a one-host local web, with a words-only model.

Runs the whole graph through the public API (``deepsearch.astream_run``, the streaming form
of ``aask``) with the real SearXNG provider, the real direct reader and local relevance,
over WikiWorld (:mod:`tests.support.world`): one page per paragraph of the HotpotQA
(distractor) or MuSiQue *train* sample, all on one host, a BM25 engine that returns 10
results whose snippet is the first sentence, pages with navigation links (some dead) and
"See also" links. The model is :class:`~tests.support.brain.QuestionWordsBrain`: it
searches the question's own words, never picks URLs (the product's ranking chooses what
is read) and answers by quoting the read sentence sharing most words with the question.

Printed per dataset, each figure beside its ceiling:

- **evidence reach**: share of questions whose answer-holding sentence occurs in a prompt
  of the answerer or of beast mode (recorded from the model's calls). Answer-holding
  sentence (:mod:`tests.support.world_data`): for HotpotQA the supporting-fact sentences
  that contain the gold answer (all supporting-fact sentences when none does, as for
  yes/no questions); for MuSiQue the sentences of the last hop's supporting paragraph that
  contain the answer or an alias (the whole paragraph when none does). Any one counts.
  Ceiling: the **search ceiling**, the share whose answer-holding page is in the engine's
  top 10 for the question's own words.
- **accuracy**: the gold answer or an alias occurs in the answer (whole words, after
  lowercasing and dropping punctuation and articles). Ceiling: the answer-holding page is
  in the top 10 and the scripted answerer, given that page alone, quotes a sentence that
  states the answer.
- **answer page read**: the answer-holding page was read (ceiling: the search ceiling).
- tokens, steps and pages read per question (beside the budget and the 10 results), how
  runs ended (the diary: passed evaluation, or beast mode and why), reads of dead links
  (404) and of navigation pages, skipped (repeat-only) searches, and how many unread URLs
  the planner was shown after the first search.

    .venv/bin/python -m benchmarks.bench_research [--effort low] [--budget N] [--limit N]
        [--dataset hotpotqa|musique|all] [--concurrency 4] [--snippet-answers]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepsearch import astream_run, build_graph
from deepsearch.context import Context
from deepsearch.settings import Settings
from tests.support.brain import QuestionWordsBrain, section
from tests.support.chat_model import ScriptedChatModel
from tests.support.servers import serve
from tests.support.testweb import searxng_settings
from tests.support.world import NAV_PATHS, RESULTS, World
from tests.support.world_data import Dataset, WorldQuestion, contains, load_dataset

DATASETS = ("hotpotqa", "musique")
ANSWER_ROLES = ("answerer", "beast")
_UNREAD = re.compile(r"^- (\S+) \|", re.M)
RANK_BUCKETS = ((1, 2), (3, 5), (6, 10))
_ENDING = re.compile(r"beast mode answer \((.*)\)$")


@dataclass
class Run:
    """What one question's run did and reached."""

    reached: bool
    correct: bool
    in_top: bool  # search ceiling: an answer-holding page in the engine's top 10
    answerable: bool  # accuracy ceiling
    engine_rank: int | None  # best engine rank (1-10) of an answer-holding page
    snippet_holds: bool  # an answer-holding sentence is the snippet of a top-10 result
    shown_evidence: bool  # an answer-holding page was among the unread URLs the planner saw
    page_read: bool
    tokens: int
    steps: int
    read: int
    attempts: int
    dead: int
    nav: int
    link_reads: int  # read attempts of links found on pages (not search results)
    first_read: int  # pages the first read step tried
    first_in_engine_top: int  # of them, among the engine's top len(first read)
    skipped_searches: int
    ending: str
    shown_unread: list[int] = field(default_factory=list)  # unread URLs in planner prompts
    unread_evidence: bool = False  # an answer-holding page was a top-10 result, never read


@contextmanager
def served(dataset: Dataset) -> Iterator[World]:
    """Serve the dataset's web on 127.0.0.1 for the block."""
    world = World(dataset.articles)
    with serve(world.app) as base:
        world.base_url = base
        yield world


def ending_of(diary: list[str], mode: str) -> str:
    """Say how a run ended, from its diary: passed evaluation, or beast mode and why."""
    for line in reversed(diary):
        m = _ENDING.search(line)
        if m:
            return f"beast mode ({m.group(1)})"
        if line.endswith("the answer passed evaluation"):
            return "passed evaluation"
    return f"mode {mode}"


def answerer_alone(world: World, q: WorldQuestion) -> bool:
    """Tell whether the scripted answerer, given only the answer-holding pages, is right."""
    sources = [
        (f"S{i}", world.url(p), world.articles[p].text)
        for i, p in enumerate(sorted(q.evidence_paths), start=1)
    ]
    best = QuestionWordsBrain._best_sentence(q.question, sources)
    return best is not None and any(contains(best[1], a) for a in q.answers)


async def run_question(
    world: World,
    q: WorldQuestion,
    settings: Settings,
    effort: str,
    budget: int | None,
    snippet_answers: bool = False,
) -> Run:
    """Run the whole loop on one question and measure what it reached."""
    brain = QuestionWordsBrain(answer_from_snippets=snippet_answers)
    graph = build_graph(model=ScriptedChatModel(brain=brain), settings=settings)
    ctx = Context(reasoning_effort=effort, budget_tokens=budget)  # type: ignore[arg-type]
    attempted: list[tuple[int, str]] = []  # (step, URL) of every read tried
    result: Any = None
    async for event in astream_run(q.question, graph=graph, context=ctx):
        if event.get("type") == "result":
            result = event["result"]
        elif event.get("kind") == "read":
            attempted.append((int(event.get("step") or 0), str(event["text"])))
    assert result is not None
    top = [a.path for a in world.search(q.question)]
    ranks = [n for n, p in enumerate(top, start=1) if p in q.evidence_paths]
    planner_prompts = [c.user for c in brain.calls if c.role == "planner"]
    shown = {
        u.removeprefix(world.base_url)
        for p in planner_prompts
        for u in _UNREAD.findall(section(p, "Unread URLs (best first)"))
    }
    paths = [u.removeprefix(world.base_url) for _, u in attempted]
    first = (
        [u.removeprefix(world.base_url) for step, u in attempted if step == attempted[0][0]]
        if attempted
        else []
    )
    read = {u.removeprefix(world.base_url) for u in result.read_urls}
    prompts = [c.user for c in brain.calls if c.role in ANSWER_ROLES]
    return Run(
        reached=any(contains(p, s) for p in prompts for _, s in q.evidence),
        correct=any(contains(result.answer, a) for a in q.answers),
        in_top=bool(q.evidence_paths & set(top)),
        answerable=bool(ranks) and answerer_alone(world, q),
        engine_rank=ranks[0] if ranks else None,
        snippet_holds=any(
            path in top and world.articles[path].snippet == s for path, s in q.evidence
        ),
        shown_evidence=bool(q.evidence_paths & shown),
        page_read=bool(q.evidence_paths & read),
        tokens=int(result.usage.get("total_tokens", 0)),
        steps=result.steps,
        read=len(read),
        attempts=len(paths),
        dead=sum(world.render(p)[0] == 404 for p in paths),
        nav=sum(p in NAV_PATHS for p in paths),
        link_reads=sum(p not in top for p in paths),
        first_read=len(first),
        first_in_engine_top=len(set(first) & set(top[: len(first)])),
        skipped_searches=sum("search skipped" in line for line in result.diary),
        ending=ending_of(result.diary, result.mode),
        shown_unread=[
            len(_UNREAD.findall(section(p, "Unread URLs (best first)"))) for p in planner_prompts
        ],
        unread_evidence=bool(q.evidence_paths & set(top)) and not q.evidence_paths & read,
    )


async def run_dataset(
    dataset: Dataset,
    *,
    effort: str = "low",
    budget: int | None = None,
    limit: int | None = None,
    concurrency: int = 4,
    snippet_answers: bool = False,
) -> list[Run]:
    """Run every question (or the first ``limit``) of a dataset on one served web."""
    questions = dataset.questions[:limit] if limit else dataset.questions
    gate = asyncio.Semaphore(concurrency)
    with tempfile.TemporaryDirectory() as tmp, served(dataset) as world:
        settings = searxng_settings(world.base_url, str(Path(tmp) / "cache.sqlite3"))

        async def one(q: WorldQuestion) -> Run:
            async with gate:
                return await run_question(world, q, settings, effort, budget, snippet_answers)

        return list(await asyncio.gather(*(one(q) for q in questions)))


def _share(runs: list[Run], attr: str) -> str:
    return f"{sum(bool(getattr(r, attr)) for r in runs) / len(runs):6.1%}"


def _rank_bucket(runs: list[Run], lo: int, hi: int) -> str:
    inside = [r for r in runs if r.engine_rank is not None and lo <= r.engine_rank <= hi]
    return f"{lo}-{hi}: {len(inside)} ({sum(r.page_read for r in inside)})"


def report(name: str, dataset: Dataset, runs: list[Run], budget: int, seconds: float) -> str:
    """Return the printed figures of one dataset."""
    n = len(runs)
    attempts = sum(r.attempts for r in runs)
    after_search = [r.shown_unread[1] for r in runs if len(r.shown_unread) > 1]
    endings = Counter(r.ending for r in runs)
    lines = [
        f"== {name} train: {n} questions, {len(dataset.articles)} pages on one host, "
        f"{seconds:.0f} s",
        f"  evidence reach       {_share(runs, 'reached')}   search ceiling {_share(runs, 'in_top')}"
        f" (answer-holding page in the engine's top {RESULTS} for the question's words)",
        f"  accuracy             {_share(runs, 'correct')}   ceiling {_share(runs, 'answerable')}"
        f" (answer page in the top {RESULTS}, and the scripted answerer given it alone is right)",
        f"  answer page read     {_share(runs, 'page_read')}   ceiling {_share(runs, 'in_top')}",
        f"  tokens per question  {statistics.mean(r.tokens for r in runs):8.0f}   budget {budget}",
        f"  steps per question   {statistics.mean(r.steps for r in runs):8.1f}",
        f"  pages read/question  {statistics.mean(r.read for r in runs):8.1f}   of {RESULTS} "
        f"results; read attempts {attempts / n:.1f}/question",
        f"  dead-link reads (404) {sum(r.dead for r in runs)} of {attempts} read attempts; "
        f"navigation pages read {sum(r.nav for r in runs)}; reads of links found on pages "
        f"{sum(r.link_reads for r in runs)}",
        f"  skipped repeat-only searches {sum(r.skipped_searches for r in runs)} "
        f"(in {sum(r.skipped_searches > 0 for r in runs)} runs)",
        f"  first read step: {sum(r.first_read for r in runs) / n:.1f} pages/question, "
        f"{sum(r.first_in_engine_top for r in runs) / max(1, sum(r.first_read for r in runs)):.0%}"
        " of them in the engine's own top as many (engine order kept)",
        f"  unread URLs shown to the planner after the first search: mean "
        f"{statistics.mean(after_search) if after_search else 0:.1f} (the engine gave "
        f"{RESULTS})",
        f"  answer page among the top {RESULTS} but never read: "
        f"{sum(r.unread_evidence for r in runs)} runs; shown to the planner as unread in "
        f"{sum(r.shown_evidence for r in runs)} runs",
        "  answer page's engine rank (runs, of them read): "
        + ", ".join(_rank_bucket(runs, lo, hi) for lo, hi in RANK_BUCKETS),
        f"  answer-holding sentence is a top-{RESULTS} result's snippet: "
        f"{sum(r.snippet_holds for r in runs)} runs",
        "  how runs ended: "
        + "; ".join(f"{k} {v}" for k, v in sorted(endings.items(), key=lambda kv: -kv[1])),
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    """Run the chosen datasets and print their figures."""
    names = DATASETS if args.dataset == "all" else (args.dataset,)
    budget = args.budget or Context(reasoning_effort=args.effort).resolved_budget()
    print(
        f"effort {args.effort}, budget {budget} tokens, concurrency {args.concurrency}; planner "
        + ("also answers from snippets" if args.snippet_answers else "answers from read pages")
    )
    for name in names:
        dataset = load_dataset(name, args.data)
        start = time.perf_counter()
        runs = await run_dataset(
            dataset,
            effort=args.effort,
            budget=args.budget,
            limit=args.limit,
            concurrency=args.concurrency,
            snippet_answers=args.snippet_answers,
        )
        print(report(name, dataset, runs, budget, time.perf_counter() - start), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--effort", choices=["low", "medium", "high"], default="low")
    parser.add_argument("--budget", type=int, default=None, help="token budget of each run")
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--concurrency", type=int, default=4, help="questions run at once")
    parser.add_argument(
        "--snippet-answers",
        action="store_true",
        help="the planner also answers when an unread result's snippet holds the answer",
    )
    parser.add_argument("--data", type=Path, default=None, help="folder of the train samples")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
