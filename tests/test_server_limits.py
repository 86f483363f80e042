"""Bounded requests through a real uvicorn server: body cap, stalled bodies, context window.

Raw sockets show what a client library would hide: that a 413 comes before the body
is read (for a declared length, before a byte of it is sent; for a chunked body, before
it ends), and that a body shorter than its Content-Length no longer holds a handler.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from deepsearch.server.app import create_app
from deepsearch.server.config import MIB, ServerSettings
from tests.support.api_server import (
    QUESTION,
    local_settings,
    new_model,
    scripted_graph,
    server_settings,
)
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.servers import serve

LIMIT = 65_536
JSON = {"Content-Type": "application/json"}


def ask(content: Any = QUESTION, **fields: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], **fields}


def error_of(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


@pytest.fixture
def model(brain: Brain) -> AsyncScriptedChatModel:
    return new_model(brain)


@pytest.fixture
def base_url(model: AsyncScriptedChatModel) -> Iterator[str]:
    settings = server_settings(DEEPSEARCH_MAX_BODY_BYTES=LIMIT, DEEPSEARCH_BODY_TIMEOUT=0.5)
    with serve(create_app(graph=scripted_graph(model), server_settings=settings)) as base:
        yield base


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    return sock


def head(extra: str) -> bytes:
    return (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """Read one HTTP response (status and JSON body) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or b""
    header, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1]
            for line in header.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return int(header.split()[1]), json.loads(body)


def test_declared_length_over_the_cap_is_refused_before_any_body_is_sent(base_url: str) -> None:
    with connect(base_url) as sock:
        sock.sendall(head(f"Content-Length: {LIMIT + 1}\r\n"))  # and never a byte of body
        status, body = read_response(sock)
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    assert str(LIMIT) in body["error"]["message"]


def test_chunked_body_over_the_cap_is_refused_before_it_ends(
    base_url: str, model: AsyncScriptedChatModel
) -> None:
    chunk = b"x" * 8192
    with connect(base_url) as sock:
        sock.sendall(head("Transfer-Encoding: chunked\r\n"))
        for _ in range(LIMIT // len(chunk) + 1):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        # The terminating chunk is never sent: a 413 now proves reading stopped early.
        status, body = read_response(sock)
    assert status == 413 and body["error"]["code"] == "request_too_large"
    assert model.calls == 0


@pytest.mark.parametrize("chunked", [False, True])
def test_a_20_mb_message_is_a_413_under_the_default_cap(chunked: bool) -> None:
    model = new_model()
    defaults = server_settings()
    assert defaults.body_limit == 16 * MIB
    raw = json.dumps(ask(QUESTION + " " + "x" * 20_000_000)).encode()
    content: Any = (raw[i : i + 65_536] for i in range(0, len(raw), 65_536)) if chunked else raw
    with serve(create_app(graph=scripted_graph(model), server_settings=defaults)) as base:
        resp = httpx.post(f"{base}/v1/chat/completions", content=content, headers=JSON, timeout=60)
    assert resp.status_code == 413
    assert error_of(resp)["code"] == "request_too_large"
    assert model.calls == 0


def test_the_default_cap_admits_one_largest_attachment(brain: Brain) -> None:
    model = new_model(brain)
    defaults = server_settings()
    text = b"Attached: the copper skin is 2.4 mm thick. " + b"a" * (10 * MIB - 60)
    assert len(text) <= defaults.max_file_bytes
    uri = "data:text/plain;base64," + base64.b64encode(text).decode()
    part = {"type": "file", "file": {"filename": "big.txt", "file_data": uri}}
    body = ask([{"type": "text", "text": QUESTION}, part])
    with serve(create_app(graph=scripted_graph(model), server_settings=defaults)) as base:
        resp = httpx.post(f"{base}/v1/chat/completions", json=body, timeout=120)
    assert resp.status_code == 200, resp.text[:300]


def test_body_limit_follows_a_larger_file_limit() -> None:
    bigger = server_settings(DEEPSEARCH_MAX_FILE_BYTES=30 * MIB)
    assert bigger.body_limit >= 40 * MIB
    assert server_settings(DEEPSEARCH_MAX_BODY_BYTES=1000).body_limit == 1000


def test_body_cap_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEARCH_MAX_BODY_BYTES", "123456")
    monkeypatch.setenv("DEEPSEARCH_BODY_TIMEOUT", "7.5")
    settings = ServerSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.body_limit == 123456 and settings.body_timeout == 7.5


def test_a_body_shorter_than_its_length_gets_a_408_not_a_hang(
    base_url: str, model: AsyncScriptedChatModel
) -> None:
    body = json.dumps(ask("caf\u00e9 " + QUESTION), ensure_ascii=False)
    with connect(base_url) as sock:
        # What a client that counts UTF-8 bytes but sends Latin-1 produces: fewer bytes.
        sock.sendall(head(f"Content-Length: {len(body.encode())}\r\n") + body.encode("latin-1"))
        status, answer = read_response(sock)
    assert status == 408 and answer["error"]["code"] == "request_timeout"
    assert model.calls == 0


def test_a_stalled_chunked_body_gets_a_408(base_url: str) -> None:
    with connect(base_url) as sock:
        sock.sendall(head("Transfer-Encoding: chunked\r\n") + b'5\r\n{"mes\r\n')
        status, answer = read_response(sock)
    assert status == 408 and answer["error"]["code"] == "request_timeout"


def test_a_client_leaving_mid_body_is_no_server_error(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    uvicorn_log = logging.getLogger("uvicorn")  # it does not propagate to the root logger
    uvicorn_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING), connect(base_url) as sock:
            sock.sendall(head("Content-Length: 1000\r\n") + b'{"messages": [')
        resp = httpx.post(f"{base_url}/v1/chat/completions", json=ask(), timeout=30)
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    assert resp.status_code == 200  # the server is fine, and logged no error
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def small_context(brain: Brain) -> Iterator[tuple[str, AsyncScriptedChatModel]]:
    model = new_model(brain)
    app = create_app(
        graph=scripted_graph(model),
        settings=local_settings(DEEPSEARCH_LLM_CONTEXT=4096),
        server_settings=server_settings(),
    )
    with serve(app) as base:
        yield base, model


@pytest.mark.parametrize("stream", [False, True])
def test_a_question_too_long_for_the_context_is_a_400(
    small_context: tuple[str, AsyncScriptedChatModel], stream: bool
) -> None:
    base, model = small_context
    question = QUESTION + " Consider: " + "the statue was shipped in crates. " * 200
    resp = httpx.post(f"{base}/v1/chat/completions", json=ask(question, stream=stream), timeout=30)
    assert resp.status_code == 400
    error = error_of(resp)
    assert error["code"] == "context_length_exceeded" and error["param"] == "messages"
    assert "4096 tokens" in error["message"] and "at most 1024" in error["message"]
    assert model.calls == 0


def test_images_count_toward_the_question(
    small_context: tuple[str, AsyncScriptedChatModel],
) -> None:
    from tests.support.api_server import PNG_BYTES, data_uri

    base, _ = small_context
    image = {"type": "image_url", "image_url": {"url": data_uri("image/png", PNG_BYTES)}}
    resp = httpx.post(
        f"{base}/v1/chat/completions",
        json=ask([{"type": "text", "text": QUESTION}, image, image]),
        timeout=30,
    )
    assert resp.status_code == 400 and error_of(resp)["code"] == "context_length_exceeded"


def test_earlier_turns_beyond_the_window_are_dropped_oldest_first(
    small_context: tuple[str, AsyncScriptedChatModel], brain: Brain
) -> None:
    base, _ = small_context
    # A 4,096-token window keeps 1,024 tokens of earlier turns: the recent turn, the old
    # one cut (its question whole, its long answer to the rest of its share), the
    # ancient one dropped, although the prompts would have had room for all of it.
    filler = "The crates were numbered and shipped. "
    messages = [
        {"role": "user", "content": "ANCIENT-QUESTION"},
        {"role": "assistant", "content": "ANCIENT-ANSWER"},
        {"role": "user", "content": "OLD-QUESTION " + filler * 40 + "OLD-QUESTION-END"},
        {"role": "assistant", "content": "OLD-ANSWER " + filler * 48 + "OLD-ANSWER-END"},
        {"role": "user", "content": "RECENT-QUESTION about the torch"},
        {"role": "assistant", "content": "RECENT-ANSWER: the torch was rebuilt in 1986."},
        {"role": "user", "content": QUESTION},
    ]
    resp = httpx.post(f"{base}/v1/chat/completions", json={"messages": messages}, timeout=30)
    assert resp.status_code == 200, resp.text[:300]
    prompts = "\n".join(call.user for call in brain.calls)
    assert "RECENT-QUESTION" in prompts and "RECENT-ANSWER" in prompts
    assert "OLD-QUESTION-END" in prompts and "OLD-ANSWER" in prompts
    assert "OLD-ANSWER-END" not in prompts
    assert "ANCIENT" not in prompts


def test_an_upstream_llm_failure_is_a_502_naming_the_llm(base_url: str, brain: Brain) -> None:
    def broken(system: str, user: str) -> str:
        raise ConnectionError("upstream refused")

    brain.handlers["planner"] = broken
    resp = httpx.post(f"{base_url}/v1/chat/completions", json=ask(), timeout=30)
    assert resp.status_code == 502
    error = error_of(resp)
    assert error["type"] == "upstream_error" and error["code"] == "llm_unavailable"
    assert "LLM" in error["message"] and "upstream refused" in error["message"]
