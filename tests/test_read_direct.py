"""The direct reader against a real local web server (HTML, text, PDF, hostile pages)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from deepsearch.settings import Settings
from deepsearch.tools.base import BlockedURLError, ProviderError
from deepsearch.tools.read import make_reader
from deepsearch.tools.read.direct import DirectReader, decode, sniff_kind
from tests.support.pdf import minimal_pdf
from tests.support.servers import serve

ARTICLE = """<!doctype html><html><head><title>The Owl Report</title>
<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head>
<body><nav><a href="/home">Home</a> <a href="mailto:x@y.z">mail</a></nav>
<article><h1>Owls of the northern forests</h1>
<p>The great grey owl is the largest owl of the boreal forest by length. It hunts voles
under deep snow, hearing them from thirty metres away.</p>
<p>Snowy owls migrate south in irruption years, when lemming numbers crash in the Arctic
tundra, and are then seen on beaches and airfields.</p>
<p>See <a href="/owls/snowy#habits">snowy owls</a> and <a href="https://other.example/x">elsewhere</a>
and <a href="javascript:void(0)">nothing</a>.</p></article></body></html>"""


class Hits:
    """Counts requests per path."""

    def __init__(self) -> None:
        self.paths: list[str] = []


HITS = Hits()


async def article(request: Request) -> Response:
    HITS.paths.append(request.url.path)
    return HTMLResponse(ARTICLE)


async def plain(request: Request) -> Response:
    return Response("Line one about owls.\nLine two.", media_type="text/plain")


async def pdf(request: Request) -> Response:
    return Response(minimal_pdf("Owls hunt at night", "Owl paper"), media_type="application/pdf")


async def pdf_as_octet(request: Request) -> Response:
    return Response(
        minimal_pdf("Sniffed owl PDF", "Owl paper"), media_type="application/octet-stream"
    )


async def broken_pdf(request: Request) -> Response:
    return Response(b"%PDF-1.4\n garbage garbage", media_type="application/pdf")


async def png(request: Request) -> Response:
    return Response(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, media_type="image/png")


async def octet_binary(request: Request) -> Response:
    return Response(bytes(range(256)) * 100, media_type="application/octet-stream")


async def html_no_type(request: Request) -> Response:
    return Response(ARTICLE.encode(), headers={"Content-Type": "application/octet-stream"})


async def latin1_header(request: Request) -> Response:
    html = "<html><head><title>Café</title></head><body><p>Crème brûlée, déjà vu.</p></body></html>"
    return Response(html.encode("latin-1"), media_type="text/html; charset=iso-8859-1")


async def meta_charset(request: Request) -> Response:
    html = (
        '<html><head><meta charset="windows-1252"><title>Naïve</title></head>'
        "<body><p>Smart “quotes” and a café.</p></body></html>"
    )
    return Response(html.encode("cp1252"), headers={"Content-Type": "text/html"})


async def not_found(request: Request) -> Response:
    return HTMLResponse("<h1>gone</h1>", status_code=404)


async def busy(request: Request) -> Response:
    return HTMLResponse("busy", status_code=503)


async def redirect(request: Request) -> Response:
    return RedirectResponse("/article", status_code=302)


async def empty(request: Request) -> Response:
    return HTMLResponse("<html><body><script>var x=1;</script></body></html>")


async def slow(request: Request) -> Response:
    async def trickle() -> AsyncIterator[bytes]:
        yield b"<html><body><p>"
        for _ in range(10_000):
            await asyncio.sleep(0.1)
            yield b"owl "

    return StreamingResponse(trickle(), media_type="text/html")


async def huge(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"<html><body>"
        block = b"<p>" + b"lorem ipsum dolor sit amet " * 400 + b"</p>"
        for _ in range(50_000_000 // len(block)):
            yield block

    return StreamingResponse(chunks(), media_type="text/html")


APP = Starlette(
    routes=[
        Route("/article", article),
        Route("/plain", plain),
        Route("/paper.pdf", pdf),
        Route("/download", pdf_as_octet),
        Route("/broken.pdf", broken_pdf),
        Route("/image.png", png),
        Route("/blob", octet_binary),
        Route("/untyped", html_no_type),
        Route("/latin1", latin1_header),
        Route("/meta-charset", meta_charset),
        Route("/missing", not_found),
        Route("/busy", busy),
        Route("/redirect", redirect),
        Route("/empty", empty),
        Route("/slow", slow),
        Route("/huge", huge),
    ]
)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve(APP) as base:
        yield base


def reader(**overrides: object) -> DirectReader:
    settings = Settings(
        DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    )
    return DirectReader(settings)


async def test_html_article_text_title_date_links(site: str) -> None:
    page = await reader().read(f"{site}/article")
    assert "great grey owl" in page.text
    assert "lemming" in page.text
    assert "Home" not in page.text.split("\n")[0]
    assert "Owl" in page.title
    assert page.date and page.date.startswith("2024-03-05")
    assert page.content_type == "text/html"
    assert f"{site}/owls/snowy" in page.links  # absolute, fragment dropped
    assert "https://other.example/x" in page.links
    assert all(link.startswith(("http://", "https://")) for link in page.links)
    assert page.tokens == 0


async def test_redirect_is_followed_and_final_url_kept(site: str) -> None:
    page = await reader().read(f"{site}/redirect")
    assert page.url == f"{site}/redirect"
    assert page.final_url == f"{site}/article"
    assert "great grey owl" in page.text


async def test_plain_text(site: str) -> None:
    page = await reader().read(f"{site}/plain")
    assert page.text.startswith("Line one about owls.")
    assert page.content_type == "text/plain"


async def test_pdf_text_and_title(site: str) -> None:
    page = await reader().read(f"{site}/paper.pdf")
    assert "Owls hunt at night" in page.text
    assert page.title == "Owl paper"
    assert page.content_type == "application/pdf"


async def test_pdf_sniffed_from_bytes(site: str) -> None:
    page = await reader().read(f"{site}/download")
    assert "Sniffed owl PDF" in page.text


async def test_broken_pdf_is_a_provider_error(site: str) -> None:
    with pytest.raises(ProviderError):
        await reader().read(f"{site}/broken.pdf")


@pytest.mark.parametrize("path", ["/image.png", "/blob"])
async def test_binaries_are_refused(site: str, path: str) -> None:
    with pytest.raises(ProviderError, match="unsupported content type"):
        await reader().read(site + path)


async def test_html_sniffed_without_a_content_type(site: str) -> None:
    page = await reader().read(f"{site}/untyped")
    assert "great grey owl" in page.text


async def test_charset_from_header(site: str) -> None:
    page = await reader().read(f"{site}/latin1")
    assert "Crème brûlée" in page.text
    assert page.title == "Café"


async def test_charset_from_meta(site: str) -> None:
    page = await reader().read(f"{site}/meta-charset")
    assert "“quotes”" in page.text and "café" in page.text


async def test_http_errors(site: str) -> None:
    with pytest.raises(ProviderError) as missing:
        await reader().read(f"{site}/missing")
    assert "404" in str(missing.value) and not missing.value.retryable
    with pytest.raises(ProviderError) as unavailable:
        await reader().read(f"{site}/busy")
    assert unavailable.value.retryable


async def test_page_without_text_is_an_error(site: str) -> None:
    with pytest.raises(ProviderError, match="no text"):
        await reader().read(f"{site}/empty")


async def test_trickling_server_hits_the_total_deadline(site: str) -> None:
    started = time.monotonic()
    with pytest.raises(ProviderError) as err:
        await reader(DEEPSEARCH_FETCH_TIMEOUT=1.0).read(f"{site}/slow")
    assert time.monotonic() - started < 3
    assert err.value.retryable


async def test_huge_page_stops_at_the_byte_cap(site: str) -> None:
    started = time.monotonic()
    page = await reader(DEEPSEARCH_FETCH_MAX_BYTES=200_000).read(f"{site}/huge")
    assert "lorem ipsum" in page.text
    assert len(page.text) <= 200_000
    assert time.monotonic() - started < 10


async def test_guard_refuses_loopback_without_the_flag(site: str) -> None:
    guarded = DirectReader(Settings(_env_file=None))  # type: ignore[call-arg]
    before = len(HITS.paths)
    with pytest.raises(BlockedURLError):
        await guarded.read(f"{site}/article")
    with pytest.raises(BlockedURLError):
        await guarded.read("file:///etc/passwd")
    assert len(HITS.paths) == before  # nothing reached the server


def test_make_reader_by_name() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert make_reader("direct", settings).name == "direct"
    assert make_reader("jina", settings).name == "jina"
    with pytest.raises(Exception, match="unknown reader"):
        make_reader("nope", settings)


def test_sniff_and_decode_units() -> None:
    assert sniff_kind("", b"%PDF-1.7 ...") == "pdf"
    assert sniff_kind("text/plain", b"<!DOCTYPE html><html>") == "html"
    assert sniff_kind("application/octet-stream", bytes(range(256))) == "binary"
    assert sniff_kind("application/json", b'{"a": 1}') == "text"
    assert decode("café".encode("latin-1"), None) == "café"  # detection fallback
    assert decode(b"\xef\xbb\xbfhello", "latin-1") == "hello"  # BOM wins
    assert decode("naïve".encode(), "no-such-charset") == "naïve"


def test_links_are_bounded_absolute_and_distinct() -> None:
    from deepsearch.tools.read.direct import MAX_LINKS, extract_html

    anchors = "".join(f'<a href="/p/{i % 400}">l</a> ' for i in range(1000))
    html = f"<html><body><p>{'Some words here. ' * 50}</p>{anchors}</body></html>"
    page = extract_html(html, "https://site.example/dir/")
    assert len(page.links) == MAX_LINKS
    assert len(set(page.links)) == len(page.links)
    assert page.links[0] == "https://site.example/p/0"
