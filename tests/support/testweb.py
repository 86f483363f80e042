"""A local test web: pages, a SearXNG-compatible search endpoint and hostile pages.

Everything is served on 127.0.0.1. ``/search?q=...&format=json`` answers in SearXNG's
JSON format by keyword overlap with the pages, so the real SearXNG provider and the
real direct reader drive the whole loop offline.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from deepsearch.settings import Settings

_WORD = re.compile(r"\w+")
STOP = {"the", "a", "an", "of", "in", "on", "to", "and", "is", "was", "what", "who", "which", "for"}


@dataclass
class WebPage:
    """A page of the test web."""

    title: str
    paragraphs: list[str]
    date: str | None = None
    links: list[str] = field(default_factory=list)
    nav: list[tuple[str, str]] = field(default_factory=list)  # (href, anchor text) in <nav>

    def html(self) -> str:
        """Render the page as a plausible article."""
        meta = (
            f'<meta property="article:published_time" content="{self.date}">' if self.date else ""
        )
        body = "\n".join(f"<p>{escape(p)}</p>" for p in self.paragraphs)
        links = "".join(f'<li><a href="{escape(u)}">{escape(u)}</a></li>' for u in self.links)
        nav = "".join(f'<a href="{escape(u)}">{escape(t)}</a> ' for u, t in self.nav)
        return (
            f"<!doctype html><html><head><title>{escape(self.title)}</title>{meta}</head>"
            f"<body><nav><a href='/'>Home</a> {nav}</nav><article><h1>{escape(self.title)}</h1>"
            f"{body}</article><ul>{links}</ul><footer>Test web</footer></body></html>"
        )

    def text(self) -> str:
        """Return the page's plain text."""
        return " ".join([self.title, *self.paragraphs])


DEFAULT_PAGES: dict[str, WebPage] = {
    "/wiki/eiffel-tower": WebPage(
        "Eiffel Tower",
        [
            "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.",
            "It is named after the engineer Gustave Eiffel, whose company designed and built the tower.",
            "The tower was completed in 1889 as the entrance arch to the 1889 World's Fair.",
            "The tower is 330 metres tall, about the same height as an 81-storey building.",
        ],
        date="2024-03-01",
    ),
    "/wiki/gustave-eiffel": WebPage(
        "Gustave Eiffel",
        [
            "Alexandre Gustave Eiffel was a French civil engineer born on 15 December 1832 in Dijon.",
            "His company built the Eiffel Tower for the 1889 Universal Exposition in Paris.",
            "He died on 27 December 1923 in Paris.",
        ],
        date="2023-11-20",
    ),
    "/news/statue-of-liberty": WebPage(
        "Statue of Liberty",
        [
            "The Statue of Liberty was designed by Frédéric Auguste Bartholdi.",
            "Its metal framework was built by Gustave Eiffel.",
            "The statue was dedicated on October 28, 1886 in New York Harbor.",
        ],
        date="2022-06-10",
    ),
    "/blog/paris-travel": WebPage(
        "Paris travel tips",
        [
            "Paris is the capital of France and a popular travel destination.",
            "Visitors enjoy the Louvre, Notre-Dame and the view from the Eiffel Tower.",
        ],
    ),
}


def searxng_settings(base_url: str, cache: str = "off") -> Settings:
    """Settings for a run over a local web: its SearXNG endpoint, the direct reader, local
    relevance, loopback reads allowed, and ``cache`` (``"off"``, or a SQLite file)."""
    return Settings(
        DEEPSEARCH_SEARCH_PROVIDER="searxng",
        SEARXNG_URL=base_url,
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
        DEEPSEARCH_CACHE=cache,
        _env_file=None,  # type: ignore[call-arg]
    )


class TestWeb:
    """The ASGI app of the test web, with a request log for assertions."""

    __test__ = False  # a fixture, not a test class (pytest collects Test* names)

    def __init__(self, pages: dict[str, WebPage] | None = None) -> None:
        self.pages = dict(DEFAULT_PAGES if pages is None else pages)
        self.hits: Counter[str] = Counter()
        self.queries: list[str] = []
        self.base_url = ""  # set by the fixture once served
        self.app = Starlette(
            routes=[
                Route("/search", self.search),
                Route("/hostile/slow", self.slow),
                Route("/hostile/huge", self.huge),
                Route("/hostile/redirect-loopback", self.redirect_loopback),
                Route("/hostile/redirect-metadata", self.redirect_metadata),
                Route("/hostile/binary", self.binary),
                Route("/hostile/latin1", self.latin1),
                Route("/{path:path}", self.page),
            ]
        )

    async def page(self, request: Request) -> Response:
        """Serve a page of the test web."""
        path = "/" + request.path_params["path"]
        self.hits[path] += 1
        page = self.pages.get(path)
        if page is None:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        return HTMLResponse(page.html())

    async def search(self, request: Request) -> Response:
        """SearXNG's JSON API: ``GET /search?q=...&format=json``."""
        q = request.query_params.get("q", "")
        self.queries.append(q)
        if request.query_params.get("format") != "json":
            return Response("format must be json", status_code=403)
        terms = {w for w in _WORD.findall(q.lower()) if w not in STOP}
        scored = []
        for path, page in self.pages.items():
            overlap = len(terms & set(_WORD.findall(page.text().lower())))
            if overlap:
                scored.append((overlap, path, page))
        scored.sort(key=lambda t: -t[0])
        results = [
            {
                "url": f"{self.base_url}{path}",
                "title": page.title,
                "content": page.paragraphs[0][:200],
                "publishedDate": page.date,
                "engine": "testweb",
            }
            for _, path, page in scored[:10]
        ]
        return JSONResponse({"query": q, "number_of_results": len(results), "results": results})

    async def slow(self, request: Request) -> Response:
        """A page that trickles bytes and never finishes."""
        self.hits["/hostile/slow"] += 1

        async def trickle():
            yield b"<html><body><p>"
            for _ in range(100_000):
                await asyncio.sleep(0.5)
                yield b"."

        return StreamingResponse(trickle(), media_type="text/html")

    async def huge(self, request: Request) -> Response:
        """A 50 MB page."""
        self.hits["/hostile/huge"] += 1

        async def chunks():
            yield b"<html><body>"
            block = b"<p>" + b"lorem ipsum dolor sit amet " * 400 + b"</p>"
            for _ in range(50_000_000 // len(block)):
                yield block

        return StreamingResponse(chunks(), media_type="text/html")

    async def redirect_loopback(self, request: Request) -> Response:
        """A redirect into loopback."""
        return RedirectResponse("http://127.0.0.1:1/admin", status_code=302)

    async def redirect_metadata(self, request: Request) -> Response:
        """A redirect into the cloud metadata service."""
        return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)

    async def binary(self, request: Request) -> Response:
        """A binary file."""
        return Response(bytes(range(256)) * 100, media_type="application/octet-stream")

    async def latin1(self, request: Request) -> Response:
        """A page in ISO-8859-1."""
        html = "<html><head><title>Café</title></head><body><p>Crème brûlée à la française, déjà vu.</p></body></html>"
        return Response(html.encode("latin-1"), media_type="text/html; charset=iso-8859-1")
