"""Load and soak DeepSearch through its HTTP server, and look inside the server while it runs.

The server is the real FastAPI app (``create_app``) on a scripted in-process model and
in-memory providers, served by uvicorn on loopback. A ``/_diag`` route, answered from
the server's own event loop, reports its tasks, open file descriptors and memory, so
leaks show up as numbers. Used by ``tests/test_load.py`` and the reliability report.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from deepsearch.api import build_graph
from deepsearch.server.app import create_app
from tests.support.api_server import PAGES, QUESTION, local_settings, server_settings
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import serve

ASGIApp = Any


def rss_kb() -> int:
    """Return this process's resident memory in KiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds() -> int:
    """Return how many file descriptors this process has open (Linux)."""
    return len(os.listdir("/proc/self/fd"))


@dataclass
class DiagApp:
    """Wrap an ASGI app with ``GET /_diag``: the serving loop's tasks, fds and memory.

    ``forget`` empties the test doubles' own call logs before a collected reading, so
    memory figures measure DeepSearch, not the scripted model's notebook.
    """

    app: ASGIApp
    forget: Callable[[], None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Answer ``/_diag`` here; pass everything else to the wrapped app."""
        if scope["type"] != "http" or scope.get("path") != "/_diag":
            await self.app(scope, receive, send)
            return
        objects = 0
        if scope.get("query_string") == b"gc=1":
            if self.forget is not None:
                self.forget()
            gc.collect()
            objects = len(gc.get_objects())
        me = asyncio.current_task()
        names = Counter(_task_label(t) for t in asyncio.all_tasks() if t is not me)
        body = json.dumps(
            {
                "tasks": sum(n for label, n in names.items() if not _is_resident(label)),
                "task_names": dict(names),
                "fds": open_fds(),
                "rss_kb": rss_kb(),
                "objects": objects,
                "threads": threading.active_count(),
            }
        ).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# Tasks that live as long as the server: uvicorn's own, and sse-starlette's one shutdown
# watcher per loop. Anything else left after the requests end is a leak.
_RESIDENT = (":Server.serve", ":LifespanOn.main", ":_shutdown_watcher")


def _is_resident(label: str) -> bool:
    return label.endswith(_RESIDENT)


def _task_label(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return f"{task.get_name()}:{getattr(coro, '__qualname__', type(coro).__name__)}"


@contextmanager
def load_server(model: AsyncScriptedChatModel | None = None) -> Iterator[str]:
    """Serve the DeepSearch API (scripted model, in-memory web) with ``/_diag``; yield its URL."""
    model = model or AsyncScriptedChatModel(brain=Brain())
    search, reader = MemorySearch(PAGES), MemoryReader(PAGES)
    graph = build_graph(
        model=model, search=search, reader=reader, settings=local_settings(), team=False
    )

    def forget() -> None:
        model.brain.calls.clear()
        search.queries.clear()
        reader.reads.clear()

    app = create_app(graph=graph, server_settings=server_settings())
    with serve(DiagApp(app, forget)) as base:
        yield base


def request_body(stream: bool, question: str = QUESTION) -> dict[str, Any]:
    """A chat completion request for one run."""
    return {
        "model": "jina-deepsearch-v1",
        "messages": [{"role": "user", "content": question}],
        "stream": stream,
        "reasoning_effort": "low",
    }


@dataclass
class LoadFigures:
    """What a load stage did and what it cost the server."""

    tried: int = 0
    completed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    diag_before: dict[str, Any] = field(default_factory=dict)
    diag_after: dict[str, Any] = field(default_factory=dict)

    def growth(self, key: str) -> float:
        """Return the relative growth of a diag figure over the stage."""
        before = self.diag_before.get(key) or 1
        return (self.diag_after.get(key, 0) - before) / before


async def diag(client: httpx.AsyncClient, base: str, *, collect: bool = False) -> dict[str, Any]:
    """Read the server's ``/_diag`` figures (after a garbage collection when ``collect``)."""
    response = await client.get(f"{base}/_diag" + ("?gc=1" if collect else ""))
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


async def settle(client: httpx.AsyncClient, base: str, *, tries: int = 200) -> None:
    """Wait until the server has no active run and no request task left (bounded polling)."""
    for _ in range(tries):
        health = (await client.get(f"{base}/health")).json()
        if health["active_runs"] == 0 and (await diag(client, base))["tasks"] == 0:
            return
        await asyncio.sleep(0.05)


async def stream_once(client: httpx.AsyncClient, base: str) -> str | None:
    """Run one streamed completion to ``[DONE]``; return an error kind, or None when well formed."""
    try:
        async with client.stream(
            "POST", f"{base}/v1/chat/completions", json=request_body(True)
        ) as response:
            if response.status_code != 200:
                return f"http_{response.status_code}"
            chunks: list[dict[str, Any]] = []
            done = False
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                data = line[len("data: ") :]
                if data == "[DONE]":
                    done = True
                    break
                chunks.append(json.loads(data))
    except httpx.HTTPError as exc:
        return type(exc).__name__
    if not done:
        return "no_done"
    if any(c.get("type") == "error" for c in chunks):
        return "error_chunk"
    finish = [c["choices"][0].get("finish_reason") for c in chunks if c.get("choices")]
    text = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
    )
    if finish[-1:] != ["stop"] or "</think>" not in text or "Bartholdi" not in text:
        return "malformed_stream"
    return None


async def complete_once(client: httpx.AsyncClient, base: str) -> str | None:
    """Run one non-streamed completion; return an error kind, or None when well formed."""
    try:
        response = await client.post(f"{base}/v1/chat/completions", json=request_body(False))
    except httpx.HTTPError as exc:
        return type(exc).__name__
    if response.status_code != 200:
        return f"http_{response.status_code}"
    message = response.json()["choices"][0]["message"]
    if "Bartholdi" not in (message.get("content") or "") or not message.get("annotations"):
        return "malformed_completion"
    return None


async def concurrent_streams(base: str, count: int) -> LoadFigures:
    """Open ``count`` streaming runs at once and read each to its end."""
    figures = LoadFigures(tried=count)
    limits = httpx.Limits(max_connections=count + 2, max_keepalive_connections=count + 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        figures.diag_before = await diag(client, base, collect=True)
        outcomes = await asyncio.gather(*(stream_once(client, base) for _ in range(count)))
        await settle(client, base)
        figures.diag_after = await diag(client, base, collect=True)
    _tally(figures, outcomes)
    return figures


async def sequential_runs(base: str, count: int, *, warmup: int) -> LoadFigures:
    """Run ``warmup`` then ``count`` completions one after another, alternating stream modes.

    ``diag_before`` is taken after the warm-up, so growth measures the steady state.
    """
    figures = LoadFigures(tried=count)
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(warmup):
            await (stream_once if i % 2 else complete_once)(client, base)
        await settle(client, base)
        figures.diag_before = await diag(client, base, collect=True)
        outcomes = []
        for i in range(count):
            outcomes.append(await (stream_once if i % 2 else complete_once)(client, base))
        await settle(client, base)
        figures.diag_after = await diag(client, base, collect=True)
    _tally(figures, outcomes)
    return figures


def _tally(figures: LoadFigures, outcomes: list[str | None]) -> None:
    figures.completed = sum(o is None for o in outcomes)
    figures.errors.update(o for o in outcomes if o is not None)


async def disconnecting_clients(base: str, count: int) -> LoadFigures:
    """Start ``count`` runs on a model that never answers, then hang up on every one.

    Half stream and leave mid-stream; half wait for a plain completion and give up.
    ``completed`` counts runs the server cancelled (none may be left active).
    """
    figures = LoadFigures(tried=count)
    limits = httpx.Limits(max_connections=count + 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        figures.diag_before = await diag(client, base, collect=True)

        async def leave_mid_stream() -> None:
            async with client.stream(
                "POST", f"{base}/v1/chat/completions", json=request_body(True)
            ) as response:
                async for line in response.aiter_lines():
                    if "<think>" in line:
                        return  # the run is under way: hang up

        async def give_up_waiting() -> None:
            url = f"{base}/v1/chat/completions"
            try:
                await client.post(url, json=request_body(False), timeout=1.0)
            except httpx.ReadTimeout:
                return  # the client gives up and closes its connection
            figures.errors["answered_without_a_model"] += 1

        hang_ups = [leave_mid_stream if i % 2 else give_up_waiting for i in range(count)]
        await asyncio.gather(*(hang_up() for hang_up in hang_ups))
        await settle(client, base)
        figures.diag_after = await diag(client, base, collect=True)
        active = (await client.get(f"{base}/health")).json()["active_runs"]
    figures.completed = count - active
    if active:
        figures.errors["runs_left_running"] = active
    return figures
