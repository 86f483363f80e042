"""The evidence benchmark measures a configured scorer the way the product uses it.

``--scorer env`` builds the scorer from the environment (here an OpenAI-compatible
embeddings server on loopback); its answers are memoised across the benchmark's halves.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_evidence import (
    Example,
    MemoRelevance,
    make_scorer,
    passage_recall,
    ranking_recall,
)
from deepsearch.tools.embeddings.local import LexicalRelevance
from tests.support_search.server import Recorded, Reply, serve


def vector(text: str) -> list[float]:
    """A deterministic 'embedding': counts of a few letters."""
    return [float(text.lower().count(c)) for c in "aeioulnrst"] + [1.0]


def embeddings(request: Recorded) -> Reply:
    inputs = request.json()["input"]
    data = [
        {"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(inputs)
    ]
    return Reply(200, {"object": "list", "data": data, "usage": {"total_tokens": 3 * len(inputs)}})


def example(n: int) -> Example:
    filler = [f"Town {n}-{i} had a quiet market on most days of the year." for i in range(12)]
    paragraphs = [
        ("Harbour", filler),
        ("Lighthouse", [f"The lighthouse of town {n} was designed by Elsa Marrow.", *filler[:3]]),
        ("Bridges", filler),
    ]
    return Example(f"Who designed the lighthouse of town {n}?", paragraphs, {(1, 0)}, {1})


async def test_env_scorer_is_the_configured_one_and_pays_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    examples = [example(n) for n in range(3)]
    with serve(embeddings) as server:
        monkeypatch.setenv("DEEPSEARCH_EMBEDDINGS", "openai")
        monkeypatch.setenv("DEEPSEARCH_EMBEDDINGS_BASE_URL", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-000000")
        scorer = make_scorer("env")
        assert isinstance(scorer, MemoRelevance) and scorer.name != "local"
        recall, kept, size = await passage_recall(examples, 60, scorer)
        asked = len(server.requests)
        assert asked > 0 and scorer.tokens > 0
        assert 0.0 <= recall <= 1.0 and 0 < kept <= 60 < size
        assert await passage_recall(examples, 60, scorer) == (recall, kept, size)
        assert len(server.requests) == asked  # memoised: the second pass asks nothing
        ranks = await ranking_recall(examples, scorer)
    assert set(ranks) == {"ours@5", "ours@10", "bm25@5", "bm25@10"}
    assert all(0.0 <= v <= 1.0 for v in ranks.values())


def test_local_scorer_is_model_free() -> None:
    assert isinstance(make_scorer("local"), LexicalRelevance)
