"""The loop on a web like the real one: every result on one host, one-sentence snippets,
navigation links and dead links, repeated searches, answers resting on a snippet.

Each test runs the whole graph through ``deepsearch.aask`` against a local web served
over HTTP (the real SearXNG provider and the real direct reader), or against in-process
providers where the engine's order must be controlled exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from deepsearch import aask, build_graph
from deepsearch.citations import normalize
from deepsearch.settings import Settings
from deepsearch.tools.base import Page, ProviderError, SearchResponse, SearchResult
from tests.support.brain import Brain, field_of
from tests.support.chat_model import ScriptedChatModel
from tests.support.servers import serve
from tests.support.testweb import TestWeb, WebPage, searxng_settings

NAV = [("/archive", "Archive"), ("/about", "About us"), ("/contact", "Contact")]
QUESTION = "In which year did the Karsvik lighthouse first shine?"
ANSWER = "The Karsvik lighthouse first shone in 1894, lit by keeper Ida Strand."


def karsvik_pages() -> dict[str, WebPage]:
    """Ten pages about Karsvik on one site; only the ninth says when the lighthouse first shone.

    The first sentence (the engine's snippet) of every page says nothing of the
    question, as on the real web, while the page URLs name the lighthouse: a link
    that borrowed the relevance of the page it was found on would outrank them.
    """
    pages = {}
    for i in range(10):
        body = [
            f"Notes from the harbour, part {i}.",
            f"The Karsvik lighthouse keepers logged {i + 3} storms that winter.",
        ]
        if i == 8:
            body.append(ANSWER)
        pages[f"/wiki/karsvik-lighthouse-{i}"] = WebPage(f"Harbour notes {i}", body, nav=NAV)
    return pages


@pytest.fixture
def one_site() -> Iterator[TestWeb]:
    """A one-host web of ten Karsvik pages with navigation links that are dead (404)."""
    web = TestWeb(karsvik_pages())
    with serve(web.app) as base:
        web.base_url = base
        yield web


def reading_brain() -> Brain:
    """A planner that never picks URLs (the ranking chooses) and answers once a page says it."""
    brain = Brain()

    def plan(system: str, user: str) -> str:
        allowed = field_of(user, "Allowed actions")
        if "answer" in allowed and "1894" in user.split("Sources already read:", 1)[-1]:
            return json.dumps({"action": "answer"})
        if "read" in allowed:
            return json.dumps({"action": "read"})
        return json.dumps({"action": "search", "queries": ["Karsvik lighthouse"]})

    brain.handlers["planner"] = plan
    return brain


def read_paths(web: TestWeb, urls: list[str]) -> list[str]:
    return [u.removeprefix(web.base_url) for u in urls]


async def test_a_one_host_result_set_is_read_in_full_within_budget(one_site, tmp_path) -> None:
    brain = Brain()
    brain.handlers["planner"] = lambda s, u: json.dumps({"action": "read"})
    brain.handlers["answerer"] = lambda s, u: json.dumps({"answer": "", "references": []})
    graph = build_graph(
        model=ScriptedChatModel(brain=brain), settings=searxng_settings(one_site.base_url)
    )
    # Answers never pass (the answerer writes nothing), so research goes on.
    result = await aask(
        "Karsvik lighthouse storms", graph=graph, reasoning_effort="low", max_attempts=5
    )
    pages = set(read_paths(one_site, result.read_urls))
    assert pages == set(karsvik_pages()), "all ten results of the one host were read"
    reads = [m.group(0) for line in result.diary if (m := re.search(r"read \d+ of \d+", line))]
    assert reads[:2] == ["read 5 of 5", "read 5 of 5"], (
        "each read step read five pages: no host quota hid the results"
    )


async def test_navigation_links_and_dead_links_do_not_end_the_run(one_site, tmp_path) -> None:
    graph = build_graph(
        model=ScriptedChatModel(brain=reading_brain()),
        settings=searxng_settings(one_site.base_url),
    )
    result = await aask(QUESTION, graph=graph, reasoning_effort="low")
    assert "1894" in result.answer
    assert result.references and all(
        normalize(r["exactQuote"]) in normalize(ANSWER) for r in result.references
    )
    # Search results were read before any navigation link; none of the dead links was.
    for path, _ in NAV:
        assert one_site.hits[path] == 0, f"{path} outranked unread search results"
    assert one_site.hits["/"] == 0
    assert "no progress" not in " ".join(result.diary)


async def test_a_search_of_repeated_queries_becomes_a_read(one_site, tmp_path) -> None:
    brain = Brain()
    brain.script(
        "planner",
        {"action": "search", "queries": ["Karsvik lighthouse"]},
        # step 2 reads the new results without asking the planner
        {"action": "search", "queries": ["Karsvik lighthouse", "karsvik  LIGHTHOUSE"]},
    )
    graph = build_graph(
        model=ScriptedChatModel(brain=brain), settings=searxng_settings(one_site.base_url)
    )
    result = await aask(QUESTION, graph=graph, reasoning_effort="low")
    step3 = [line for line in result.diary if line.startswith("Step 3:")]
    assert step3 and step3[0].startswith("Step 3: read"), step3
    assert len(one_site.queries) == 1, "the repeated queries were not sent again"
    assert "/wiki/karsvik-lighthouse-8" in read_paths(one_site, result.read_urls)
    assert "1894" in result.answer


class OrderedSearch:
    """A search engine whose result order is given: it ranked on text we do not see."""

    name = "ordered"

    def __init__(self, results: list[SearchResult]) -> None:
        self.results = results

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        return SearchResponse(results=self.results[:num_results])


class DictReader:
    """Reads pages from a dict; unknown URLs fail like a 404."""

    name = "dict"

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.reads: list[str] = []

    async def read(self, url: str) -> Page:
        self.reads.append(url)
        if url not in self.texts:
            raise ProviderError(self.name, f"404 for {url}")
        return Page(url=url, text=self.texts[url], title=url.rsplit("/", 1)[-1])


async def test_the_engines_order_counts(offline_settings) -> None:
    # Ten hosts (so no host quota is involved). The engine put the answer page first:
    # it matched the full text. Its snippet says a little less than the decoys' snippets,
    # so on title and snippet alone it would be read last.
    question = "When did the Vellmar bridge open to traffic?"
    results = [SearchResult("https://a0.example/vellmar", "Vellmar bridge", "Vellmar bridge.")]
    texts = {results[0].url: "The Vellmar bridge opened to traffic in 1931."}
    for i in range(1, 10):
        url = f"https://a{i}.example/bridge"
        results.append(SearchResult(url, "Vellmar bridge", "Vellmar bridge traffic."))
        texts[url] = "Traffic reports. The roads were busy in spring."
    reader = DictReader(texts)
    brain = Brain()
    brain.handlers["planner"] = lambda s, u: json.dumps(
        {"action": "read"} if "Vellmar" in u.split("Unread URLs", 1)[-1] else {"action": "search"}
    )
    graph = build_graph(
        model=ScriptedChatModel(brain=brain),
        search=OrderedSearch(results),
        reader=reader,
        settings=offline_settings,
    )
    result = await aask(question, graph=graph, reasoning_effort="low")
    first_step = reader.reads[:5]
    assert results[0].url in first_step, "the engine's first result was among the first read"
    assert "1931" in result.answer


async def test_an_answer_resting_on_a_snippet_reads_its_page_first(offline_settings) -> None:
    question = "Who designed the Orrin clock tower?"
    url = "https://clocks.example/orrin"
    # Five pages the engine ranks first say nothing of the designer; the sixth result's
    # snippet does, but a read step takes five pages: it is still unread when the run
    # decides to answer.
    decoy = "Who designed the Orrin clock tower? The Orrin clock tower and its design."
    results = [
        SearchResult(f"https://x{i}.example/orrin", "Orrin clock tower", decoy) for i in range(5)
    ]
    results.append(SearchResult(url, "Clocks of the north", "Mae Tull designed it in 1902."))
    texts = {r.url: "The Orrin clock tower stands in the square." for r in results[:5]}
    texts[url] = "History.\n\nThe Orrin clock tower was designed by Mae Tull in 1902."
    reader = DictReader(texts)
    brain = Brain()
    brain.script("planner", {"action": "search", "queries": ["Orrin clock tower"]})
    graph = build_graph(
        model=ScriptedChatModel(brain=brain),
        search=OrderedSearch(results),
        reader=reader,
        settings=offline_settings,
    )
    result = await aask(question, graph=graph, reasoning_effort="low")
    assert reader.reads[:5] == [r.url for r in results[:5]], "the first read took the top five"
    assert reader.reads[5:] == [url], "the snippet's page was read before the answer"
    assert any(line.startswith("Step 3: read") and url in line for line in result.diary)
    assert "Mae Tull" in result.answer
    assert result.references and result.references[0]["url"] == url
    assert result.mode == "researched"
    assert result.steps == 3, "the page was read in the answer's own step"


def never_satisfied_reader_brain() -> Brain:
    """A planner that always asks to read and an answerer that never writes anything."""
    brain = Brain()
    brain.handlers["planner"] = lambda s, u: json.dumps({"action": "read"})
    brain.handlers["answerer"] = lambda s, u: json.dumps({"answer": "", "references": []})
    return brain


async def test_only_hostnames_with_a_single_host_reads_as_deep_as_the_budget_allows(
    one_site, tmp_path
) -> None:
    graph = build_graph(
        model=ScriptedChatModel(brain=never_satisfied_reader_brain()),
        settings=searxng_settings(one_site.base_url),
    )
    result = await aask(
        "Karsvik lighthouse storms",
        graph=graph,
        reasoning_effort="low",
        max_attempts=5,
        only_hostnames=["127.0.0.1"],
    )
    assert set(read_paths(one_site, result.read_urls)) == set(karsvik_pages())


async def test_the_local_corpus_reads_as_deep_as_the_budget_allows(tmp_path) -> None:
    from deepsearch.tools.corpus import index_corpus

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(10):
        (docs / f"log-{i}.md").write_text(
            f"# Harbour log {i}\n\nThe Karsvik lighthouse keepers logged {i + 3} storms.\n"
        )
    db = tmp_path / "corpus.sqlite3"
    index_corpus(docs, db)
    settings = Settings(
        DEEPSEARCH_SEARCH_PROVIDER="local",
        DEEPSEARCH_CORPUS=str(db),
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_CACHE="off",
        _env_file=None,  # type: ignore[call-arg]
    )
    graph = build_graph(
        model=ScriptedChatModel(brain=never_satisfied_reader_brain()), settings=settings
    )
    result = await aask(
        "Karsvik lighthouse storms", graph=graph, reasoning_effort="low", max_attempts=5
    )
    read = {u.split("#", 1)[0] for u in result.read_urls}
    assert read == {f"corpus://log-{i}.md" for i in range(10)}
