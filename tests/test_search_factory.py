"""make_search_provider, fallback, limits and the DuckDuckGo adapter."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, ClassVar

import pytest
from ddgs.exceptions import DDGSException, RatelimitException

from deepsearch.settings import ConfigurationError, Settings
from deepsearch.tools.base import ProviderError, SearchProvider
from deepsearch.tools.cache import Cache, CachedSearch
from deepsearch.tools.search import FallbackSearch, LimitedSearch, make_search_provider
from deepsearch.tools.search.duckduckgo import DuckDuckGoSearch, ddg_region
from tests.support_search.server import Recorded, Reply, serve

KEY = "factory-key-0123456789"


def settings(**overrides: Any) -> Settings:
    """Settings from arguments only (no environment keys, no .env)."""
    base: dict[str, Any] = {
        "jina_api_key": None,
        "brave_api_key": None,
        "serper_api_key": None,
        "searxng_url": None,
        "corpus": None,
        "cache_path": ":memory:",
        "fetch_timeout": 5.0,
    }
    base.update(overrides)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


# ----------------------------------------------------------------------------- DuckDuckGo


class FakeDDGS:
    """A DDGS-like object: records calls, answers or raises as told."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def __init__(self, answer: Any = None, error: Exception | None = None, delay: float = 0):
        self.answer, self.error, self.delay = answer, error, delay

    def text(self, query: str, **kwargs: Any) -> list[dict[str, Any]]:
        FakeDDGS.calls.append((query, kwargs))
        if self.delay:
            time.sleep(self.delay)
        if self.error:
            raise self.error
        return self.answer


async def test_duckduckgo_maps_ddgs_results() -> None:
    FakeDDGS.calls = []
    answer = [
        {"title": "T1", "href": "https://d.example/1", "body": "B1"},
        {"title": "dup", "href": "https://d.example/1", "body": "B1"},
        {"title": "no href", "body": "x"},
        {"title": "T2", "href": "https://d.example/2", "body": "B2"},
    ]
    provider = DuckDuckGoSearch(ddgs_factory=lambda: FakeDDGS(answer))
    response = await provider.search("q", num_results=3, language="de")
    assert [(r.url, r.title, r.snippet) for r in response.results] == [
        ("https://d.example/1", "T1", "B1"),
        ("https://d.example/2", "T2", "B2"),
    ]
    assert FakeDDGS.calls == [("q", {"max_results": 3, "region": "de-de"})]


@pytest.mark.parametrize(
    ("error", "empty"),
    [
        (RatelimitException("202 Ratelimit"), False),
        (DDGSException("No results found."), True),
        (DDGSException("ConnectError: offline"), False),
        (RuntimeError("scraper broke"), False),
    ],
)
async def test_duckduckgo_failures(error: Exception, empty: bool) -> None:
    provider = DuckDuckGoSearch(ddgs_factory=lambda: FakeDDGS(error=error))
    if empty:
        assert (await provider.search("q")).results == []
        return
    with pytest.raises(ProviderError) as err:
        await provider.search("q")
    assert err.value.retryable and err.value.provider == "duckduckgo"


async def test_duckduckgo_timeout_and_odd_answers() -> None:
    slow = DuckDuckGoSearch(timeout=0.1, ddgs_factory=lambda: FakeDDGS([], delay=0.5))
    with pytest.raises(ProviderError, match="timed out"):
        await slow.search("q")
    odd = DuckDuckGoSearch(ddgs_factory=lambda: FakeDDGS({"not": "a list"}))
    with pytest.raises(ProviderError):
        await odd.search("q")


def test_ddg_region() -> None:
    assert ddg_region(None) is None
    assert ddg_region("en") == "us-en"
    assert ddg_region("en-GB") == "uk-en"
    assert ddg_region("xx") == "wt-wt"


# ----------------------------------------------------------------------------- factory


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("jina", "JINA_API_KEY"),
        ("brave", "BRAVE_API_KEY"),
        ("serper", "SERPER_API_KEY"),
        ("searxng", "SEARXNG_URL"),
        ("local", "DEEPSEARCH_CORPUS"),
    ],
)
def test_missing_configuration_says_what_to_set(name: str, variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        make_search_provider(name, settings())


def test_unknown_and_keyless_providers() -> None:
    with pytest.raises(ConfigurationError, match="choose one of"):
        make_search_provider("altavista", settings())
    for name in ("duckduckgo", "arxiv"):
        assert isinstance(make_search_provider(name, settings()), SearchProvider)


def jina_reply(request: Recorded) -> Reply:
    q = request.param("q")
    return Reply(
        200,
        {
            "code": 200,
            "data": [{"title": q, "url": f"https://j.example/{q}", "description": "d"}],
            "meta": {"usage": {"tokens": 10000}},
        },
    )


async def test_factory_provider_uses_settings_and_cache() -> None:
    with serve(jina_reply) as server:
        cfg = settings(jina_api_key=KEY, jina_search_url=server.url)
        provider = make_search_provider("jina", cfg)
        assert isinstance(provider, CachedSearch) and provider.name == "jina"
        first = await provider.search("Cats", num_results=3)
        again = await provider.search("  cats ", num_results=3)
        other = await provider.search("dogs", num_results=3)
    assert first.tokens == 10000 and again.tokens == 0
    assert [r.url for r in again.results] == ["https://j.example/Cats"]
    assert other.results[0].url == "https://j.example/dogs"
    assert len(server.requests) == 2
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_factory_without_cache() -> None:
    with serve(jina_reply) as server:
        cfg = settings(jina_api_key=KEY, jina_search_url=server.url, cache_path="off")
        provider = make_search_provider("jina", cfg)
        assert isinstance(provider, CachedSearch) and provider.cache is None
        assert isinstance(provider.provider, LimitedSearch)
        await provider.search("x")
        await provider.search("x")
    assert len(server.requests) == 2


async def test_concurrent_identical_queries_share_one_call() -> None:
    def slow_reply(request: Any) -> Reply:
        time.sleep(0.2)  # long enough for every caller to join the call in flight
        return jina_reply(request)

    with serve(slow_reply) as server:
        cfg = settings(jina_api_key=KEY, jina_search_url=server.url, cache_path="off")
        provider = make_search_provider("jina", cfg)
        same = await asyncio.gather(*(provider.search("cats") for _ in range(4)))
        other = await provider.search("dogs")
    assert len(server.requests) == 2, "four identical queries in flight made one request"
    assert all(r.results == same[0].results for r in same)
    assert other.results[0].url == "https://j.example/dogs"


async def test_fallback_moves_on_after_provider_error() -> None:
    with serve(lambda r: Reply(503, "down")) as broken, serve(jina_reply) as working:
        cfg = settings(
            brave_api_key=KEY,
            brave_url=broken.url,
            jina_api_key=KEY,
            jina_search_url=working.url,
            serper_api_key=None,
        )
        provider = make_search_provider("serper,brave,jina", cfg, use_cache=False)
        assert isinstance(provider, FallbackSearch)
        assert provider.name == "brave,jina"  # serper has no key: skipped
        response = await provider.search("fallback")
    assert response.results[0].url == "https://j.example/fallback"
    assert len(broken.requests) == 3  # brave retried, then gave up


async def test_fallback_reports_every_failure() -> None:
    with serve(lambda r: Reply(401, "no")) as a, serve(lambda r: Reply(500, "no")) as b:
        cfg = settings(brave_api_key=KEY, brave_url=a.url, serper_api_key=KEY, serper_url=b.url)
        provider = make_search_provider("brave,serper", cfg, use_cache=False)
        with pytest.raises(ProviderError) as err:
            await provider.search("q")
    assert "brave" in str(err.value) and "serper" in str(err.value)
    assert err.value.retryable and KEY not in str(err.value)


async def test_fallback_with_no_configured_provider() -> None:
    with pytest.raises(ConfigurationError, match="JINA_API_KEY"):
        make_search_provider("jina,brave", settings())


async def test_concurrency_is_bounded_per_provider() -> None:
    active = peak = 0
    lock = threading.Lock()

    def handle(request: Recorded) -> Reply:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return jina_reply(request)

    with serve(handle) as server:
        cfg = settings(jina_api_key=KEY, jina_search_url=server.url)
        provider = make_search_provider("jina", cfg, use_cache=False)
        await asyncio.gather(*(provider.search(f"q{i}") for i in range(10)))
    assert peak <= 4 and len(server.requests) == 10


async def test_cache_is_scoped_by_endpoint() -> None:
    cache = Cache(":memory:")
    with serve(jina_reply) as first, serve(jina_reply) as second:
        for server in (first, second):
            cfg = settings(jina_api_key=KEY, jina_search_url=server.url)
            await make_search_provider("jina", cfg, cache=cache).search("same query")
    assert len(first.requests) == len(second.requests) == 1
    cache.close()


async def test_cached_search_over_explicit_cache() -> None:
    cache = Cache(":memory:")
    with serve(jina_reply) as server:
        cfg = settings(jina_api_key=KEY, jina_search_url=server.url)
        one = make_search_provider("jina", cfg, cache=cache)
        two = make_search_provider("jina", cfg, cache=cache)
        await one.search("shared")
        hit = await two.search("shared")
    assert hit.tokens == 0 and len(server.requests) == 1
    cache.close()


# ----------------------------------------------------------------------------- fallback chains from the environment


async def test_a_fallback_chain_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepsearch.settings import get_settings

    with serve(lambda r: Reply(503, "down")) as broken, serve(jina_reply) as working:
        monkeypatch.setenv("DEEPSEARCH_SEARCH_PROVIDER", " Brave, jina ")
        monkeypatch.setenv("BRAVE_API_KEY", KEY)
        monkeypatch.setenv("BRAVE_SEARCH_URL", broken.url)
        monkeypatch.setenv("JINA_API_KEY", KEY)
        monkeypatch.setenv("JINA_SEARCH_URL", working.url)
        monkeypatch.setenv("DEEPSEARCH_CACHE", "off")
        get_settings.cache_clear()
        try:
            cfg = get_settings()
            assert cfg.effective_search_provider() == "brave,jina"
            provider = make_search_provider(cfg.effective_search_provider(), cfg)
            response = await provider.search("cats")
        finally:
            get_settings.cache_clear()
    assert isinstance(provider, FallbackSearch)
    assert response.results[0].url == "https://j.example/cats"
    assert broken.requests and working.requests


def test_an_unknown_provider_in_the_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deepsearch.settings import get_settings

    monkeypatch.setenv("DEEPSEARCH_SEARCH_PROVIDER", "serper,bing")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=r"DEEPSEARCH_SEARCH_PROVIDER.*'bing'"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_doctor_reports_a_chain_only_when_none_of_it_can_run() -> None:
    from deepsearch.cli.doctor import problems

    chain = settings(search_provider="serper,brave", serper_api_key=KEY)
    assert not [p for p in problems(chain) if "search provider" in p.what]
    unusable = settings(search_provider="serper,brave")
    named = [p.what for p in problems(unusable) if "search provider" in p.what]
    assert len(named) == 2 and "SERPER_API_KEY" in named[0] and "BRAVE_API_KEY" in named[1]


def test_doctor_shows_a_chain_in_order_and_what_it_skips() -> None:
    from deepsearch.cli.doctor import describe_search

    chain = settings(search_provider="serper,brave,duckduckgo", brave_api_key=KEY)
    assert describe_search(chain) == (
        "serper → brave → duckduckgo",
        "fallback chain, tried in order; skipped: serper (SERPER_API_KEY missing)",
    )
    assert describe_search(settings(search_provider="duckduckgo")) == ("duckduckgo", "")
