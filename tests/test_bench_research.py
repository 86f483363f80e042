"""The loop benchmark and its web: WikiWorld behaves like a one-host wiki, the benchmark runs.

A smoke test on a handful of questions: it checks the web (one host, first-sentence
snippets in BM25 order through the real SearXNG provider, live and dead links) and the
structure of the benchmark's figures, not their values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import escape, unescape
from urllib.parse import urlsplit

import bm25s
import httpx
import pytest

from benchmarks.bench_research import main, parse_args, run_dataset
from deepsearch import aask, build_graph
from deepsearch.tools.search.searxng import SearxngSearch
from tests.support.brain import QuestionWordsBrain
from tests.support.chat_model import ScriptedChatModel
from tests.support.servers import serve
from tests.support.testweb import searxng_settings
from tests.support.world import LIVE_NAV, NAV_PATHS, World, split_sentences
from tests.support.world_data import Dataset, load_dataset


@pytest.fixture(scope="module")
def musique() -> Dataset:
    return load_dataset("musique")


@pytest.fixture(scope="module")
def world(musique: Dataset) -> Iterator[World]:
    web = World(musique.articles)
    with serve(web.app) as base:
        web.base_url = base
        yield web


async def test_search_gives_ten_first_sentence_snippets_on_one_host_in_bm25_order(
    world: World, musique: Dataset
) -> None:
    question = musique.questions[0].question
    response = await SearxngSearch(world.base_url).search(question, num_results=10)
    results = response.results
    assert len(results) == 10
    assert {urlsplit(r.url).netloc for r in results} == {urlsplit(world.base_url).netloc}
    articles = [world.articles[urlsplit(r.url).path] for r in results]
    for result, article in zip(results, articles, strict=True):
        assert result.title == article.title
        assert result.snippet == article.sentences[0]
        assert len(split_sentences(result.snippet)) == 1
        assert len(result.snippet) < len(article.text) or len(article.sentences) == 1
    # BM25 over title and text, computed apart from the web: the results are its top 10.
    corpus = [f"{a.title} {a.text}" for a in world.articles.values()]
    index = bm25s.BM25()
    index.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    query = bm25s.tokenize([question], stopwords="en", show_progress=False, return_ids=False)
    scores = index.get_scores(query[0])
    by_path = dict(zip(world.articles, scores, strict=True))
    got = [float(by_path[a.path]) for a in articles]
    assert got == sorted(got, reverse=True)
    assert got[-1] >= sorted(scores, reverse=True)[9] - 1e-6


async def test_pages_look_real_and_some_links_are_dead(world: World, musique: Dataset) -> None:
    article = next(a for a in world.articles.values() if len(a.related) == 3)
    async with httpx.AsyncClient(base_url=world.base_url) as client:
        page = await client.get(article.path)
        assert page.status_code == 200
        html = page.text
        assert f"<title>{escape(article.title)} - WikiWorld</title>" in html
        assert "See also" in html and article.text in unescape(html)
        hrefs = re.findall(r'href="([^"]+)"', html)
        assert set(hrefs) >= NAV_PATHS
        assert article.dead_link in hrefs and set(article.related) <= set(hrefs)
        for href in sorted(set(hrefs)):
            status = (await client.get(href)).status_code
            live = href in LIVE_NAV or href in world.articles
            assert status == (200 if live else 404), href
        assert {"/archive", "/contact", article.dead_link} <= {
            h for h in hrefs if h not in LIVE_NAV and h not in world.articles
        }
        search = await client.get("/search", params={"q": "journal"})
        assert search.status_code == 403, "SearXNG refuses a format it was not asked for"


def test_every_question_has_answer_holding_sentences_on_its_pages() -> None:
    for name in ("hotpotqa", "musique"):
        dataset = load_dataset(name)
        articles = {a.path: a for a in dataset.articles}
        assert len(dataset.questions) == 100
        for q in dataset.questions:
            assert q.evidence and q.answers
            for path, sentence in q.evidence:
                assert sentence in articles[path].sentences


async def test_the_benchmark_runs_the_loop_and_measures_it(musique: Dataset) -> None:
    runs = await run_dataset(musique, limit=3, concurrency=3)
    assert len(runs) == 3
    for run in runs:
        assert run.steps >= 1 and run.tokens > 0 and run.attempts >= run.read >= 0
        assert run.ending.startswith(("passed evaluation", "beast mode", "mode "))
        assert run.shown_unread, "the planner was called and shown its unread URLs"
        assert not run.reached or run.read > 0, "evidence reaches the answerer only by reading"


async def test_the_benchmark_prints_every_figure_per_dataset(capsys) -> None:
    await main(parse_args(["--limit", "2", "--concurrency", "2"]))
    out = capsys.readouterr().out
    for name in ("hotpotqa", "musique"):
        assert f"== {name} train: 2 questions" in out
    for label in (
        "evidence reach",
        "search ceiling",
        "accuracy",
        "answer page read",
        "tokens per question",
        "steps per question",
        "pages read/question",
        "dead-link reads (404)",
        "navigation pages read",
        "how runs ended:",
    ):
        assert out.count(label) == 2, label
    shares = re.findall(r"(\d+\.\d)%", out)
    assert shares and all(0.0 <= float(s) <= 100.0 for s in shares)


async def test_the_words_only_planner_searches_the_question_and_never_picks_urls(
    world: World, musique: Dataset, tmp_path
) -> None:
    question = musique.questions[1].question
    brain = QuestionWordsBrain()
    settings = searxng_settings(world.base_url, str(tmp_path / "cache.sqlite3"))
    graph = build_graph(model=ScriptedChatModel(brain=brain), settings=settings)
    before = len(world.queries)
    result = await aask(question, graph=graph, reasoning_effort="low")
    plans = [json.loads(c.reply) for c in brain.calls if c.role == "planner"]
    assert "search" in {p["action"] for p in plans}
    assert any(": read " in line for line in result.diary), "the run read pages"
    for plan in plans:
        assert plan.get("urls", []) == []
        assert plan.get("queries", [question]) == [question]
    assert set(world.queries[before:]) == {question}
    assert result.read_urls, "the product's own ranking chose pages to read"
