"""Budget benchmark: does ``usage.total_tokens`` stay within ``budget_tokens``?

Runs the whole graph through the public API (``deepsearch.aask``) on WikiWorld, the
one-host local web built from the HotpotQA and MuSiQue train samples
(:mod:`tests.support.world`: BM25 SearXNG endpoint, first-sentence snippets,
navigation and dead links), with the real SearXNG provider and direct reader, at
budgets of 4k, 20k, 100k and 500k tokens, in three regimes:

- ``scripted``: the words-only scripted model (it answers as soon as a read sentence
  shares enough words with the question; the strict reviewer passes it);
- ``unsatisfied``: the same model whose answers never pass evaluation, with 50
  attempts, so research goes on until the budget's reserve and beast mode;
- ``team``: ``team_size`` 3 with the unsatisfied model (workers, then the merge).

For each budget and regime it prints the largest and the mean ratio of
``usage.total_tokens`` to the budget (target: at most 1.1 everywhere), how many
answers were well-formed (non-empty text; a run whose budget cannot buy a written
answer says so in a well-formed answer), how many ended in beast mode, and steps.

    .venv/bin/python -m benchmarks.bench_budget [--questions 6] [--budgets 4000 20000 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepsearch import aask, build_graph
from deepsearch.context import Context
from deepsearch.settings import Settings
from tests.support.brain import QuestionWordsBrain
from tests.support.chat_model import ScriptedChatModel
from tests.support.servers import serve
from tests.support.testweb import searxng_settings
from tests.support.world import World
from tests.support.world_data import WorldQuestion, load_dataset

BUDGETS = (4_000, 20_000, 100_000, 500_000)
REGIMES = ("scripted", "unsatisfied", "team")
TARGET = 1.1


@dataclass
class Outcome:
    """One run's cost against its budget."""

    ratio: float
    well_formed: bool
    beast: bool
    steps: int


async def run_one(question: str, settings: Settings, budget: int, regime: str) -> Outcome:
    """Run one question in one regime at one budget."""
    brain = QuestionWordsBrain()
    attempts = None
    if regime != "scripted":
        brain.fail_reviews = 10_000
        attempts = 50
    graph = build_graph(model=ScriptedChatModel(brain=brain), settings=settings)
    ctx = Context(
        budget_tokens=budget,
        max_attempts=attempts,
        team_size=3 if regime == "team" else 1,
    )
    result = await aask(question, graph=graph, context=ctx)
    return Outcome(
        ratio=result.usage["total_tokens"] / budget,
        well_formed=bool(result.answer.strip()),
        beast=result.mode == "beast",
        steps=result.steps,
    )


async def main(args: argparse.Namespace) -> None:
    rows: list[str] = []
    for name in ("hotpotqa", "musique"):
        dataset = load_dataset(name)
        questions: list[WorldQuestion] = dataset.questions[: args.questions]
        world = World(dataset.articles)
        with serve(world.app) as base, tempfile.TemporaryDirectory() as tmp:
            world.base_url = base
            settings = searxng_settings(base, f"{tmp}/cache.sqlite3")
            for budget in args.budgets:
                for regime in REGIMES:
                    outcomes = [
                        await run_one(q.question, settings, budget, regime) for q in questions
                    ]
                    worst = max(o.ratio for o in outcomes)
                    rows.append(
                        f"| {name} | {budget:,} | {regime} | **{worst:.2f}** | "
                        f"{statistics.mean(o.ratio for o in outcomes):.2f} | "
                        f"{sum(o.well_formed for o in outcomes)}/{len(outcomes)} | "
                        f"{sum(o.beast for o in outcomes)}/{len(outcomes)} | "
                        f"{statistics.mean(o.steps for o in outcomes):.1f} | "
                        f"{'ok' if worst <= TARGET else 'OVER'} |"
                    )
                    print(rows[-1], flush=True)
    print()
    print("| dataset | budget | regime | max ratio | mean ratio | well-formed | beast | steps | <= 1.1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=6, help="questions per dataset")
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
