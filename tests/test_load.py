"""Load and soak through the HTTP server (fast variants; the full ones are in the report).

Concurrent streaming runs, then sequential runs, against the real API app; the server
reports its own tasks, file descriptors and memory through ``/_diag``. A client that
hangs up must cancel its run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.load_runs import (
    LoadFigures,
    concurrent_streams,
    disconnecting_clients,
    load_server,
    sequential_runs,
)

CONCURRENT = 20
SEQUENTIAL = 30
WARMUP = 10


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with load_server() as base:
        yield base


def assert_clean(figures: LoadFigures) -> None:
    """Every run ended well; the server is back to no request task and the same fds."""
    assert figures.errors == {}, figures.errors
    assert figures.completed == figures.tried
    assert figures.diag_after["tasks"] == 0, figures.diag_after["task_names"]
    assert figures.diag_after["fds"] <= figures.diag_before["fds"]


async def test_concurrent_streaming_runs_all_complete(base_url: str) -> None:
    figures = await concurrent_streams(base_url, CONCURRENT)
    assert_clean(figures)


async def test_sequential_runs_keep_memory_and_resources_flat(base_url: str) -> None:
    figures = await sequential_runs(base_url, SEQUENTIAL, warmup=WARMUP)
    assert_clean(figures)
    assert figures.growth("rss_kb") < 0.10
    assert figures.growth("objects") < 0.02  # live Python objects: the leak detector


async def test_clients_that_hang_up_cancel_their_runs() -> None:
    model = AsyncScriptedChatModel(brain=Brain(), block=True)
    with load_server(model) as base:
        figures = await disconnecting_clients(base, 10)
    assert model.cancelled.is_set()
    assert_clean(figures)
