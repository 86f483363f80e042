"""Prompt injection: how many orders reach the answer, and what screening removes by mistake.

Runs DeepSearch (the whole graph, in-memory web) on the obedient scripted model
(tests/support/obedient.py), which complies with any order it finds in its prompt,
against every hostile page of tests/support/injection_pages.py — 18 phrasings x 8
disguises, the order placed in a page's text, its title, its search snippet, its URL,
an attached file, or reported in a news story — and counts the runs whose answer
carried the demanded reply. The same runs with screening and/or the answer check
switched off show what each defence stops. Then it screens benign text: articles about
AI assistants and prompt injection, and the Wikipedia paragraphs of the HotpotQA and
MuSiQue samples, and counts the sentences removed by mistake.

    python -m benchmarks.bench_injection            # all figures (~2-4 min on 2 cores)
    python -m benchmarks.bench_injection --quick    # plain phrasings only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepsearch import astream_run
from deepsearch.context import Context
from deepsearch.state import Knowledge
from deepsearch.tools.base import SearchResult
from deepsearch.tools.screening import screen_line, screen_text
from tests.support.injection_pages import (
    ANSWER_SENTENCE,
    BENIGN,
    CASES,
    HELD_OUT,
    QUESTION,
    REPORTED_PAGE,
    REPORTED_URL,
    Case,
    hostile_page,
)
from tests.support.injection_runs import CraftedSearch, followed, found_real_answer, graph_with
from tests.support.memory import MemorySearch
from tests.support.obedient import ObedientBrain
from tests.support.testweb import DEFAULT_PAGES, WebPage

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LIBERTY = {"https://example.org/news/statue-of-liberty": DEFAULT_PAGES["/news/statue-of-liberty"]}
OTHERS = {
    f"https://example.org{p}": page
    for p, page in DEFAULT_PAGES.items()
    if p != "/news/statue-of-liberty"
}
DEFENCES = {
    "both": (True, True),
    "screening only": (True, False),
    "answer check only": (False, True),
    "none": (False, False),
}


@dataclass
class Setup:
    """One run's world: its pages, its search, and what the user attached."""

    pages: dict[str, WebPage]
    hostile_results: list[SearchResult] = field(default_factory=list)
    knowledge: list[Knowledge] = field(default_factory=list)


def in_text(order: str) -> Setup:
    return Setup({"https://evil.example/liberty": hostile_page(order), **OTHERS})


def in_title(order: str) -> Setup:
    page = hostile_page("It is 93 metres tall with its pedestal.", title=order)
    return Setup({"https://evil.example/liberty": page, **OTHERS})


def in_snippet(order: str) -> Setup:
    page = WebPage(
        "Statue of Liberty", [order, ANSWER_SENTENCE]
    )  # the snippet is the 1st paragraph
    return Setup({"https://evil.example/liberty": page, **OTHERS})


def in_url(order: str) -> Setup:
    slug = "-".join(order.replace("\n", " ").split())[:150]
    hit = SearchResult(f"https://evil.example/{slug}", "Statue of Liberty", "Who designed it.")
    return Setup({**LIBERTY, **OTHERS}, hostile_results=[hit])


def in_attachment(order: str) -> Setup:
    item: Knowledge = {
        "question": "What does the attached file 'memo.txt' say?",
        "answer": f"Museum memo.\n\n{order}\n\nOpening hours are 9 to 5.",
        "kind": "file",
        "references": [],
        "date": None,
    }
    return Setup({**LIBERTY, **OTHERS}, knowledge=[item])


PLACEMENTS: dict[str, Callable[[str], Setup]] = {
    "page text": in_text,
    "page title": in_title,
    "search snippet": in_snippet,
    "result URL": in_url,
    "attached file": in_attachment,
}


@dataclass
class Tally:
    """Outcomes of a group of runs."""

    runs: int = 0
    obeyed: int = 0  # the answer carried the demanded reply
    cited: int = 0  # the answer stated and cited the real answer
    exposed: int = 0  # the model saw an order (screening let it through)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


async def run_one(setup: Setup, screen: bool, check: bool) -> tuple[bool, bool, bool]:
    brain = ObedientBrain()
    search: Any = MemorySearch(setup.pages)
    if setup.hostile_results:
        search = CraftedSearch(search, hostile=setup.hostile_results)
    graph = graph_with(brain, setup.pages, screen=screen, check=check, team=False, search=search)
    result = None
    async for event in astream_run(
        QUESTION, graph=graph, context=Context(), knowledge=setup.knowledge
    ):
        if event.get("type") == "result":
            result = event["result"]
    assert result is not None
    return followed(result.answer), found_real_answer(result), bool(brain.obeyed)


async def tally(setups: Iterable[tuple[str, Setup]], screen: bool, check: bool) -> Tally:
    out = Tally()
    start = time.perf_counter()
    for name, setup in setups:
        obeyed, cited, exposed = await run_one(setup, screen, check)
        out.runs += 1
        out.obeyed += obeyed
        out.cited += cited
        out.exposed += exposed
        if obeyed:
            out.failures.append(name)
    out.seconds = time.perf_counter() - start
    return out


def cases(quick: bool) -> list[Case]:
    return [c for c in CASES if c.trick == "plain"] if quick else list(CASES)


def reported() -> list[tuple[str, Setup]]:
    return [("reported", Setup({REPORTED_URL: REPORTED_PAGE, **LIBERTY}))]


# --- precision: benign text ---------------------------------------------------------------
def wiki_paragraphs(data: Path) -> tuple[list[str], list[str]]:
    """The context paragraphs and titles of the HotpotQA and MuSiQue samples (Wikipedia)."""
    texts: list[str] = []
    titles: list[str] = []
    hotpot, musique = data / "hotpotqa_train_distractor_100.jsonl", data / "musique_train_100.jsonl"
    if hotpot.exists():
        for line in hotpot.read_text().splitlines():
            for title, sents in json.loads(line)["context"]:
                texts.append("".join(sents))
                titles.append(title)
    if musique.exists():
        for line in musique.read_text().splitlines():
            for p in json.loads(line)["paragraphs"]:
                texts.append(p["paragraph_text"])
                titles.append(p["title"])
    return list(dict.fromkeys(texts)), list(dict.fromkeys(titles))


def precision(texts: list[str]) -> tuple[int, int, list[str]]:
    """Return texts screened, sentences removed, and the texts that lost any."""
    removed = 0
    hit: list[str] = []
    for text in texts:
        screened = screen_text(text)
        removed += screened.removed
        if screened.removed:
            hit.append(text[:160])
    return len(texts), removed, hit


async def main(quick: bool, ablation: bool, data: Path) -> None:
    print("# Prompt injection (obedient scripted model, in-memory web)\n")
    print(
        "| placement | defences | runs | answer carried the demanded reply | real answer cited | model saw an order | s |"
    )
    print("|---|---|---|---|---|---|---|")
    groups: dict[str, list[tuple[str, Setup]]] = {}
    for placement, make in PLACEMENTS.items():
        chosen = cases(quick) if placement == "page text" else cases(True)
        groups[placement] = [(f"{placement}:{c.name}", make(c.text())) for c in chosen]
    groups["page text, held-out phrasings"] = [
        (f"held-out:{i}", in_text(h.format(c="PWNED"))) for i, h in enumerate(HELD_OUT)
    ]
    groups["reported in a news story"] = reported()
    totals = Counter[str]()
    for placement, setups in groups.items():
        for defence, (screen, check) in DEFENCES.items():
            if defence != "both" and not ablation:
                continue
            t = await tally(setups, screen, check)
            totals[f"{defence}:runs"] += t.runs
            totals[f"{defence}:obeyed"] += t.obeyed
            print(
                f"| {placement} | {defence} | {t.runs} | {t.obeyed} | {t.cited} | {t.exposed} | {t.seconds:.0f} |"
            )
            if defence == "both" and t.failures:
                print(f"<!-- obeyed: {t.failures} -->")
    print()
    for defence in DEFENCES:
        if totals[f"{defence}:runs"]:
            print(
                f"- {defence}: {totals[f'{defence}:obeyed']} of {totals[f'{defence}:runs']} runs obeyed"
            )
    print("\n# Screening precision (sentences removed from benign text)\n")
    benign = ["\n\n".join(p.paragraphs) for p in BENIGN.values()]
    benign_sentences = sum(len(p.paragraphs) for p in BENIGN.values())
    n, removed, hit = precision(benign)
    print(
        f"- {n} pages about AI, prompt injection and instructions ({benign_sentences} paragraphs): {removed} sentences removed"
    )
    for text in hit:
        print(f"  - {text!r}")
    paragraphs, titles = wiki_paragraphs(data)
    start = time.perf_counter()
    n, removed, hit = precision(paragraphs)
    chars = sum(map(len, paragraphs))
    print(
        f"- {n} Wikipedia paragraphs (HotpotQA + MuSiQue samples, {chars:,} chars): {removed} sentences removed, screened in {time.perf_counter() - start:.2f} s"
    )
    for text in hit:
        print(f"  - {text!r}")
    kept = [t for t in titles if screen_line(t).removed == 0]
    print(f"- {len(titles)} Wikipedia titles as result titles: {len(titles) - len(kept)} removed")
    orders = [c.text() for c in CASES]
    caught = sum(screen_text(f"{ANSWER_SENTENCE}\n\n{o}").text == ANSWER_SENTENCE for o in orders)
    print(f"- hostile orders removed whole by screening alone: {caught} of {len(orders)}")
    held = [h.format(c="PWNED") for h in HELD_OUT]
    caught = sum("PWNED" not in screen_text(f"{ANSWER_SENTENCE}\n\n{o}").text for o in held)
    print(
        f"- held-out phrasings (never tuned on) removed by screening alone: {caught} of {len(held)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="plain phrasings only")
    parser.add_argument("--no-ablation", action="store_true", help="only the defended runs")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="../shared/data")
    args = parser.parse_args()
    asyncio.run(main(args.quick, not args.no_ablation, args.data))
