"""WikiWorld: a one-host local web built like the real one, for the loop benchmark and tests.

Every page lives on one host (``127.0.0.1:<port>``), as with a single wiki, a local corpus
or ``only_hostnames``. Pages are real-looking HTML: a ``<title>`` "Title - WikiWorld", a
header nav (``/`` and ``/about`` live, ``/archive`` and ``/contact`` dead), the article,
and a "See also" box of related articles (their titles as anchor text) plus one dead
link. ``GET /search?q=...&format=json`` answers in SearXNG's JSON format: the 10 best
pages by BM25 over title and text, in the engine's order, each with the article's first
sentence as snippet (short, as real engines give). Unlike ``tests/support/testweb.py``,
nothing here is arranged to suit the agent.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

import bm25s
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

SITE = "WikiWorld"
RESULTS = 10
RELATED = 3  # real "See also" links per article (one dead link is added)
NAV = (("/", "Main page"), ("/archive", "Archive"), ("/about", "About"), ("/contact", "Contact"))
NAV_PATHS = frozenset(p for p, _ in NAV)
LIVE_NAV = frozenset({"/", "/about"})  # /archive and /contact answer 404
FEATURED = 8  # articles the main page links to

# A sentence ends at . ! ? before a capital or a digit, not after an initial ("J. Smith")
# or a common abbreviation.
_ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "No", "vs", "Co", "Inc", "Ltd", "Mt")
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\b[A-Z]\.)"
    + "".join(rf"(?<!\b{a}\.)" for a in _ABBREVIATIONS)
    + r"\s+(?=[\"'(\[]?[A-Z0-9])"
)


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (the engine's own splitter, not the product's)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def slugify(title: str) -> str:
    """Return the path slug of a title: ASCII-folded, lowercase, words joined by ``_``."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", folded).strip("_") or "article"


@dataclass
class Article:
    """One page of WikiWorld: one paragraph of a dataset under its title."""

    path: str
    title: str
    sentences: list[str]
    related: list[str] = field(default_factory=list)  # paths of "See also" articles

    @property
    def text(self) -> str:
        """Return the paragraph as one text."""
        return " ".join(self.sentences)

    @property
    def snippet(self) -> str:
        """Return what the engine shows: the first sentence."""
        return self.sentences[0] if self.sentences else ""

    def body_html(self) -> str:
        """Return the article's own text as HTML (one paragraph)."""
        return f"<p>{escape(self.text)}</p>"

    @property
    def dead_link(self) -> str:
        """Return this article's dead "See also" link."""
        return f"{self.path}_(disambiguation)"


@dataclass
class Hit:
    """One request the web answered."""

    path: str
    status: int


def _page(title: str, body: str) -> str:
    nav = " | ".join(f'<a href="{p}">{escape(t)}</a>' for p, t in NAV)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - {SITE}</title></head><body>"
        f'<header><nav><a href="/" class="logo">{SITE}</a> {nav}</nav>'
        '<form action="/search"><input name="q" placeholder="Search"></form></header>'
        f"<main>{body}</main><footer><p>{SITE}, the free encyclopedia. Text is available "
        "under a Creative Commons licence.</p></footer></body></html>"
    )


class World:
    """The pages, the search engine over them and the ASGI app that serves both."""

    def __init__(self, articles: Iterable[Article]) -> None:
        """Index ``articles`` (their paths must be unique) with BM25 over title and text."""
        self.articles: dict[str, Article] = {}
        for article in articles:
            if article.path in self.articles:
                raise ValueError(f"two articles at {article.path}")
            self.articles[article.path] = article
        self._order = list(self.articles)
        self._index = bm25s.BM25()
        corpus = [f"{a.title} {a.text}" for a in self.articles.values()]
        self._index.index(
            bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False
        )
        for article in self.articles.values():
            if not article.related:
                article.related = self._related(article)
        self.base_url = ""  # set once served
        self.hits: list[Hit] = []
        self.queries: list[str] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/search", self.search_endpoint),
                Route("/{path:path}", self.page_endpoint),
            ]
        )

    # --- the engine -------------------------------------------------------------------
    def search(self, query: str, k: int = RESULTS) -> list[Article]:
        """Return the ``k`` best articles for ``query`` by BM25, best first (score > 0 only)."""
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, len(self._order))
        ids, scores = self._index.retrieve(tokens, k=k, show_progress=False)
        return [
            self.articles[self._order[int(i)]]
            for i, s in zip(ids[0], scores[0], strict=True)
            if float(s) > 0 and np.isfinite(s)
        ]

    def _related(self, article: Article) -> list[str]:
        """Link the articles whose title the text names, then the engine's nearest by title."""
        if not hasattr(self, "_titles"):
            self._titles = {
                f" {_words(a.title)} ": a.path for a in self.articles.values() if len(a.title) > 3
            }
        text = f" {_words(article.text)} "
        named = [p for t, p in self._titles.items() if t in text]
        similar = [a.path for a in self.search(article.title, RELATED + 1)]
        related: list[str] = []
        for path in [*named, *similar]:
            if path != article.path and path not in related and len(related) < RELATED:
                related.append(path)
        return related

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this web."""
        return f"{self.base_url}{path}"

    # --- the app ----------------------------------------------------------------------
    async def search_endpoint(self, request: Request) -> Response:
        """SearXNG's JSON API: ``GET /search?q=...&format=json``."""
        q = request.query_params.get("q", "")
        if request.query_params.get("format") != "json":
            return Response("format must be json", status_code=403)
        with self._lock:
            self.queries.append(q)
        results = [
            {
                "url": self.url(a.path),
                "title": a.title,
                "content": a.snippet,
                "engine": "wikiworld",
                "engines": ["wikiworld"],
                "positions": [rank],
                "score": round(1.0 / rank, 4),
                "category": "general",
            }
            for rank, a in enumerate(self.search(q), start=1)
        ]
        return JSONResponse(
            {"query": q, "number_of_results": len(results), "results": results, "answers": []}
        )

    async def page_endpoint(self, request: Request) -> Response:
        """Serve an article, the main page, the about page, or a 404."""
        path = "/" + request.path_params["path"]
        status, html = self.render(path)
        with self._lock:
            self.hits.append(Hit(path, status))
        return HTMLResponse(html, status_code=status)

    def render(self, path: str) -> tuple[int, str]:
        """Return the status and HTML of ``path``."""
        article = self.articles.get(path)
        if article is not None:
            return 200, self._article_html(article)
        if path == "/":
            featured = "".join(
                f'<li><a href="{escape(p)}">{escape(self.articles[p].title)}</a></li>'
                for p in self._order[:FEATURED]
            )
            body = (
                f"<h1>Welcome to {SITE}</h1><p>{SITE} is a free encyclopedia of "
                f"{len(self.articles)} articles that anyone can read.</p>"
                f"<h2>Featured articles</h2><ul>{featured}</ul>"
            )
            return 200, _page("Main page", body)
        if path == "/about":
            body = (
                f"<h1>About {SITE}</h1><p>{SITE} is a volunteer project to collect "
                "short encyclopedic articles. Articles are written and checked by readers; "
                "corrections are welcome through the contact page.</p>"
            )
            return 200, _page("About", body)
        return 404, _page("Not found", "<h1>Not found</h1><p>There is no such page.</p>")

    def _article_html(self, article: Article) -> str:
        links = [(p, self.articles[p].title) for p in article.related if p in self.articles]
        links.append((article.dead_link, f"{article.title} (disambiguation)"))
        see_also = "".join(f'<li><a href="{escape(p)}">{escape(t)}</a></li>' for p, t in links)
        body = (
            f"<article><h1>{escape(article.title)}</h1>{article.body_html()}</article>"
            f"<aside><h2>See also</h2><ul>{see_also}</ul></aside>"
        )
        return _page(article.title, body)


def build_articles(
    groups: Sequence[Sequence[tuple[str, list[str]]]],
) -> tuple[list[Article], list[list[str]]]:
    """Turn groups of paragraphs (one group per question) into articles with paths and links.

    A paragraph seen twice (same title and text) is one article; two different paragraphs
    under one title get distinct paths (``Title``, ``Title_2``).

    Args:
        groups: Per question, its paragraphs as (title, sentences).

    Returns:
        The articles, and per group the path of each of its paragraphs.
    """
    by_key: dict[tuple[str, str], Article] = {}
    taken: set[str] = set()
    paths: list[list[str]] = []
    for group in groups:
        row: list[str] = []
        for title, sentences in group:
            key = (title, " ".join(sentences))
            article = by_key.get(key)
            if article is None:
                base = "/wiki/" + slugify(title)
                path, n = base, 1
                while path in taken:
                    n += 1
                    path = f"{base}_{n}"
                taken.add(path)
                article = by_key[key] = Article(path, title, list(sentences))
            row.append(article.path)
        paths.append(row)
    articles = list(by_key.values())
    return articles, paths


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))
