"""Search providers by name, with caching, concurrency limits and fallback.

``make_search_provider("jina", settings)`` returns a ready provider; a missing
key raises :class:`~deepsearch.settings.ConfigurationError` when it is called,
never at import time. A comma-separated name (``"jina,duckduckgo"``) gives a
:class:`FallbackSearch` that moves on when a provider fails.
"""

from __future__ import annotations

from collections.abc import Sequence

from deepsearch.settings import ConfigurationError, Settings
from deepsearch.tools.base import ProviderError, SearchProvider, SearchResponse, bills_tokens
from deepsearch.tools.cache import Cache, CachedSearch, open_cache
from deepsearch.tools.http import limited

PROVIDERS = ("jina", "brave", "serper", "duckduckgo", "searxng", "arxiv", "local")
_KEYLESS_HINT = "or choose DEEPSEARCH_SEARCH_PROVIDER=duckduckgo, which needs no key"


class LimitedSearch:
    """A provider wrapper that bounds concurrent queries per provider name."""

    def __init__(self, provider: SearchProvider, limit: int | None = None) -> None:
        """Wrap ``provider``; ``limit`` defaults to the provider's configured concurrency."""
        self.provider = provider
        self.limit = limit
        self.name = provider.name
        self.bills = bills_tokens(provider)

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Run the query once a concurrency slot is free."""
        async with limited(self.name, self.limit):
            return await self.provider.search(query, num_results=num_results, language=language)


class FallbackSearch:
    """Try providers in order; the first that does not raise :class:`ProviderError` answers."""

    def __init__(self, providers: Sequence[SearchProvider]) -> None:
        """Use ``providers`` in this order (at least one)."""
        if not providers:
            raise ValueError("FallbackSearch needs at least one provider")
        self.providers = list(providers)
        self.name = ",".join(p.name for p in self.providers)
        self.bills = any(bills_tokens(p) for p in self.providers)

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return the first provider's answer that succeeds.

        Raises:
            ProviderError: When every provider failed (retryable if any failure was).
        """
        failures: list[ProviderError] = []
        for provider in self.providers:
            try:
                return await provider.search(query, num_results=num_results, language=language)
            except ProviderError as exc:
                failures.append(exc)
        summary = "; ".join(str(f) for f in failures)
        raise ProviderError(
            self.name,
            f"all providers failed: {summary}",
            retryable=any(f.retryable for f in failures),
        )


def _secret(value: object | None) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    raw = getter() if callable(getter) else value
    return raw.strip() if isinstance(raw, str) and raw.strip() else None


def _missing(provider: str, variable: str, where: str) -> ConfigurationError:
    return ConfigurationError(
        f"The {provider} search provider needs {variable}: set {variable} ({where}) "
        f"{_KEYLESS_HINT}."
    )


def _build(name: str, settings: Settings) -> SearchProvider:
    timeout = settings.fetch_timeout
    if name == "jina":
        from deepsearch.tools.search.jina import JinaSearch

        key = _secret(settings.jina_api_key)
        if not key:
            raise _missing("jina", "JINA_API_KEY", "get one at https://jina.ai/?sui=apikey")
        return JinaSearch(key, base_url=settings.jina_search_url, timeout=max(timeout, 30))
    if name == "brave":
        from deepsearch.tools.search.brave import BraveSearch

        key = _secret(settings.brave_api_key)
        if not key:
            raise _missing("brave", "BRAVE_API_KEY", "from https://api-dashboard.search.brave.com")
        return BraveSearch(key, base_url=settings.brave_url, timeout=timeout)
    if name == "serper":
        from deepsearch.tools.search.serper import SerperSearch

        key = _secret(settings.serper_api_key)
        if not key:
            raise _missing("serper", "SERPER_API_KEY", "from https://serper.dev")
        return SerperSearch(key, base_url=settings.serper_url, timeout=timeout)
    if name == "searxng":
        from deepsearch.tools.search.searxng import SearxngSearch

        if not settings.searxng_url:
            raise ConfigurationError(
                "The searxng search provider needs SEARXNG_URL: set SEARXNG_URL to your "
                "instance's base URL, e.g. SEARXNG_URL=http://localhost:8888 (with the json "
                f"format enabled in its settings.yml), {_KEYLESS_HINT}."
            )
        return SearxngSearch(settings.searxng_url, timeout=timeout)
    if name == "duckduckgo":
        from deepsearch.tools.search.duckduckgo import DuckDuckGoSearch

        return DuckDuckGoSearch(timeout=timeout)
    if name == "arxiv":
        from deepsearch.tools.search.arxiv import ArxivSearch

        return ArxivSearch(base_url=settings.arxiv_url, timeout=max(timeout, 30))
    if name == "local":
        from deepsearch.tools.corpus import resolve_corpus_db
        from deepsearch.tools.search.local import LocalSearch

        return LocalSearch(resolve_corpus_db(settings.corpus))
    raise ConfigurationError(
        f"Unknown search provider {name!r}: choose one of {', '.join(PROVIDERS)} "
        "(DEEPSEARCH_SEARCH_PROVIDER or the request's search_provider)."
    )


def _endpoint(name: str, settings: Settings) -> str:
    endpoints = {
        "jina": settings.jina_search_url,
        "brave": settings.brave_url,
        "serper": settings.serper_url,
        "searxng": settings.searxng_url or "",
        "arxiv": settings.arxiv_url,
    }
    return endpoints.get(name, "")


def make_search_provider(
    name: str, settings: Settings, *, cache: Cache | None = None, use_cache: bool = True
) -> SearchProvider:
    """Return the search provider called ``name``, ready to use.

    Web providers are wrapped with a per-provider concurrency limit and the
    result cache (hits cost 0 tokens); the local corpus is neither. A
    comma-separated ``name`` returns a :class:`FallbackSearch` over the
    providers that are configured.

    Args:
        name: ``jina``, ``brave``, ``serper``, ``duckduckgo``, ``searxng``, ``arxiv``,
            ``local``, or several joined by commas.
        settings: Keys, base URLs, corpus, cache path and TTL.
        cache: The cache to use; defaults to the one ``DEEPSEARCH_CACHE`` configures.
        use_cache: ``False`` disables caching.

    Returns:
        An object implementing :class:`~deepsearch.tools.base.SearchProvider`.

    Raises:
        ConfigurationError: For an unknown name or a missing key/URL, saying what to set.
    """
    names = [n.strip().lower() for n in name.split(",") if n.strip()]
    if not names:
        raise ConfigurationError(f"No search provider named: choose one of {', '.join(PROVIDERS)}.")
    if len(names) > 1:
        providers: list[SearchProvider] = []
        errors: list[ConfigurationError] = []
        for single in dict.fromkeys(names):
            try:
                providers.append(
                    make_search_provider(single, settings, cache=cache, use_cache=use_cache)
                )
            except ConfigurationError as exc:
                errors.append(exc)
        if not providers:
            raise errors[0]
        return providers[0] if len(providers) == 1 else FallbackSearch(providers)
    single = names[0]
    provider = _build(single, settings)
    if single == "local":
        return provider
    if single != "arxiv":  # arXiv paces itself (one request at a time, 3 s apart)
        provider = LimitedSearch(provider)
    store = (cache if cache is not None else open_cache(settings)) if use_cache else None
    # Also without a cache, concurrent identical queries share one call.
    return CachedSearch(provider, store, scope=_endpoint(single, settings))


__all__ = [
    "PROVIDERS",
    "FallbackSearch",
    "LimitedSearch",
    "make_search_provider",
]
