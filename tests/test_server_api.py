"""The API server driven by real OpenAI clients (openai SDK, LangChain ChatOpenAI)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletionMessageParam
from pydantic import SecretStr

from deepsearch.server.app import create_app
from tests.support.api_server import (
    PAGES,
    QUESTION,
    new_model,
    scripted_graph,
    server_settings,
)
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.servers import serve

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": QUESTION}]


@pytest.fixture
def model(brain: Brain) -> AsyncScriptedChatModel:
    return new_model(brain)


@pytest.fixture
def base_url(model: AsyncScriptedChatModel) -> Iterator[str]:
    app = create_app(graph=scripted_graph(model), server_settings=server_settings())
    with serve(app) as base:
        yield base


@pytest.fixture
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0)


def page_text(url: str) -> str:
    return " ".join(PAGES[url].paragraphs)


def test_non_stream_completion_parses_with_citations_and_extra_fields(
    client: openai.OpenAI,
) -> None:
    completion = client.chat.completions.create(model="jina-deepsearch-v1", messages=USER)
    message = completion.choices[0].message
    assert "Bartholdi" in (message.content or "")
    assert "<think>" not in (message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.object == "chat.completion"
    citation = message.annotations[0].url_citation  # type: ignore[index]
    assert citation.url == "https://example.org/news/statue-of-liberty"
    quote = citation.model_extra["exactQuote"]  # type: ignore[index]
    assert quote and quote in page_text(citation.url)
    assert (message.content or "")[citation.start_index : citation.end_index] == "[^1]"
    extra = completion.model_extra or {}
    assert citation.url in extra["readURLs"]
    assert extra["numURLs"] == len(extra["visitedURLs"]) >= 1
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_stream_sends_think_block_answer_final_chunk_and_usage(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True))
    contents = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert contents[0] == "<think>"
    text = "".join(contents)
    think, _, answer = text.partition("</think>\n\n")
    assert "Searching: Who designed the Statue of Liberty?" in think
    assert "Reading https://example.org/news/statue-of-liberty" in think
    assert "passed" in think
    assert "Bartholdi" in answer and "<think>" not in answer
    kinds = [(c.choices[0].delta.model_extra or {}).get("type") for c in chunks if c.choices]
    assert kinds[0] == "think" and "text" in kinds
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    notes = (last.choices[0].delta.model_extra or {})["annotations"]
    assert notes[0]["url_citation"]["url"] == "https://example.org/news/statue-of-liberty"
    assert last.usage is not None and last.usage.total_tokens > 0
    assert (last.model_extra or {})["readURLs"]
    assert all(c.model == "m" and c.id == chunks[0].id for c in chunks)


def test_think_chunks_carry_live_budget_progress(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True))
    progress = [(c.choices[0].delta.model_extra or {}).get("progress") for c in chunks if c.choices]
    seen = [p for p in progress if p]
    assert seen, "think chunks carry the run's progress"
    assert all(p["budget_tokens"] > 0 for p in seen)
    used = [p["tokens_used"] for p in seen]
    assert used == sorted(used) and used[-1] > 0  # tokens grow as the run goes


def test_stream_include_usage_sends_openais_trailing_usage_chunk(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="m",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage and chunks[-1].usage.total_tokens > 0
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-2].usage is None


def test_raw_stream_ends_with_done(base_url: str) -> None:
    body = {"messages": USER, "stream": True}
    with httpx.stream("POST", base_url + "/v1/chat/completions", json=body, timeout=30) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in resp.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    assert json.loads(data[-2])["choices"][0]["finish_reason"] == "stop"


async def test_async_client_stream_and_non_stream(base_url: str) -> None:
    client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key="unused", max_retries=0)
    completion = await client.chat.completions.create(model="m", messages=USER)
    assert "Bartholdi" in (completion.choices[0].message.content or "")
    stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text.startswith("<think>") and "Bartholdi" in text.split("</think>")[1]
    await client.close()


def test_langchain_chat_openai_invoke_and_stream(base_url: str) -> None:
    llm = ChatOpenAI(
        model="jina-deepsearch-v1",
        base_url=base_url + "/v1",
        api_key=SecretStr("unused"),
        max_retries=0,
    )
    reply = llm.invoke(QUESTION)
    assert "Bartholdi" in str(reply.content)
    assert reply.usage_metadata and reply.usage_metadata["total_tokens"] > 0
    streamed = "".join(str(chunk.content) for chunk in llm.stream(QUESTION))
    assert streamed.startswith("<think>") and "Bartholdi" in streamed.split("</think>")[1]


async def test_langchain_chat_openai_async(base_url: str) -> None:
    llm = ChatOpenAI(
        model="m", base_url=base_url + "/v1", api_key=SecretStr("unused"), max_retries=0
    )
    reply = await llm.ainvoke([("user", QUESTION)])
    assert "Bartholdi" in str(reply.content)


def test_models_and_health_stay_public_when_a_key_is_set(model: AsyncScriptedChatModel) -> None:
    app = create_app(graph=scripted_graph(model), server_settings=server_settings(), api_key="k1")
    with serve(app) as base:
        anonymous = openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0)
        assert [m.id for m in anonymous.models.list()] == ["jina-deepsearch-v1"]
        assert anonymous.models.retrieve("jina-deepsearch-v1").id == "jina-deepsearch-v1"
        with pytest.raises(openai.NotFoundError):
            anonymous.models.retrieve("gpt-5")
        assert httpx.get(base + "/health").json() == {"status": "ok", "active_runs": 0}
        with pytest.raises(openai.AuthenticationError) as wrong:
            anonymous.chat.completions.create(model="m", messages=USER)
        assert wrong.value.code == "invalid_api_key"
        missing = httpx.post(base + "/v1/chat/completions", json={"messages": USER})
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "invalid_api_key"
        assert model.calls == 0
        allowed = openai.OpenAI(base_url=base + "/v1", api_key="k1", max_retries=0)
        answer = allowed.chat.completions.create(model="m", messages=USER)
        assert "Bartholdi" in (answer.choices[0].message.content or "")


def test_rate_limit_per_key_answers_429_with_retry_after(model: AsyncScriptedChatModel) -> None:
    app = create_app(
        graph=scripted_graph(model), server_settings=server_settings(DEEPSEARCH_RATE_LIMIT=1)
    )
    with serve(app) as base:
        first = openai.OpenAI(base_url=base + "/v1", api_key="a", max_retries=0)
        first.chat.completions.create(model="m", messages=USER)
        with pytest.raises(openai.RateLimitError) as limited:
            first.chat.completions.create(model="m", messages=USER)
        assert int(limited.value.response.headers["retry-after"]) >= 1
        other_key = openai.OpenAI(base_url=base + "/v1", api_key="b", max_retries=0)
        assert other_key.chat.completions.create(model="m", messages=USER).choices


def test_cors_preflight_allows_configured_origin(model: AsyncScriptedChatModel) -> None:
    settings = server_settings(DEEPSEARCH_CORS_ORIGINS="http://ui.test")
    with serve(create_app(graph=scripted_graph(model), server_settings=settings)) as base:
        resp = httpx.options(
            base + "/v1/chat/completions",
            headers={
                "Origin": "http://ui.test",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert resp.headers["access-control-allow-origin"] == "http://ui.test"
        other = httpx.options(
            base + "/v1/chat/completions",
            headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in other.headers


def test_unknown_routes_and_methods_are_openai_errors(base_url: str) -> None:
    missing = httpx.get(base_url + "/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = httpx.get(base_url + "/v1/chat/completions")
    assert wrong.status_code == 405 and set(wrong.json()["error"]) == {
        "message",
        "type",
        "param",
        "code",
    }


def error_of(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"error"}
    return body["error"]
