"""An embedded SQLite cache with TTL for search and read results.

Keys are a kind (``"search"``, ``"read"``) plus normalized arguments; values
are JSON. SQLite runs in worker threads behind one lock, in WAL mode, so many
coroutines (and processes) can share a cache file. A hit costs 0 tokens.

Identical calls in flight at the same time (team members searching the same
query, two workers reading the same page) share one provider call, with or
without a cache file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from deepsearch.settings import Settings
from deepsearch.tools.base import (
    Page,
    Reader,
    SearchProvider,
    SearchResponse,
    SearchResult,
    bills_tokens,
)
from deepsearch.tools.urls import normalize_url

T = TypeVar("T")

MEMORY = ":memory:"
DEFAULT_CACHE_PATH = Path("~/.cache/deepsearch/cache.sqlite3")
MAX_VALUE_BYTES = 2_000_000
_DISABLED = {"", "0", "off", "none", "false", "no"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_expires ON cache(expires);
"""


def _normalize_arg(name: str, value: Any) -> Any:
    if isinstance(value, str):
        if name in ("url", "urls"):
            return normalize_url(value)
        if name == "query":
            return " ".join(value.split()).lower()
        return value.strip()
    return value


def cache_key(kind: str, args: dict[str, Any]) -> str:
    """Return the cache key for ``kind`` called with ``args``.

    Queries are whitespace-collapsed and lowercased, URLs normalized, and
    argument order does not matter.

    Args:
        kind: What is cached (``"search"``, ``"read"``, ...).
        args: The call's arguments (JSON-serializable).

    Returns:
        ``"<kind>:<sha256 of the normalized arguments>"``.
    """
    normalized = {k: _normalize_arg(k, v) for k, v in args.items()}
    digest = hashlib.sha256(
        json.dumps(normalized, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    return f"{kind}:{digest}"


class Cache:
    """A TTL key-value cache in SQLite, safe to share between coroutines."""

    def __init__(self, path: str | Path = MEMORY, *, ttl: float = 86_400) -> None:
        """Open (and create) the cache at ``path``; ``":memory:"`` keeps it in memory.

        Args:
            path: Database file, or ``":memory:"``.
            ttl: Default time to live of entries, in seconds.
        """
        self.path = str(path) if str(path) == MEMORY else str(Path(path).expanduser())
        self.ttl = ttl
        self._lock = threading.Lock()
        # Opened on first use, inside a worker thread: the constructor runs inside graph
        # nodes, where `langgraph dev` rejects blocking file I/O on the event loop.
        self._connection: sqlite3.Connection | None = None

    @property
    def _conn(self) -> sqlite3.Connection:
        """Return the connection, opening it on first use (call with ``_lock`` held)."""
        if self._connection is None:
            if self.path != MEMORY:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            if self.path != MEMORY:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            conn.execute("DELETE FROM cache WHERE expires < ?", (time.time(),))
            conn.commit()
            self._connection = conn
        return self._connection

    def _get(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM cache WHERE key = ? AND expires >= ?", (key, time.time())
            ).fetchone()
        return None if row is None else str(row[0])

    def _set(self, key: str, kind: str, value: str, expires: float) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO cache(key, kind, value, expires) VALUES (?, ?, ?, ?)",
                (key, kind, value, expires),
            )
            self._conn.commit()

    async def get(self, kind: str, args: dict[str, Any]) -> Any | None:
        """Return the cached value for ``kind``/``args``, or ``None`` on a miss or expiry.

        Args:
            kind: What is cached.
            args: The call's arguments.
        """
        raw = await asyncio.to_thread(self._get, cache_key(kind, args))
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def set(
        self, kind: str, args: dict[str, Any], value: Any, *, ttl: float | None = None
    ) -> None:
        """Store ``value`` (JSON-serializable) for ``kind``/``args``.

        Values larger than :data:`MAX_VALUE_BYTES` are not cached.

        Args:
            kind: What is cached.
            args: The call's arguments.
            value: The result to store.
            ttl: Seconds to live; defaults to the cache's TTL.
        """
        raw = json.dumps(value, ensure_ascii=False, default=str)
        if len(raw) > MAX_VALUE_BYTES:
            return
        expires = time.time() + (self.ttl if ttl is None else ttl)
        await asyncio.to_thread(self._set, cache_key(kind, args), kind, raw, expires)

    async def purge_expired(self) -> int:
        """Delete expired entries and return how many were removed."""

        def purge() -> int:
            with self._lock:
                cursor = self._conn.execute("DELETE FROM cache WHERE expires < ?", (time.time(),))
                self._conn.commit()
                return cursor.rowcount

        return await asyncio.to_thread(purge)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


_open_caches: dict[str, Cache] = {}


def open_cache(settings: Settings) -> Cache | None:
    """Return the process-wide cache configured by ``DEEPSEARCH_CACHE``.

    ``DEEPSEARCH_CACHE`` unset means ``~/.cache/deepsearch/cache.sqlite3``;
    ``:memory:`` an in-memory cache; ``off`` (or ``0``, ``none``) no cache.

    Args:
        settings: Process settings (``cache_path``, ``cache_ttl``).

    Returns:
        A shared :class:`Cache`, or ``None`` when caching is off.
    """
    raw = settings.cache_path
    if raw is not None and raw.strip().lower() in _DISABLED:
        return None
    path = raw or str(DEFAULT_CACHE_PATH.expanduser())
    if path not in _open_caches or path == MEMORY:
        cache = Cache(path, ttl=settings.cache_ttl)
        if path == MEMORY:
            return cache
        _open_caches[path] = cache
    return _open_caches[path]


class InFlight:
    """Share one call among concurrent callers with the same key (single flight).

    The first caller runs the call; the others await its outcome, result or error.
    Nothing is kept once the call is done: that is the cache's job.
    """

    def __init__(self) -> None:
        """Start with no call in flight."""
        self._calls: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        """Return ``call()``'s outcome, joining a call with the same ``key`` in flight."""
        running = self._calls.get(key)
        if running is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not running.cancelled() or (task is not None and task.cancelling()):
                    raise  # this caller itself is being cancelled
                return await self.run(key, call)  # the first caller gave up: try ourselves
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[key] = future
        try:
            value = await call()
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked as retrieved: no warning when nobody joined
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._calls[key]


class CachedSearch:
    """A :class:`SearchProvider` that answers repeated queries from a :class:`Cache`.

    Concurrent identical queries share one provider call, also without a cache.
    """

    def __init__(
        self,
        provider: SearchProvider,
        cache: Cache | None,
        *,
        ttl: float | None = None,
        scope: str = "",
    ):
        """Wrap ``provider``; cached answers report 0 tokens.

        Args:
            provider: The provider to cache.
            cache: Where answers are kept (``None``: only share calls in flight).
            ttl: Seconds to keep answers; defaults to the cache's TTL.
            scope: Distinguishes otherwise equal providers (e.g. their endpoint URL),
                so two SearXNG instances never share answers.
        """
        self.provider = provider
        self.cache = cache
        self.ttl = ttl
        self.scope = scope
        self.name = provider.name
        self.bills = bills_tokens(provider)
        self._in_flight = InFlight()

    async def search(
        self, query: str, *, num_results: int = 10, language: str | None = None
    ) -> SearchResponse:
        """Return cached results for the query, or search (once) and cache them."""
        args = {
            "provider": self.name,
            "scope": self.scope,
            "query": query,
            "n": num_results,
            "lang": language,
        }
        return await self._in_flight.run(
            cache_key("search", args),
            lambda: self._search(args, query, num_results, language),
        )

    async def _search(
        self, args: dict[str, Any], query: str, num_results: int, language: str | None
    ) -> SearchResponse:
        if self.cache is None:
            return await self.provider.search(query, num_results=num_results, language=language)
        hit = await self.cache.get("search", args)
        if isinstance(hit, list):
            results = [
                SearchResult(**{k: v for k, v in item.items() if k in _RESULT_FIELDS})
                for item in hit
                if isinstance(item, dict) and isinstance(item.get("url"), str)
            ]
            return SearchResponse(results=results, tokens=0)
        response = await self.provider.search(query, num_results=num_results, language=language)
        if response.results:
            value = [dataclasses.asdict(r) for r in response.results]
            await self.cache.set("search", args, value, ttl=self.ttl)
        return response


class CachedReader:
    """A :class:`Reader` that answers repeated reads from a :class:`Cache`.

    Concurrent reads of the same URL share one fetch, also without a cache. Failed
    reads are never cached; pages over :data:`MAX_VALUE_BYTES` are not either.
    """

    def __init__(
        self,
        reader: Reader,
        cache: Cache | None,
        *,
        ttl: float | None = None,
        scope: str = "",
    ):
        """Wrap ``reader``; cached pages report 0 tokens (``cache=None``: share only).

        Args:
            reader: The reader to cache.
            cache: Where pages are kept (``None``: only share reads in flight).
            ttl: Seconds to keep pages; defaults to the cache's TTL.
            scope: What else decides a page's content or whether it may be read at all
                (the endpoint, the private-address policy): pages fetched under one
                scope are never served under another.
        """
        self.reader = reader
        self.cache = cache
        self.ttl = ttl
        self.scope = scope
        self.name = reader.name
        self.bills = bills_tokens(reader)
        self._in_flight = InFlight()

    async def read(self, url: str) -> Page:
        """Return the cached page for the URL, or read (once) and cache it."""
        args = {"reader": self.name, "scope": self.scope, "url": url}
        return await self._in_flight.run(cache_key("read", args), lambda: self._read(args, url))

    async def _read(self, args: dict[str, Any], url: str) -> Page:
        if self.cache is None:
            return await self.reader.read(url)
        hit = await self.cache.get("read", args)
        if isinstance(hit, dict) and isinstance(hit.get("text"), str):
            fields = {k: v for k, v in hit.items() if k in _PAGE_FIELDS}
            fields["tokens"] = 0
            return Page(**fields)
        page = await self.reader.read(url)
        if page.text:
            await self.cache.set("read", args, dataclasses.asdict(page), ttl=self.ttl)
        return page


_RESULT_FIELDS = {f.name for f in dataclasses.fields(SearchResult)}
_PAGE_FIELDS = {f.name for f in dataclasses.fields(Page)}
