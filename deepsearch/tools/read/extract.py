"""Text extraction: HTML (trafilatura, lxml fallback) and PDF (pypdf). CPU bound.

Run these in a worker thread; every output is bounded (characters, links, PDF pages).
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urljoin, urlsplit

from deepsearch.tools.base import Page, ProviderError

MAX_LINKS = 200
MAX_ANCHOR_CHARS = 200
MAX_PDF_PAGES = 300
MAX_TEXT_CHARS = 2_000_000
MAX_HTML_CHARS = 5_000_000
FAST_HTML_CHARS = 500_000  # above this, skip trafilatura's slower fallback extractors
METADATA_HTML_CHARS = 200_000


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
    links: dict[str, str] = {}
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
        links=list(links),
        link_text={link: text for link, text in links.items() if text},
        content_type="text/html",
    )


def _plain_text(tree: Any) -> str:
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    body = tree.find("body")
    raw = (body if body is not None else tree).text_content()
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def _links(tree: Any, base: str) -> dict[str, str]:
    """Return the page's absolute http(s) links, in order, with their anchor text."""
    links: dict[str, str] = {}
    for anchor in tree.xpath("//a[@href]"):
        href = str(anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            continue
        try:
            absolute = urljoin(base, href).split("#", 1)[0]
            scheme = urlsplit(absolute).scheme
        except ValueError:
            continue
        if scheme not in ("http", "https") or len(absolute) >= 2048:
            continue
        text = " ".join(anchor.text_content().split())[:MAX_ANCHOR_CHARS]
        if absolute not in links:
            links[absolute] = text
            if len(links) >= MAX_LINKS:
                break
        elif text and not links[absolute]:
            links[absolute] = text
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
