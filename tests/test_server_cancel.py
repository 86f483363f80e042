"""A client that goes away cancels its run, streaming or not."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from deepsearch.server.app import create_app
from tests.support.api_server import QUESTION, new_model, scripted_graph, server_settings
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.servers import serve

BODY = {"messages": [{"role": "user", "content": QUESTION}]}


@pytest.fixture
def blocked_model() -> AsyncScriptedChatModel:
    """A model whose calls never return until they are cancelled."""
    return new_model(block=True)


@pytest.fixture
def base_url(blocked_model: AsyncScriptedChatModel) -> Iterator[str]:
    app = create_app(graph=scripted_graph(blocked_model), server_settings=server_settings())
    with serve(app) as base:
        yield base


def wait_until_idle(base: str) -> int:
    """Poll /health until no run is active (or give up after 10 s); return the count seen."""
    deadline = time.monotonic() + 10
    active = httpx.get(base + "/health").json()["active_runs"]
    while active and time.monotonic() < deadline:
        time.sleep(0.05)
        active = httpx.get(base + "/health").json()["active_runs"]
    return int(active)


def test_closing_a_stream_cancels_the_run(
    base_url: str, blocked_model: AsyncScriptedChatModel
) -> None:
    body = {**BODY, "stream": True}
    with httpx.stream("POST", base_url + "/v1/chat/completions", json=body, timeout=30) as resp:
        lines = resp.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        assert json.loads(first[6:])["choices"][0]["delta"]["content"] == "<think>"
        assert blocked_model.started.wait(10), "the run never reached the model"
        assert httpx.get(base_url + "/health").json()["active_runs"] == 1
    # Leaving the block closed the connection mid-stream.
    assert blocked_model.cancelled.wait(10), "the model call was not cancelled"
    assert wait_until_idle(base_url) == 0
    assert blocked_model.calls == 1


def test_disconnecting_from_a_non_stream_request_cancels_the_run(
    base_url: str, blocked_model: AsyncScriptedChatModel
) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    payload = json.dumps(BODY).encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload
        )
        assert blocked_model.started.wait(10), "the run never reached the model"
    assert blocked_model.cancelled.wait(10), "the model call was not cancelled"
    assert wait_until_idle(base_url) == 0
    assert blocked_model.calls == 1


def test_runs_over_the_limit_wait_with_an_open_stream_and_start_when_a_slot_frees(
    blocked_model: AsyncScriptedChatModel,
) -> None:
    settings = server_settings(DEEPSEARCH_MAX_CONCURRENT_RUNS=1)
    app = create_app(graph=scripted_graph(blocked_model), server_settings=settings)
    body = {**BODY, "stream": True}
    with serve(app) as base:
        url = base + "/v1/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=30) as first:
            first_lines = first.iter_lines()  # kept: a discarded iterator closes the stream
            next(first_lines)
            assert blocked_model.started.wait(10)
            with httpx.stream("POST", url, json=body, timeout=30) as second:
                waiting = second.iter_lines()
                assert any("waiting for a free run slot" in line for line in waiting)
                assert blocked_model.calls == 1
                first.close()
                assert blocked_model.cancelled.wait(10)
                deadline = time.monotonic() + 10
                while blocked_model.calls < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert blocked_model.calls == 2, "the queued run did not start"
        assert wait_until_idle(base) == 0
