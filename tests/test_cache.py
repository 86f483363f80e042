"""The SQLite TTL cache and the cached search/read wrappers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from deepsearch.settings import Settings
from deepsearch.tools.base import Page
from deepsearch.tools.cache import Cache, CachedReader, CachedSearch, cache_key, open_cache
from deepsearch.tools.search.searxng import SearxngSearch
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
