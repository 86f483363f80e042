"""Candidate ranking: filters, per-host cap, features, awaited relevance and its fallback."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from deepsearch.settings import Settings
from deepsearch.state import Candidate
from deepsearch.tools.embeddings import LexicalRelevance
from deepsearch.tools.embeddings.jina import JinaReranker
from deepsearch.tools.ranking import freshness, host_matches, hostname_of, rank_candidates
from tests.support_search.server import Recorded, Reply, serve

Q = "when did the great grey owl population decline"


def cand(url: str, title: str = "", snippet: str = "", **kw: object) -> Candidate:
    c = Candidate(url=url, title=title, snippet=snippet, date=None, hits=1, score=0.0, weak=False)
    c.update(kw)  # type: ignore[typeddict-item]
    return c


def pool(*cands: Candidate) -> dict[str, Candidate]:
    return {c["url"]: c for c in cands}


async def rank(cands: dict[str, Candidate], question: str = Q, **kw: object) -> list[Candidate]:
    args: dict[str, object] = {
        "boost_hostnames": [],
        "bad_hostnames": [],
        "only_hostnames": [],
        "exclude": set(),
    }
    args.update(kw)
    ranked, tokens = await rank_candidates(question, cands, LexicalRelevance(), **args)  # type: ignore[arg-type]
    assert tokens == 0
    return ranked


def test_host_helpers() -> None:
    assert hostname_of("https://WWW.Example.org:8080/a") == "example.org"
    assert host_matches("en.wikipedia.org", ["wikipedia.org"])
    assert host_matches("wikipedia.org", ["https://www.wikipedia.org/wiki"])
    assert not host_matches("notwikipedia.org", ["wikipedia.org"])
    assert host_matches("a.b.c.org", ["*.c.org"])


def test_freshness() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert freshness("2025-01-01", now=now) == 1.0
    assert 0.45 < freshness("2024-01-01T00:00:00Z", now=now) < 0.55
    assert freshness("3 days ago", now=now) > 0.99
    assert 0.0 < freshness("March 2010", now=now) < 0.1
    assert freshness(None) == 0.0 and freshness("someday") == 0.0


async def test_relevance_orders_results_and_scores_are_set() -> None:
    ranked = await rank(
        pool(
            cand("https://a.org/1", "Cooking pasta", "boil water"),
            cand("https://b.org/2", "Great grey owl", "The owl population declined in 1990"),
        )
    )
    assert [c["url"] for c in ranked] == ["https://b.org/2", "https://a.org/1"]
    assert ranked[0]["score"] > ranked[1]["score"] >= 0.0


async def test_filters_bad_only_and_excluded() -> None:
    cands = pool(
        cand("https://en.wikipedia.org/wiki/Owl", "Owl"),
        cand("https://spam.example/owl", "Owl"),
        cand("https://birds.org/owl", "Owl"),
        cand("https://birds.org/read", "Owl read"),
        cand("https://sub.birds.org/owl", "Owl"),
    )
    ranked = await rank(
        cands,
        bad_hostnames=["spam.example"],
        exclude={"https://birds.org/read/"},  # trailing slash still matches
    )
    urls = {c["url"] for c in ranked}
    assert "https://spam.example/owl" not in urls
    assert "https://birds.org/read" not in urls
    assert "https://en.wikipedia.org/wiki/Owl" in urls
    only = await rank(cands, only_hostnames=["birds.org"])
    assert {c["url"] for c in only} == {
        "https://birds.org/owl",
        "https://birds.org/read",
        "https://sub.birds.org/owl",
    }
    assert await rank(cands, bad_hostnames=["org", "example"]) == []


async def test_a_hosts_extra_results_are_pushed_down_never_hidden() -> None:
    cands = pool(*(cand(f"https://big.org/owl/{i}", f"Owl {i}", "owl") for i in range(10)))
    cands.update(pool(cand("https://small.org/x", "Owl", "owl")))
    ranked = await rank(cands, per_host=2)
    hosts = [hostname_of(c["url"]) for c in ranked]
    assert len(ranked) == 11, "every result stays readable"
    assert hosts[:3].count("big.org") == 2 and "small.org" in hosts[:3]
    assert all(c["score"] >= 0 for c in ranked)
    assert len(await rank(cands, per_host=10, limit=3)) == 3


async def test_one_host_results_rank_on_their_own_merit() -> None:
    cands = pool(
        *(cand(f"https://wiki.org/p{i}", f"Page {i}", "nothing relevant") for i in range(9)),
        cand("https://wiki.org/owl", "Great grey owl", "the great grey owl population declined"),
    )
    ranked = await rank(cands, per_host=2)
    assert len(ranked) == 10
    assert ranked[0]["url"] == "https://wiki.org/owl"


async def test_boost_hits_freshness_and_weak_links() -> None:
    base = ("Owl", "great grey owl population")
    today = datetime.now(UTC).date().isoformat()
    ranked = await rank(
        pool(
            cand("https://plain.org/a", *base),
            cand("https://boosted.org/a", *base),
            cand("https://popular.org/a", *base, hits=5),
            cand("https://fresh.org/a", *base, date=today),
            cand("https://weak.org/a", *base, weak=True),
        ),
        boost_hostnames=["boosted.org"],
    )
    order = [hostname_of(c["url"]) for c in ranked]
    assert order[0] == "boosted.org"
    assert order.index("popular.org") < order.index("plain.org")
    assert order.index("fresh.org") < order.index("plain.org")
    assert order[-1] == "weak.org"


async def test_input_candidates_are_not_mutated() -> None:
    c = cand("https://a.org/", "Owl", "owl")
    await rank(pool(c))
    assert c["score"] == 0.0


async def test_remote_relevance_is_awaited_and_its_tokens_reported() -> None:
    def rerank(request: Recorded) -> Reply:
        docs = request.json()["documents"]
        results = [
            {"index": i, "relevance_score": 0.99 if "secret" in d else 0.01}
            for i, d in enumerate(docs)
        ]
        return Reply(200, {"results": results, "usage": {"total_tokens": 77}})

    cands = pool(
        cand("https://a.org/1", "Great grey owl population decline", "owl owl"),
        cand("https://b.org/2", "Unrelated words", "the secret answer"),
    )
    with serve(rerank) as server:
        settings = Settings(
            JINA_API_KEY=SecretStr("k-0000"), JINA_RERANK_URL=server.url, _env_file=None
        )  # type: ignore[call-arg]
        ranked, tokens = await rank_candidates(
            Q,
            cands,
            JinaReranker(settings),
            boost_hostnames=[],
            bad_hostnames=[],
            only_hostnames=[],
            exclude=set(),
        )
    assert tokens == 77
    assert ranked[0]["url"] == "https://b.org/2"


async def test_remote_failure_falls_back_to_lexical() -> None:
    cands = pool(
        cand("https://a.org/1", "Cooking", "pasta"),
        cand("https://b.org/2", "Great grey owl", "population decline"),
    )
    with serve(lambda r: Reply(403, {"detail": "no"})) as server:
        settings = Settings(
            JINA_API_KEY=SecretStr("k-0000"), JINA_RERANK_URL=server.url, _env_file=None
        )  # type: ignore[call-arg]
        ranked, tokens = await rank_candidates(
            Q,
            cands,
            JinaReranker(settings),
            boost_hostnames=[],
            bad_hostnames=[],
            only_hostnames=[],
            exclude=set(),
        )
    assert tokens == 0
    assert ranked[0]["url"] == "https://b.org/2"


async def test_odd_candidates_do_not_crash() -> None:
    cands: dict[str, Candidate] = {
        "not a url": cand("not a url"),
        "https://ok.org/": cand("", "Owl"),  # url missing: the key is used
        "http://[::1": cand("http://[::1"),
    }
    cands["https://ok.org/"]["hits"] = 0
    ranked = await rank(cands)
    assert [c["url"] for c in ranked] == ["https://ok.org/"]
    assert await rank({}) == []


async def test_names_in_the_best_result_lift_the_next_hop() -> None:
    question = "Who was the first president of the body that awards the Zorbleck Prize?"
    cands = pool(
        cand("https://a.org/prize", "Zorbleck Prize", "Awarded by the Quillmar Society."),
        cand("https://b.org/soc", "Quillmar Society", "Founded 1890; a learned society."),
        *(
            cand(f"https://c{i}.org/x", f"Prize {i}", "A prize for the first essay.")
            for i in range(6)
        ),
    )
    ranked = await rank(cands, question)
    assert [c["url"] for c in ranked[:2]] == ["https://a.org/prize", "https://b.org/soc"]


async def test_a_page_titled_with_the_questions_name_beats_one_about_a_related_subject() -> None:
    # The title's qualifier and the site's name do not dilute the name it gives.
    snippet = "He was born in Skien in 1828."
    cands = pool(
        cand("https://a.org/on", "Oskar Velde and the Skien theatre", snippet),
        cand("https://b.org/of", "Oskar Velde (playwright) | Encyclopaedia of the North", snippet),
    )
    ranked = await rank(cands, "Where was Oskar Velde born?")
    assert [c["url"] for c in ranked] == ["https://b.org/of", "https://a.org/on"]
