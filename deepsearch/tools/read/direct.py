"""Direct reader: fetch a URL ourselves and extract its text (HTML, plain text, PDF).

Fetching lives in :mod:`.fetch` (the SSRF guard, size and time bounds), content
sniffing and decoding in :mod:`.sniff`, HTML/PDF extraction in :mod:`.extract`.
Extraction is CPU bound and runs in a worker thread.
"""

from __future__ import annotations

import asyncio

import httpx

from deepsearch.settings import Settings
from deepsearch.tools.base import Page, ProviderError
from deepsearch.tools.read.extract import MAX_LINKS, MAX_TEXT_CHARS, extract_html, extract_pdf
from deepsearch.tools.read.fetch import ACCEPT, USER_AGENT, FetchedBody, fetch_body
from deepsearch.tools.read.sniff import (
    decode,
    is_binary_type,
    looks_like_text,
    parse_content_type,
    sniff_kind,
)
from deepsearch.tools.urls import PUBLIC_ONLY, AddressPolicy, Resolver, check_url

__all__ = [
    "ACCEPT",
    "MAX_LINKS",
    "MAX_TEXT_CHARS",
    "USER_AGENT",
    "DirectReader",
    "decode",
    "extract_html",
    "extract_pdf",
    "is_binary_type",
    "looks_like_text",
    "parse_content_type",
    "sniff_kind",
]


class DirectReader:
    """A :class:`~deepsearch.tools.base.Reader` that fetches and extracts pages locally."""

    name = "direct"

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        policy: AddressPolicy = PUBLIC_ONLY,
    ) -> None:
        """Read limits and the SSRF switch from ``settings``.

        Args:
            settings: Fetch timeout and size limit, ``DEEPSEARCH_ALLOW_PRIVATE_URLS``.
            resolver: Name resolution for the guard (tests inject one).
            policy: Addresses the guard lets through although they are not public
                (tests exempt their loopback test web; users cannot set this).
        """
        self.timeout = settings.fetch_timeout
        self.max_bytes = settings.fetch_max_bytes
        self.allow_private = settings.allow_private_urls
        self.resolver = resolver
        self.policy = policy

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
        fetched = await self._fetch(url)
        kind = sniff_kind(fetched.content_type, fetched.body)
        final_url = fetched.final_url
        if kind == "pdf":
            page = await asyncio.to_thread(extract_pdf, fetched.body, final_url)
        elif kind == "html":
            html = decode(fetched.body, fetched.charset, html=True)
            page = await asyncio.to_thread(extract_html, html, final_url)
        elif kind == "text":
            text = decode(fetched.body, fetched.charset)[:MAX_TEXT_CHARS]
            page = Page(url=final_url, text=text, content_type="text/plain")
        else:
            raise ProviderError(
                self.name, f"{url}: unsupported content type {fetched.content_type!r}"
            )
        if not page.text.strip():
            raise ProviderError(self.name, f"{url}: no text could be extracted")
        page.url = url
        page.final_url = final_url
        return page

    async def _fetch(self, url: str) -> FetchedBody:
        """Check and fetch ``url`` within the total deadline, mapping failures to errors."""
        try:
            async with asyncio.timeout(self.timeout):
                await check_url(
                    url,
                    allow_private=self.allow_private,
                    resolver=self.resolver,
                    policy=self.policy,
                )
                return await fetch_body(
                    url,
                    timeout=self.timeout,
                    max_bytes=self.max_bytes,
                    allow_private=self.allow_private,
                    resolver=self.resolver,
                    policy=self.policy,
                    reader_name=self.name,
                )
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
