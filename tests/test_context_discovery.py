"""The model's context window, asked of the server that serves it (issue 17).

Each server kind answers on loopback in the shape its documentation (and, for
llama.cpp, the real server measured here) gives: llama.cpp's ``/props``, vLLM's
``max_model_len`` in ``/v1/models``, Ollama's ``/api/ps`` and ``/api/show``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deepsearch.settings import Settings
from deepsearch.tools import context_window as cw
from deepsearch.tools.context_window import (
    OLLAMA_DEFAULT_CONTEXT,
    context_window_for,
    discover_context_window,
    is_self_hosted,
    overflow_of,
)
from deepsearch.tools.llm import make_llm
from tests.support.brain import Brain
from tests.support.llama_server import LlamaCppServer
from tests.support.servers import serve


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Every test asks its own servers (answers are cached per endpoint)."""
    cw.forget_discovered()
    yield
    cw.forget_discovered()


class KindServer:
    """A loopback server speaking one server kind's model endpoints; it counts requests."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.hits: list[str] = []
        self.app = Starlette(routes=[Route("/{path:path}", self.answer, methods=["GET", "POST"])])

    async def answer(self, request: Request) -> Response:
        """Answer a known path with its JSON, anything else with a 404."""
        path = "/" + request.path_params["path"]
        self.hits.append(f"{request.method} {path}")
        body = self.routes.get(f"{request.method} {path}")
        if body is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(body)


def vllm_routes(model: str, max_len: int) -> dict[str, dict[str, object]]:
    """vLLM's ``GET /v1/models``: the served model with ``max_model_len``."""
    entry = {"id": model, "object": "model", "owned_by": "vllm", "max_model_len": max_len}
    return {"GET /v1/models": {"object": "list", "data": [entry]}}


def ollama_routes(loaded: int | None = None, num_ctx: int | None = None) -> dict[str, Any]:
    """Ollama's ``/api/ps`` (loaded models) and ``/api/show`` for ``qwen2.5:7b``."""
    models = []
    if loaded:
        models.append({"name": "qwen2.5:7b", "model": "qwen2.5:7b", "context_length": loaded})
    parameters = 'stop "<|im_end|>"' + (f"\nnum_ctx {num_ctx}" if num_ctx else "")
    show = {
        "parameters": parameters,
        "model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32_768},
    }
    return {
        "GET /api/ps": {"models": models},
        "POST /api/show": show,
        "GET /v1/models": {"object": "list", "data": [{"id": "qwen2.5:7b", "object": "model"}]},
    }


async def test_llama_cpp_reports_its_slot_context_in_props() -> None:
    server = LlamaCppServer(Brain(), n_ctx=6_144)
    with serve(server.app) as base:
        assert await discover_context_window(base + "/v1", "anything") == 6_144


async def test_vllm_reports_max_model_len() -> None:
    kind = KindServer(vllm_routes("Qwen/Qwen2.5-7B-Instruct", 16_384))
    with serve(kind.app) as base:
        found = await discover_context_window(base + "/v1", "Qwen/Qwen2.5-7B-Instruct")
    assert found == 16_384
    assert kind.hits[:2] == ["GET /props", "GET /v1/models"]


@pytest.mark.parametrize(
    ("loaded", "num_ctx", "expected"),
    [
        (12_288, None, 12_288),  # the loaded model's allocated context is the truth
        (None, 8_192, 8_192),  # a Modelfile's num_ctx
        (None, None, OLLAMA_DEFAULT_CONTEXT),  # Ollama's small default, not the 32k nominal
    ],
)
async def test_ollama_effective_context(
    loaded: int | None, num_ctx: int | None, expected: int
) -> None:
    kind = KindServer(ollama_routes(loaded, num_ctx))
    with serve(kind.app) as base:
        assert await discover_context_window(base + "/v1", "qwen2.5:7b") == expected


async def test_an_answer_is_cached_per_endpoint() -> None:
    kind = KindServer(vllm_routes("m", 20_000))
    with serve(kind.app) as base:
        first = await discover_context_window(base + "/v1", "m")
        asked = len(kind.hits)
        second = await discover_context_window(base + "/v1/", "m")
    assert first == second == 20_000
    assert len(kind.hits) == asked


async def test_a_server_that_does_not_answer_is_given_up_on() -> None:
    """A hanging endpoint costs the timeout once; then the known-model table applies."""
    asked: list[str] = []

    async def hang(request: Request) -> Response:
        asked.append(request.url.path)
        await asyncio.sleep(2)
        return JSONResponse({})

    app = Starlette(routes=[Route("/{path:path}", hang)])
    with serve(app) as base:
        assert await discover_context_window(base + "/v1", "qwen2.5:3b", timeout=0.3) is None
        settings = Settings(
            OPENAI_BASE_URL=base + "/v1",
            DEEPSEARCH_MODEL="qwen2.5:3b",
            _env_file=None,  # type: ignore[call-arg]
        )
        assert await context_window_for(settings) == 32_768  # the known-model table
    assert asked == ["/props"]  # the failure was remembered: not asked again


async def test_nothing_to_discover_falls_back() -> None:
    kind = KindServer({})
    with serve(kind.app) as base:
        assert await discover_context_window(base + "/v1", "m") is None
        unknown = Settings(
            OPENAI_BASE_URL=base + "/v1",
            DEEPSEARCH_MODEL="mystery",
            _env_file=None,  # type: ignore[call-arg]
        )
        assert await context_window_for(unknown) == 32_768  # the default


def test_only_self_hosted_servers_are_asked() -> None:
    for url in (
        "http://localhost:11434/v1",
        "http://127.0.0.1:8080/v1",
        "http://[::1]:8000/v1",
        "http://192.168.1.20:8000/v1",
        "http://10.0.0.5/v1",
        "http://ollama:11434/v1",
        "http://gpu-box.local:8000/v1",
    ):
        assert is_self_hosted(url), url
    hosted: tuple[str | None, ...] = (
        "https://api.openai.com/v1",
        "https://openrouter.ai/api/v1",
        "https://api.groq.com/openai/v1",
        "https://8.8.8.8/v1",
        None,
        "",
    )
    for hosted_url in hosted:
        assert not is_self_hosted(hosted_url), hosted_url


async def test_a_hosted_api_is_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_client(*args: object, **kwargs: object) -> None:
        raise AssertionError("a hosted API must not be asked for its context")

    monkeypatch.setattr(httpx, "AsyncClient", no_client)
    assert await discover_context_window("https://api.openai.com/v1", "gpt-4o") is None
    hosted = Settings(OPENAI_API_KEY=SecretStr("k"), DEEPSEARCH_MODEL="gpt-4o", _env_file=None)  # type: ignore[call-arg]
    assert await context_window_for(hosted) == 128_000


async def test_the_configured_window_always_wins() -> None:
    server = LlamaCppServer(Brain(), n_ctx=8_192)
    with serve(server.app) as base:
        settings = Settings(
            OPENAI_BASE_URL=base + "/v1",
            DEEPSEARCH_MODEL="qwen-local",
            DEEPSEARCH_LLM_CONTEXT=3_000,
            _env_file=None,  # type: ignore[call-arg]
        )
        llm = make_llm(settings)
        assert await llm.learn_context_window() == 3_000
        assert await context_window_for(settings) == 3_000
        unset = settings.model_copy(update={"llm_context": None})
        assert await make_llm(unset).learn_context_window() == 8_192


async def test_overflow_errors_are_recognised_with_their_sizes() -> None:
    """The error each server sends for an overlong prompt, as the OpenAI SDK raises it."""
    llama = {
        "code": 400,
        "message": "request (5015 tokens) exceeds the available context size (4096 tokens), "
        "try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 5015,
        "n_ctx": 4096,
    }
    bodies: dict[str, dict[str, object]] = {
        "llama.cpp": llama,
        "llama-cpp-python": {"message": "Requested tokens (5000) exceed context window of 2048"},
        "vllm": {
            "message": "This model's maximum context length is 8192 tokens. However, you "
            "requested 9000 tokens (8000 in the messages, 1000 in the completion).",
            "type": "BadRequestError",
        },
        "other": {"message": "'response_format' of type 'json_schema' is not supported"},
    }

    async def refuse(request: Request) -> Response:
        kind = (await request.json())["model"]
        return JSONResponse({"error": bodies[kind]}, status_code=400)

    app = Starlette(routes=[Route("/v1/chat/completions", refuse, methods=["POST"])])
    errors: dict[str, BaseException] = {}
    with serve(app) as base:
        client = openai.AsyncOpenAI(base_url=base + "/v1", api_key="x", max_retries=0)
        for kind in bodies:
            try:
                await client.chat.completions.create(
                    model=kind, messages=[{"role": "user", "content": "hi"}]
                )
            except openai.BadRequestError as exc:
                errors[kind] = exc
    assert overflow_of(errors["llama.cpp"]) == (4096, 5015)
    assert overflow_of(errors["llama-cpp-python"]) == (2048, 5000)
    assert overflow_of(errors["vllm"]) == (8192, None)
    assert overflow_of(errors["other"]) is None
    assert overflow_of(ValueError("context window")) is None
