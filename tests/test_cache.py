"""The SQLite TTL cache and the cached search/read wrappers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from deepsearch.settings import Settings
from deepsearch.tools.base import Page
from deepsearch.tools.cache import Cache, CachedReader, CachedSearch, cache_key, open_cache
from deepsearch.tools.search.searxng import SearxngSearch
from tests.support.testweb import TestWeb
from tests.support_search.server import Recorded, Reply, serve


def test_cache_key_normalizes_arguments() -> None:
    assert cache_key("search", {"query": "Hello   World", "n": 5}) == cache_key(
        "search", {"n": 5, "query": " hello world "}
    )
    assert cache_key("read", {"url": "HTTPS://Example.com/a?utm_source=x#top"}) == cache_key(
        "read", {"url": "https://example.com/a"}
    )
    assert cache_key("search", {"query": "a"}) != cache_key("read", {"query": "a"})


async def test_get_set_and_ttl() -> None:
    cache = Cache(":memory:", ttl=60)
    assert await cache.get("search", {"query": "x"}) is None
    await cache.set("search", {"query": "x"}, [{"url": "https://a"}])
    assert await cache.get("search", {"query": "X"}) == [{"url": "https://a"}]
    await cache.set("search", {"query": "old"}, [1], ttl=-1)
    assert await cache.get("search", {"query": "old"}) is None
    assert await cache.purge_expired() == 1
    cache.close()


async def test_file_cache_persists_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.sqlite3"
    cache = Cache(path)
    await cache.set("read", {"url": "https://a.example/"}, {"text": "hi"})
    cache.close()
    reopened = Cache(path)
    assert await reopened.get("read", {"url": "https://a.example"}) == {"text": "hi"}
    mode = reopened._conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    reopened.close()


async def test_concurrent_use() -> None:
    cache = Cache(":memory:")

    async def worker(i: int) -> object:
        await cache.set("search", {"query": f"q{i % 10}"}, {"i": i % 10})
        return await cache.get("search", {"query": f"q{i % 10}"})

    values = await asyncio.gather(*(worker(i) for i in range(200)))
    assert all(v == {"i": i % 10} for i, v in enumerate(values))
    cache.close()


def test_open_cache_from_settings(tmp_path: Path) -> None:
    off = Settings(_env_file=None, cache_path="off")  # type: ignore[call-arg]
    assert open_cache(off) is None
    path = str(tmp_path / "c.sqlite3")
    on = Settings(_env_file=None, cache_path=path, cache_ttl=5)  # type: ignore[call-arg]
    first, second = open_cache(on), open_cache(on)
    assert first is second and first is not None and first.ttl == 5
    memory = Settings(_env_file=None, cache_path=":memory:")  # type: ignore[call-arg]
    assert open_cache(memory) is not open_cache(memory)


async def test_cached_search_hits_cost_nothing() -> None:
    def handle(request: Recorded) -> Reply:
        return Reply(200, {"results": [{"url": "https://s.example/", "title": "S"}]})

    with serve(handle) as server:
        provider = CachedSearch(SearxngSearch(server.url), Cache(":memory:"))
        first = await provider.search("Query", language="en")
        second = await provider.search("query", language="en")
        other_language = await provider.search("query", language="de")
    assert [r.url for r in second.results] == ["https://s.example/"]
    assert second.results[0].title == "S"
    assert first.tokens == second.tokens == other_language.tokens == 0
    assert len(server.requests) == 2


async def test_cached_search_does_not_store_empty_answers() -> None:
    with serve(lambda r: Reply(200, {"results": []})) as server:
        provider = CachedSearch(SearxngSearch(server.url), Cache(":memory:"))
        await provider.search("nothing")
        await provider.search("nothing")
    assert len(server.requests) == 2


class CountingReader:
    """A minimal Reader that serves pages from a local HTTP server."""

    name = "counting"

    def __init__(self, base: str) -> None:
        self.base = base

    async def read(self, url: str) -> Page:
        import httpx

        async with httpx.AsyncClient() as client:
            response = await client.get(self.base)
        return Page(url=url, text=response.text, title="T", tokens=123)


async def test_cached_reader() -> None:
    with serve(lambda r: Reply(200, "page text")) as server:
        reader = CachedReader(CountingReader(server.url), Cache(":memory:"))
        first = await reader.read("https://r.example/a#x")
        second = await reader.read("https://r.example/a")
    assert first.tokens == 123 and second.tokens == 0
    assert second.text == "page text" and second.title == "T"
    assert len(server.requests) == 1


def reader_settings(cache: Path | str, *, private_ok: bool = True) -> Settings:
    return Settings(
        DEEPSEARCH_CACHE=str(cache),
        DEEPSEARCH_ALLOW_PRIVATE_URLS=private_ok,
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_configured_reader_reads_each_page_once(testweb: TestWeb, tmp_path: Path) -> None:
    from deepsearch.tools.read import make_reader

    reader = make_reader("direct", reader_settings(tmp_path / "c.sqlite3"))
    url = f"{testweb.base_url}/news/statue-of-liberty"
    before = testweb.hits["/news/statue-of-liberty"]
    first, *others = await asyncio.gather(*(reader.read(url) for _ in range(4)))
    again = await reader.read(url)
    assert testweb.hits["/news/statue-of-liberty"] - before == 1, "one fetch for five reads"
    assert "Bartholdi" in first.text
    assert all(p.text == first.text for p in [*others, again])
    assert again.tokens == 0


async def test_without_a_cache_file_concurrent_reads_still_share_one_fetch(
    testweb: TestWeb,
) -> None:
    from deepsearch.tools.read import make_reader

    reader = make_reader("direct", reader_settings("off"))
    url = f"{testweb.base_url}/wiki/eiffel-tower"
    before = testweb.hits["/wiki/eiffel-tower"]
    pages = await asyncio.gather(*(reader.read(url) for _ in range(4)))
    assert testweb.hits["/wiki/eiffel-tower"] - before == 1, "four reads in flight, one fetch"
    again = await reader.read(url)
    assert testweb.hits["/wiki/eiffel-tower"] - before == 2, "nothing kept once done"
    assert again.tokens == pages[0].tokens and all(p.text == again.text for p in pages)


async def test_failed_reads_are_not_cached(testweb: TestWeb, tmp_path: Path) -> None:
    from deepsearch.tools.base import ProviderError
    from deepsearch.tools.read import make_reader

    reader = make_reader("direct", reader_settings(tmp_path / "c.sqlite3"))
    url = f"{testweb.base_url}/no/such/page"
    for _ in range(2):
        with pytest.raises(ProviderError):
            await reader.read(url)
    assert testweb.hits["/no/such/page"] >= 2


async def test_pages_read_with_private_access_never_leak_to_a_guarded_reader(
    testweb: TestWeb, tmp_path: Path
) -> None:
    """One cache file, two policies: the guarded reader must not get the loopback page."""
    from deepsearch.tools.base import ProviderError
    from deepsearch.tools.read import make_reader

    cache = tmp_path / "shared.sqlite3"
    url = f"{testweb.base_url}/wiki/eiffel-tower"
    open_reader = make_reader("direct", reader_settings(cache, private_ok=True))
    assert (await open_reader.read(url)).text
    guarded = make_reader("direct", reader_settings(cache, private_ok=False))
    with pytest.raises(ProviderError):
        await guarded.read(url)


async def test_a_cancelled_first_reader_does_not_fail_the_others() -> None:
    gate = asyncio.Event()
    calls: list[str] = []

    class SlowReader:
        name = "slow"

        async def read(self, url: str) -> Page:
            calls.append(url)
            await gate.wait()
            return Page(url=url, text="text", title="T", tokens=5)

    reader = CachedReader(SlowReader(), None)
    first = asyncio.create_task(reader.read("https://a.example/"))
    await asyncio.sleep(0)
    second = asyncio.create_task(reader.read("https://a.example/"))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gate.set()
    page = await second
    assert page.text == "text" and len(calls) == 2
    assert first.cancelled()


async def test_pages_too_large_for_the_cache_are_read_again() -> None:
    """A page whose JSON exceeds MAX_VALUE_BYTES is served but never stored."""
    from deepsearch.tools.cache import MAX_VALUE_BYTES

    class BigReader:
        name = "big"
        calls = 0

        async def read(self, url: str) -> Page:
            BigReader.calls += 1
            size = MAX_VALUE_BYTES if "big" in url else 1000
            return Page(url=url, text="x" * size, title="T", tokens=7)

    cache = Cache(":memory:")
    reader = CachedReader(BigReader(), cache)
    for _ in range(2):
        assert len((await reader.read("https://r.example/big")).text) == MAX_VALUE_BYTES
        await reader.read("https://r.example/small")
    assert BigReader.calls == 3  # big twice, small once
    assert (
        await cache.get("read", {"reader": "big", "scope": "", "url": "https://r.example/big"})
        is None
    )
