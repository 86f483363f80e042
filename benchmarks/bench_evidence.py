"""Evidence benchmark: passage selection recall and candidate ranking recall.

Runs on the HotpotQA (distractor) and MuSiQue *train* samples in
``../shared/data`` (never the holdout). Prints:

(a) passage selection: for a "page" made of all of a question's paragraphs
    (supporting ones and distractors, each under its title as a heading), the
    share of gold supporting sentences that the selected passages contain,
    against the tokens kept per page, at several budgets;
(b) ranking: recall@5/@10 of the gold paragraphs when every paragraph is a
    candidate (title as title, paragraph as snippet), for ``rank_candidates``
    with the local scorer versus plain BM25 (``bm25s``) on the question.

Every figure is printed for all questions, for the tuning half (the first 50
of each file: the only questions to look at when tuning constants) and for the
check half (the rest: tells whether a gain holds on questions nobody looked at).

Gold sentences: HotpotQA gives them (``supporting_facts``). MuSiQue marks
supporting paragraphs; the gold sentences of a hop are those of its paragraph
that contain the hop's answer (the whole paragraph when none does).

``--scorer env`` scores with what the environment configures
(``DEEPSEARCH_EMBEDDINGS=jina|openai`` and its endpoint, as the product does;
:func:`~deepsearch.tools.embeddings.make_relevance`) instead of the model-free
local scorer, so an embeddings or reranker endpoint can be measured the same way.
Its scores are memoised, so the halves do not pay for a text twice.

Usage: ``.venv/bin/python benchmarks/bench_evidence.py [--data DIR] [--scorer local|env]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepsearch.settings import Settings
from deepsearch.state import Candidate
from deepsearch.tools.base import Relevance
from deepsearch.tools.embeddings import make_relevance
from deepsearch.tools.embeddings.local import LexicalRelevance, fold
from deepsearch.tools.passages import CHARS_PER_TOKEN, select_passages, split_sentences
from deepsearch.tools.ranking import rank_candidates

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BUDGETS = (500, 750, 1000, 1500)
TUNE_SIZE = 50  # questions per file that tuning may look at; the rest only checks


@dataclass
class Example:
    """One question, its paragraphs, and which are gold."""

    question: str
    paragraphs: list[tuple[str, list[str]]]  # (title, sentences)
    gold_sentences: set[tuple[int, int]]  # (paragraph index, sentence index)
    gold_paragraphs: set[int]


def load_hotpot(path: Path) -> list[Example]:
    """Read HotpotQA distractor rows into examples."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        paragraphs = [(title, list(sents)) for title, sents in row["context"]]
        index = {title: i for i, (title, _) in enumerate(paragraphs)}
        gold = {
            (index[t], s)
            for t, s in row["supporting_facts"]
            if t in index and s < len(paragraphs[index[t]][1])
        }
        out.append(Example(row["question"], paragraphs, gold, {p for p, _ in gold}))
    return out


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def load_musique(path: Path) -> list[Example]:
    """Read MuSiQue rows into examples (gold sentences hold each hop's answer)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        paragraphs = [(p["title"], _sentences(p["paragraph_text"])) for p in row["paragraphs"]]
        gold: set[tuple[int, int]] = set()
        gold_paragraphs: set[int] = set()
        for hop in row.get("question_decomposition", []):
            p = hop.get("paragraph_support_idx")
            if p is None or not 0 <= p < len(paragraphs):
                continue
            gold_paragraphs.add(p)
            answer = fold(str(hop.get("answer", ""))).strip()
            sents = paragraphs[p][1]
            hits = [i for i, s in enumerate(sents) if answer and answer in fold(s)]
            gold.update((p, i) for i in (hits or range(len(sents))))
        out.append(Example(row["question"], paragraphs, gold, gold_paragraphs))
    return out


def build_page(ex: Example) -> tuple[str, dict[tuple[int, int], tuple[int, int]]]:
    """Concatenate all paragraphs under ``## title`` headings; map sentences to spans."""
    parts: list[str] = []
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    pos = 0
    for p, (title, sents) in enumerate(ex.paragraphs):
        head = f"## {title}\n"
        parts.append(head)
        pos += len(head)
        for s, sent in enumerate(sents):
            sent = sent.strip()
            if s:
                parts.append(" ")
                pos += 1
            spans[(p, s)] = (pos, pos + len(sent))
            parts.append(sent)
            pos += len(sent)
        parts.append("\n\n")
        pos += 2
    return "".join(parts), spans


class MemoRelevance:
    """A scorer that remembers its answers: each (query, texts) is scored once."""

    def __init__(self, inner: Relevance) -> None:
        """Wrap ``inner``; ``tokens`` adds up what the provider reported."""
        self.inner = inner
        self.name = inner.name
        self.tokens = 0
        self.calls = 0
        self._seen: dict[tuple[str, tuple[str, ...]], list[float]] = {}

    async def score(self, query: str, documents: list[str]) -> tuple[list[float], int]:
        """Return the inner scorer's scores, asking it only for new inputs."""
        key = (query, tuple(documents))
        if key not in self._seen:
            scores, tokens = await self.inner.score(query, documents)
            self._seen[key] = scores
            self.tokens += tokens
            self.calls += 1
        return self._seen[key], 0


def make_scorer(kind: str) -> Relevance:
    """The model-free scorer (``local``), or the one the environment configures (``env``)."""
    if kind == "local":
        return LexicalRelevance()
    return MemoRelevance(make_relevance(Settings()))


async def passage_recall(
    examples: list[Example], budget: int, relevance: Relevance | None = None
) -> tuple[float, float, float]:
    """Return (sentence recall, mean tokens kept per page, mean page tokens) at ``budget``."""
    relevance = relevance or LexicalRelevance()
    found = total = 0
    kept: list[float] = []
    sizes: list[float] = []
    for ex in examples:
        page, spans = build_page(ex)
        passages, _ = await select_passages(ex.question, page, relevance, max_tokens=budget)
        kept.append(sum(len(p.shown()) for p in passages) / CHARS_PER_TOKEN)
        sizes.append(len(page) / CHARS_PER_TOKEN)
        for key in ex.gold_sentences:
            s, e = spans[key]
            total += 1
            found += any(p.start <= s and e <= p.end for p in passages)
    return found / max(total, 1), statistics.mean(kept), statistics.mean(sizes)


def _candidates(ex: Example) -> dict[str, Candidate]:
    out: dict[str, Candidate] = {}
    for p, (title, sents) in enumerate(ex.paragraphs):
        slug = re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-") or "x"
        url = f"https://p{p}-{slug[:40]}.example.org/wiki/{slug}"
        out[url] = Candidate(
            url=url,
            title=title,
            snippet=" ".join(sents),
            date=None,
            hits=1,
            score=0.0,
            weak=False,
        )
    return out


async def ranking_recall(
    examples: list[Example], relevance: Relevance | None = None
) -> dict[str, float]:
    """Return recall@5/@10 of gold paragraphs for rank_candidates and for plain BM25."""
    import bm25s

    relevance = relevance or LexicalRelevance()
    sums = {"ours@5": 0.0, "ours@10": 0.0, "bm25@5": 0.0, "bm25@10": 0.0}
    for ex in examples:
        cands = _candidates(ex)
        urls = list(cands)
        ranked, _ = await rank_candidates(
            ex.question, cands, relevance, exclude=set(), limit=len(urls), per_host=2
        )
        order = [urls.index(c["url"]) for c in ranked]
        docs = [f"{t} {' '.join(s)}" for t, s in ex.paragraphs]
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False
        )
        ids, _ = retriever.retrieve(
            bm25s.tokenize([ex.question], stopwords="en", show_progress=False),
            k=len(docs),
            show_progress=False,
        )
        base = [int(i) for i in ids[0]]
        gold = ex.gold_paragraphs
        for k in (5, 10):
            sums[f"ours@{k}"] += len(gold & set(order[:k])) / len(gold)
            sums[f"bm25@{k}"] += len(gold & set(base[:k])) / len(gold)
    return {k: v / len(examples) for k, v in sums.items()}


async def speed(examples: list[Example]) -> None:
    """Print timings: passage selection on a ~1 MB page, ranking 300 candidates."""
    relevance = LexicalRelevance()
    pages = [build_page(ex)[0] for ex in examples]
    big = "\n\n".join(pages)
    while len(big) < 1_000_000:
        big += "\n\n" + big
    t0 = time.perf_counter()
    await select_passages(examples[0].question, big[:1_000_000], relevance)
    page_ms = (time.perf_counter() - t0) * 1000
    cands: dict[str, Candidate] = {}
    for n, ex in enumerate(examples[:15]):
        for url, cand in _candidates(ex).items():
            cands[url.replace("https://", f"https://q{n}-")] = cand
    t0 = time.perf_counter()
    await rank_candidates(examples[0].question, cands, relevance, exclude=set(), limit=50)
    rank_ms = (time.perf_counter() - t0) * 1000
    print(f"== speed: 1 MB page {page_ms:.0f} ms; ranking {len(cands)} candidates {rank_ms:.0f} ms")


def split_halves(examples: list[Example]) -> dict[str, list[Example]]:
    """Return the tuning half (first 50) and the check half (the rest), and all of them.

    Constants are tuned looking at the first half only; the second half tells
    whether a gain holds on questions nobody looked at.
    """
    return {"all": examples, "tune": examples[:TUNE_SIZE], "check": examples[TUNE_SIZE:]}


async def report(name: str, examples: list[Example], relevance: Relevance | None = None) -> None:
    """Print passage recall per budget and ranking recall, for all, tune and check halves."""
    halves = split_halves(examples)
    print(f"== {name} train ({len(examples)} questions; tune = first {TUNE_SIZE}, check = rest)")
    for budget in BUDGETS:
        cells = []
        ms = 0.0
        kept = size = 0.0
        for half, exs in halves.items():
            t0 = time.perf_counter()
            recall, kept_h, size_h = await passage_recall(exs, budget, relevance)
            if half == "all":
                ms = (time.perf_counter() - t0) * 1000 / len(exs)
                kept, size = kept_h, size_h
            cells.append(f"{half}={recall:6.1%}")
        print(
            f"  passages  max_tokens={budget:5d}  recall {'  '.join(cells)}  "
            f"kept={kept:5.0f} tok/page (page {size:5.0f})  {ms:4.1f} ms/page"
        )
    for half, exs in halves.items():
        r = await ranking_recall(exs, relevance)
        print(
            f"  ranking {half:5s} recall@5 ours={r['ours@5']:.1%} bm25={r['bm25@5']:.1%}   "
            f"recall@10 ours={r['ours@10']:.1%} bm25={r['bm25@10']:.1%}"
        )


async def main(data: Path, scorer: str = "local") -> None:
    """Print the passage and ranking figures for both datasets."""
    sets = {
        "hotpotqa": load_hotpot(data / "hotpotqa_train_distractor_100.jsonl"),
        "musique": load_musique(data / "musique_train_100.jsonl"),
    }
    relevance = make_scorer(scorer)
    print(f"scorer: {relevance.name}")
    for name, examples in sets.items():
        await report(name, examples, relevance)
    if isinstance(relevance, MemoRelevance):
        print(f"== scorer calls: {relevance.calls}, provider tokens: {relevance.tokens}")
    await speed(sets["musique"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--scorer",
        choices=["local", "env"],
        default="local",
        help="local: model-free; env: the scorer DEEPSEARCH_EMBEDDINGS configures",
    )
    args = parser.parse_args()
    asyncio.run(main(args.data, args.scorer))
