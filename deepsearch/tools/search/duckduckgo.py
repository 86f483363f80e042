"""DuckDuckGo (and friends) through the ``ddgs`` package: no key needed.

``ddgs`` scrapes result pages synchronously, so it runs in a worker thread with
a deadline. Tests inject a DDGS-like factory instead of scraping the real site.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from deepsearch.tools.base import ProviderError, SearchResponse
from deepsearch.tools.search.provider import QuerySearch, collect_results

_REGIONS = {
    "en": "us-en",
    "de": "de-de",
    "fr": "fr-fr",
    "es": "es-es",
    "it": "it-it",
    "pt": "br-pt",
    "nl": "nl-nl",
    "pl": "pl-pl",
    "ru": "ru-ru",
    "ja": "jp-jp",
    "ko": "kr-kr",
    "zh": "cn-zh",
    "sv": "se-sv",
    "tr": "tr-tr",
    "ar": "xa-ar",
    "hi": "in-en",
}


class DDGSLike(Protocol):
    """The part of ``ddgs.DDGS`` the adapter uses."""

    def text(self, query: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Return result dicts with ``title``, ``href`` and ``body``."""
        ...


def ddg_region(language: str | None) -> str | None:
    """Map an ISO 639-1 language code to a DuckDuckGo region (``de`` -> ``de-de``)."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-")
    if code.count("-") == 1 and len(code) == 5:  # "en-gb" -> "uk-en"-style is ambiguous
        lang, country = code.split("-")
        return f"{'uk' if country == 'gb' else country}-{lang}"
    return _REGIONS.get(code, "wt-wt")


def _default_factory(timeout: float) -> Callable[[], DDGSLike]:
    def make() -> DDGSLike:
        from ddgs import DDGS

        return DDGS(timeout=max(1, int(timeout)))

    return make


def parse_ddgs(items: Any, limit: int) -> SearchResponse:
    """Turn ``DDGS().text`` results into a :class:`SearchResponse`.

    Args:
        items: A list of dicts with ``title``, ``href`` and ``body``.
        limit: Most results kept.

    Returns:
        The results (free: 0 tokens).
    """
    if not isinstance(items, list):
        raise ProviderError("duckduckgo", "unexpected result type", retryable=True)
    results = collect_results(items, limit, url_keys=("href", "url"), snippet_key="body")
    return SearchResponse(results=results)


class DuckDuckGoSearch(QuerySearch):
    """Keyless web search through ``ddgs``."""

    name = "duckduckgo"

    def __init__(
        self, *, timeout: float = 15.0, ddgs_factory: Callable[[], DDGSLike] | None = None
    ) -> None:
        """Configure the provider.

        Args:
            timeout: Seconds before the search is abandoned.
            ddgs_factory: Builds a DDGS-like object per query (default: ``ddgs.DDGS``).
        """
        self._timeout = timeout
        self._factory = ddgs_factory or _default_factory(timeout)

    async def run_query(self, query: str, limit: int, language: str | None) -> SearchResponse:
        """Return results for ``query`` (``language`` maps to a DuckDuckGo region)."""
        kwargs: dict[str, Any] = {"max_results": limit}
        region = ddg_region(language)
        if region:
            kwargs["region"] = region

        def run() -> Any:
            return self._factory().text(query, **kwargs)

        try:
            items = await asyncio.wait_for(asyncio.to_thread(run), timeout=self._timeout)
        except TimeoutError:
            raise ProviderError(
                self.name, f"timed out after {self._timeout:g} s", retryable=True
            ) from None
        except Exception as exc:  # ddgs scrapes: any failure of it is a provider failure
            message = " ".join(str(exc).split())[:200] or type(exc).__name__
            if "No results found" in message:
                return SearchResponse(results=[])
            raise ProviderError(self.name, message, retryable=True) from None
        return parse_ddgs(items, limit)
