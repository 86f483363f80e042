"""Jina Reader: ``GET {jina_reader_url}{url}`` returns a page as markdown, as JSON.

Reply: ``{"code":200,"data":{"title","url","content","publishedTime"?,
"links"?:{text:url}|[[text,url],...]|[url,...],"usage":{"tokens":N}}}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from deepsearch.settings import Settings
from deepsearch.tools.base import Page, ProviderError
from deepsearch.tools.http import request_with_retries
from deepsearch.tools.urls import check_url_static

MAX_LINKS = 200
MAX_ANCHOR_CHARS = 200
MAX_TEXT_CHARS = 2_000_000


class JinaReader:
    """A :class:`~deepsearch.tools.base.Reader` backed by Jina Reader (r.jina.ai)."""

    name = "jina"
    bills = True  # tokens per call, reported in the reply

    def __init__(self, settings: Settings, *, client: httpx.AsyncClient | None = None) -> None:
        """Use the endpoint, key and limits from ``settings``; ``client`` is for tests."""
        self.base_url = settings.jina_reader_url
        self.timeout = settings.fetch_timeout
        self.max_bytes = settings.fetch_max_bytes
        self.allow_private = settings.allow_private_urls
        self.headers = {
            "Accept": "application/json",
            "X-Return-Format": "markdown",
            "X-With-Links-Summary": "true",
            # "# Heading" lines: passage selection splits sections and labels passages by them
            # (Jina's default underlines h1/h2 with === and ---).
            "X-Md-Heading-Style": "atx",
            "X-Timeout": str(max(int(self.timeout), 1)),
        }
        if settings.jina_api_key is not None:
            self.headers["Authorization"] = f"Bearer {settings.jina_api_key.get_secret_value()}"
        self.client = client

    async def read(self, url: str) -> Page:
        """Read ``url`` through Jina Reader.

        Args:
            url: An http(s) URL.

        Returns:
            The page, with the tokens Jina reports.

        Raises:
            BlockedURLError: For non-http(s) URLs or private addresses (unless allowed).
            ProviderError: On HTTP errors, rate limits after retries or a malformed reply.
        """
        if not self.allow_private:
            check_url_static(url)
        own = self.client is None
        client = self.client or httpx.AsyncClient(timeout=self.timeout + 10)
        try:
            response = await request_with_retries(
                client,
                "GET",
                self.base_url + url,
                provider=self.name,
                retries=2,
                max_bytes=self.max_bytes,
                headers=self.headers,
            )
        except ProviderError:
            raise
        except Exception as exc:  # odd URLs and protocol surprises must not crash a run
            raise ProviderError(self.name, f"{url}: {type(exc).__name__}", retryable=True) from None
        finally:
            if own:
                await client.aclose()
        try:
            payload = response.json()
        except ValueError:
            raise ProviderError(self.name, f"{url}: reply is not JSON") from None
        return parse_reply(payload, url)


def parse_reply(payload: Any, url: str) -> Page:
    """Turn a Jina Reader JSON reply into a :class:`Page`.

    Args:
        payload: The decoded JSON.
        url: The URL that was asked for.

    Returns:
        The page.

    Raises:
        ProviderError: When the reply reports an error or has no content.
    """
    if not isinstance(payload, dict):
        raise ProviderError("jina", f"{url}: malformed reply")
    code = payload.get("code", 200)
    data = payload.get("data")
    if code not in (200, "200") or not isinstance(data, dict):
        message = str(payload.get("readableMessage") or payload.get("message") or "no data")
        raise ProviderError("jina", f"{url}: {message[:300]}", retryable=code in (429, 503, 524))
    content = data.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ProviderError("jina", f"{url}: empty content")
    meta_usage = _dict(_dict(payload.get("meta")).get("usage"))
    tokens = _int(_dict(data.get("usage")).get("tokens")) or _int(meta_usage.get("tokens"))
    final = _str(data.get("url"))
    date = _str(data.get("publishedTime"))
    title = _str(data.get("title"))
    links = parse_links(data.get("links"))
    return Page(
        url=url,
        text=content[:MAX_TEXT_CHARS],
        title=title,
        date=date or None,
        final_url=final or url,
        links=list(links),
        link_text={link: text for link, text in links.items() if text},
        content_type="text/markdown",
        tokens=tokens,
    )


def parse_links(raw: Any) -> dict[str, str]:
    """Read the links summary in any of its shapes; keep absolute http(s) URLs, bounded.

    Args:
        raw: ``{text: url}``, ``[[text, url], ...]``, ``[{"url": ..., "text": ...}, ...]``
            or ``[url, ...]``.

    Returns:
        Distinct URLs in order, at most :data:`MAX_LINKS`, each with its anchor text
        ("" when the summary gives none).
    """
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        pairs = [(text, url) for text, url in raw.items()]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, str):
                pairs.append(("", item))
            elif isinstance(item, list | tuple) and item:
                pairs.append((item[0] if len(item) > 1 else "", item[-1]))
            elif isinstance(item, dict):
                text = item.get("text") or item.get("title") or ""
                pairs.append((text, item.get("url") or item.get("href")))
    links: dict[str, str] = {}
    for text, value in pairs:
        if not isinstance(value, str):
            continue
        link = value.strip().split("#", 1)[0]
        try:
            scheme = urlsplit(link).scheme
        except ValueError:
            continue
        if scheme in ("http", "https") and link not in links and len(link) < 2048:
            links[link] = " ".join(text.split())[:MAX_ANCHOR_CHARS] if isinstance(text, str) else ""
            if len(links) >= MAX_LINKS:
                break
    return links


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
