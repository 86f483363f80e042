"""Direct reader: fetch a URL ourselves and extract its text (HTML, plain text, PDF).

Every fetch is bounded: the SSRF guard checks the URL, every redirect hop and
the resolved address; a total deadline covers connecting and a server that
trickles bytes forever; reading stops at ``fetch_max_bytes``. Extraction is CPU
bound and runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import codecs
import io
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from deepsearch.settings import Settings
from deepsearch.tools.base import Page, ProviderError
from deepsearch.tools.urls import Resolver, check_url, make_guarded_client

USER_AGENT = (
    "Mozilla/5.0 (compatible; DeepSearch/0.1; +https://github.com/jina-ai/node-DeepResearch)"
)
ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9,application/pdf;q=0.8,*/*;q=0.5"
MAX_LINKS = 200
MAX_PDF_PAGES = 300
MAX_TEXT_CHARS = 2_000_000
MAX_HTML_CHARS = 5_000_000
FAST_HTML_CHARS = 500_000  # above this, skip trafilatura's slower fallback extractors
METADATA_HTML_CHARS = 200_000
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = {
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/vnd.rar",
    "application/x-msdownload",
    "application/x-executable",
    "application/wasm",
    "application/vnd.ms-excel",
    "application/msword",
}
_TEXT_TYPES = {
    "application/json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/javascript",
    "application/x-yaml",
    "application/ld+json",
}
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_SNIFF_RE = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<title[\s>]", re.I)


class DirectReader:
    """A :class:`~deepsearch.tools.base.Reader` that fetches and extracts pages locally."""

    name = "direct"

    def __init__(self, settings: Settings, *, resolver: Resolver | None = None) -> None:
        """Read limits and the SSRF switch from ``settings``; ``resolver`` is for tests."""
        self.timeout = settings.fetch_timeout
        self.max_bytes = settings.fetch_max_bytes
        self.allow_private = settings.allow_private_urls
        self.resolver = resolver

    async def read(self, url: str) -> Page:
        """Fetch ``url`` and return its extracted text, title, date and links.

        Args:
            url: An http(s) URL.

        Returns:
            The page.

        Raises:
            BlockedURLError: When the SSRF guard refuses the URL or a redirect.
            ProviderError: On timeouts, HTTP errors, unsupported binaries or empty pages.
        """
        try:
            async with asyncio.timeout(self.timeout):
                await check_url(url, allow_private=self.allow_private, resolver=self.resolver)
                body, content_type, charset, final_url = await self._fetch(url)
        except TimeoutError:
            raise ProviderError(
                self.name, f"{url}: no complete answer within {self.timeout:g} s", retryable=True
            ) from None
        except ProviderError:
            raise
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            raise ProviderError(
                self.name, f"{url}: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        except Exception as exc:  # odd URLs and protocol surprises must not crash a run
            raise ProviderError(self.name, f"{url}: {type(exc).__name__}: {exc}") from None
        kind = sniff_kind(content_type, body)
        if kind == "pdf":
            page = await asyncio.to_thread(extract_pdf, body, final_url)
        elif kind == "html":
            html = decode(body, charset, html=True)
            page = await asyncio.to_thread(extract_html, html, final_url)
        elif kind == "text":
            page = Page(
                url=final_url,
                text=decode(body, charset)[:MAX_TEXT_CHARS],
                content_type="text/plain",
            )
        else:
            raise ProviderError(self.name, f"{url}: unsupported content type {content_type!r}")
        if not page.text.strip():
            raise ProviderError(self.name, f"{url}: no text could be extracted")
        page.url = url
        page.final_url = final_url
        return page

    async def _fetch(self, url: str) -> tuple[bytes, str, str | None, str]:
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": ACCEPT,
            "Accept-Language": "en;q=0.9,*;q=0.5",
        }
        client = make_guarded_client(
            allow_private=self.allow_private,
            timeout=self.timeout,
            resolver=self.resolver,
            headers=headers,
        )
        async with client, client.stream("GET", url) as response:
            final_url = str(response.url)
            if response.status_code >= 400:
                retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
                raise ProviderError(
                    self.name, f"{url}: HTTP {response.status_code}", retryable=retryable
                )
            content_type, charset = parse_content_type(response.headers.get("content-type"))
            if is_binary_type(content_type):
                raise ProviderError(self.name, f"{url}: unsupported content type {content_type!r}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk[: self.max_bytes - size])
                size += len(chunk)
                if size >= self.max_bytes:
                    break  # keep what fits: a truncated page still has text
        return b"".join(chunks), content_type, charset, final_url


def parse_content_type(header: str | None) -> tuple[str, str | None]:
    """Split a Content-Type header into its lowercase media type and charset.

    Args:
        header: The header value (may be ``None``).

    Returns:
        ``(media_type, charset)``; ``("", None)`` when absent.
    """
    if not header:
        return "", None
    parts = [p.strip() for p in header.split(";")]
    charset = None
    for p in parts[1:]:
        key, _, value = p.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return parts[0].lower(), charset


def is_binary_type(content_type: str) -> bool:
    """Tell whether a media type is a binary we never extract (images, archives, ...).

    Args:
        content_type: A lowercase media type.

    Returns:
        True for known binaries.
    """
    return content_type.startswith(_BINARY_PREFIXES) or content_type in _BINARY_TYPES


def sniff_kind(content_type: str, body: bytes) -> str:
    """Decide how to extract a body: ``"pdf"``, ``"html"``, ``"text"`` or ``"binary"``.

    The bytes win over the header when they are unambiguous (a PDF served as
    ``text/html``, HTML served as ``application/octet-stream``).

    Args:
        content_type: The lowercase media type from the header ("" when absent).
        body: The (possibly truncated) body.

    Returns:
        The kind.
    """
    head = body[:1024].lstrip()
    if head.startswith(b"%PDF-") or content_type == "application/pdf":
        return "pdf"
    if is_binary_type(content_type):
        return "binary"
    if content_type in ("text/html", "application/xhtml+xml") or _HTML_SNIFF_RE.search(head):
        return "html"
    if content_type.startswith("text/") or content_type in _TEXT_TYPES or looks_like_text(body):
        return "text"
    return "binary"


def looks_like_text(body: bytes) -> bool:
    """Tell whether bytes look like text (few control characters, no NULs).

    Args:
        body: Raw bytes.

    Returns:
        True when the sample looks textual.
    """
    sample = body[:4096]
    if not sample:
        return False
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(sample) < 0.05


def decode(body: bytes, charset: str | None, *, html: bool = False) -> str:
    """Decode a body: BOM, then the header charset, then ``<meta charset>``, then detection.

    Args:
        body: Raw bytes.
        charset: The charset from the Content-Type header, if any.
        html: Look for a ``<meta charset>`` declaration.

    Returns:
        The text (undecodable bytes replaced).
    """
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(name, errors="replace")
    candidates: list[str] = []
    if charset:
        candidates.append(charset)
    if html:
        m = _META_CHARSET_RE.search(body[:8192])
        if m:
            candidates.append(m.group(1).decode("ascii", "ignore"))
    for name in candidates:
        try:
            codecs.lookup(name)
        except LookupError:
            continue
        return body.decode(name, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        wide = best is not None and best.encoding.startswith(("utf_16", "utf_32"))
        if best is not None and best.encoding and not (wide and b"\x00" not in body[:4096]):
            return body.decode(best.encoding, errors="replace")
    except ImportError:  # pragma: no cover - charset_normalizer ships with httpx's deps
        pass
    return body.decode("cp1252", errors="replace")


def extract_html(html: str, url: str) -> Page:
    """Turn HTML into markdown-ish text with title, date and absolute links (CPU bound).

    Args:
        html: The decoded HTML.
        url: The final URL (base for relative links).

    Returns:
        The page (text may be empty when nothing readable was found).
    """
    import trafilatura
    from lxml import html as lxml_html

    html = html[:MAX_HTML_CHARS]
    text = ""
    title = ""
    date: str | None = None
    try:
        text = (
            trafilatura.extract(
                html,
                url=url,
                output_format="markdown",
                include_tables=True,
                include_links=False,
                favor_recall=True,
                fast=len(html) > FAST_HTML_CHARS,
                with_metadata=False,
            )
            or ""
        )
        # Title and date live in the head and the top of the page; scanning a
        # huge page for dates costs seconds.
        meta = trafilatura.extract_metadata(html[:METADATA_HTML_CHARS], default_url=url)
        if meta is not None:
            title, date = meta.title or "", meta.date or None
    except Exception:  # trafilatura can choke on odd markup: fall back to plain text
        text = ""
    links: list[str] = []
    try:
        tree = lxml_html.document_fromstring(html)
    except Exception:
        tree = None
    if tree is not None:
        if not title:
            title = " ".join((tree.findtext(".//title") or "").split())
        if not text.strip():
            text = _plain_text(tree)
        links = _links(tree, url)
    return Page(
        url=url,
        text=text[:MAX_TEXT_CHARS],
        title=title,
        date=date,
        links=links,
        content_type="text/html",
    )


def _plain_text(tree: Any) -> str:
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    body = tree.find("body")
    raw = (body if body is not None else tree).text_content()
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def _links(tree: Any, base: str) -> list[str]:
    links: list[str] = []
    seen: set[str] = set()
    for href in tree.xpath("//a/@href"):
        href = str(href).strip()
        if not href or href.startswith("#"):
            continue
        try:
            absolute = urljoin(base, href).split("#", 1)[0]
            scheme = urlsplit(absolute).scheme
        except ValueError:
            continue
        if scheme in ("http", "https") and absolute not in seen and len(absolute) < 2048:
            seen.add(absolute)
            links.append(absolute)
            if len(links) >= MAX_LINKS:
                break
    return links


def extract_pdf(body: bytes, url: str) -> Page:
    """Extract text, title and creation date from a PDF with pypdf (CPU bound).

    Args:
        body: The PDF bytes.
        url: The final URL.

    Returns:
        The page.

    Raises:
        ProviderError: When the PDF cannot be parsed or is encrypted.
    """
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ProviderError("direct", f"{url}: encrypted PDF")
        parts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PDF_PAGES]:
            chunk = page.extract_text() or ""
            parts.append(chunk)
            size += len(chunk)
            if size > MAX_TEXT_CHARS:
                break
        meta = reader.metadata
        title = str(meta.title or "") if meta else ""
        created = meta.creation_date if meta else None
    except ProviderError:
        raise
    except Exception as exc:
        raise ProviderError("direct", f"{url}: unreadable PDF ({type(exc).__name__})") from None
    date = created.isoformat() if created is not None else None
    text = "\n\n".join(p.strip() for p in parts if p.strip())
    return Page(
        url=url, text=text[:MAX_TEXT_CHARS], title=title, date=date, content_type="application/pdf"
    )
