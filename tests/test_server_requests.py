"""Request fields, attachments and errors of the API server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from deepsearch.context import Context
from deepsearch.server.app import create_app
from deepsearch.server.schemas import ChatCompletionRequest
from deepsearch.settings import NO_LLM_MESSAGE
from tests.support.api_server import (
    PNG_BYTES,
    QUESTION,
    data_uri,
    local_settings,
    minimal_pdf,
    new_model,
    scripted_graph,
    server_settings,
)
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.servers import serve

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": QUESTION}]


@pytest.fixture
def model(brain: Brain) -> AsyncScriptedChatModel:
    return new_model(brain)


@pytest.fixture
def base_url(model: AsyncScriptedChatModel) -> Iterator[str]:
    settings = server_settings(DEEPSEARCH_MAX_FILE_BYTES=4096, DEEPSEARCH_MAX_BODY_BYTES=65536)
    with serve(create_app(graph=scripted_graph(model), server_settings=settings)) as base:
        yield base


def post(base: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(base + "/v1/chat/completions", json=body, timeout=30, **kwargs)


def error_of(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def sse_data(resp: httpx.Response) -> list[str]:
    return [line[6:] for line in resp.text.splitlines() if line.startswith("data: ")]


def test_every_spec_field_maps_onto_the_run_context() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    req = ChatCompletionRequest.model_validate(
        {
            "messages": USER,
            "reasoning_effort": "high",
            "budget_tokens": 12345,
            "max_attempts": 3,
            "max_completion_tokens": 999,
            "team_size": 2,
            "no_direct_answer": True,
            "boost_hostnames": [" Example.org "],
            "bad_hostnames": ["spam.test"],
            "only_hostnames": ["docs.test", ""],
            "search_provider": "arxiv",
            "search_language_code": "de",
            "language_code": "fr",
            "max_returned_urls": 7,
            "max_annotations": 2,
            "max_seconds": 90,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": schema},
            },
            "temperature": 0.3,
            "tools": [{"type": "function", "function": {"name": "get_weather"}}],
            "user": "someone",
        }
    )
    assert req.to_context(max_team_size=8) == Context(
        reasoning_effort="high",
        budget_tokens=12345,
        max_attempts=3,
        max_completion_tokens=999,
        team_size=2,
        no_direct_answer=True,
        boost_hostnames=["example.org"],
        bad_hostnames=["spam.test"],
        only_hostnames=["docs.test"],
        search_provider="arxiv",
        search_language_code="de",
        language_code="fr",
        max_returned_urls=7,
        max_annotations=2,
        max_seconds=90,
        response_schema=schema,
    )
    bare = ChatCompletionRequest.model_validate({"messages": USER, "reasoning_effort": "minimal"})
    assert bare.to_context(8) == Context(reasoning_effort="low")
    as_object = {"messages": USER, "response_format": {"type": "json_object"}}
    assert ChatCompletionRequest.model_validate(as_object).to_context(8).response_schema == {
        "type": "object"
    }


def test_caps_on_annotations_and_urls_reach_the_response(base_url: str) -> None:
    body = post(base_url, {"messages": USER, "max_annotations": 0, "max_returned_urls": 1}).json()
    message = body["choices"][0]["message"]
    assert message["annotations"] == [] and "[^1]" not in message["content"]
    assert len(body["visitedURLs"]) == 1 and body["numURLs"] == 1


def test_json_schema_answer_is_json_in_stream_and_non_stream(base_url: str, brain: Brain) -> None:
    schema: dict[str, object] = {
        "type": "object",
        "properties": {"designer": {"type": "string"}},
        "required": ["designer"],
    }
    fmt: ResponseFormatJSONSchema = {
        "type": "json_schema",
        "json_schema": {"name": "designer", "schema": schema, "strict": True},
    }
    brain.script("formatter", {"designer": "Bartholdi"}, {"designer": "Bartholdi"})
    client = openai.OpenAI(base_url=base_url + "/v1", api_key="x", max_retries=0)
    completion = client.chat.completions.create(model="m", messages=USER, response_format=fmt)
    assert json.loads(completion.choices[0].message.content or "") == {"designer": "Bartholdi"}
    chunks = list(
        client.chat.completions.create(model="m", messages=USER, response_format=fmt, stream=True)
    )
    answer = [
        c
        for c in chunks
        if c.choices and (c.choices[0].delta.model_extra or {}).get("type") == "json"
    ]
    assert json.loads("".join(c.choices[0].delta.content or "" for c in answer)) == {
        "designer": "Bartholdi"
    }


def test_images_and_text_and_pdf_files_reach_the_run(
    base_url: str, brain: Brain, model: AsyncScriptedChatModel
) -> None:
    image = data_uri("image/png", PNG_BYTES)
    content = [
        {"type": "text", "text": QUESTION},
        {"type": "image_url", "image_url": {"url": image}},
        {
            "type": "file",
            "file": {
                "filename": "notes.txt",
                "file_data": data_uri("text/plain", b"Plain note: the copper skin is thin."),
            },
        },
        {
            "type": "file",
            "file": {
                "filename": "memo.pdf",
                "file_data": data_uri(
                    "application/pdf", minimal_pdf("PDF memo: Eiffel built the frame.")
                ),
            },
        },
    ]
    resp = post(base_url, {"messages": [{"role": "user", "content": content}]})
    assert resp.status_code == 200, resp.text
    assert image in model.images
    prompts = "\n".join(call.user for call in brain.calls)
    assert "Plain note: the copper skin is thin." in prompts
    assert "PDF memo: Eiffel built the frame." in prompts


def test_earlier_turns_are_context_without_their_think_blocks(base_url: str, brain: Brain) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Tell me about the Eiffel Tower."},
        {
            "role": "assistant",
            "content": "<think>Searching: tower\n</think>\n\nIt is in Paris, a wrought-iron tower.",
        },
        *USER,
    ]
    assert post(base_url, {"messages": messages}).status_code == 200
    prompts = "\n".join(call.user for call in brain.calls)
    assert "wrought-iron tower" in prompts and "Searching: tower" not in prompts


@pytest.mark.parametrize(
    ("part", "status", "code"),
    [
        (
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}},
            400,
            "invalid_data_uri",
        ),
        (
            {"type": "image_url", "image_url": {"url": "https://example.org/cat.png"}},
            400,
            "invalid_data_uri",
        ),
        (
            {"type": "image_url", "image_url": {"url": data_uri("image/gif", b"GIF89a")}},
            400,
            "unsupported_image_type",
        ),
        (
            {
                "type": "image_url",
                "image_url": {"url": data_uri("image/png", b"\xff\xd8\xff jpeg")},
            },
            400,
            "invalid_image",
        ),
        (
            {"type": "image_url", "image_url": {"url": data_uri("image/png", PNG_BYTES * 400)}},
            413,
            "file_too_large",
        ),
        (
            {"type": "file", "file": {"file_data": data_uri("text/plain", b"x" * 5000)}},
            413,
            "file_too_large",
        ),
        (
            {"type": "file", "file": {"file_data": data_uri("application/zip", b"PK\x03\x04")}},
            400,
            "unsupported_file_type",
        ),
        (
            {
                "type": "file",
                "file": {"file_data": data_uri("application/pdf", b"%PDF-1.4 broken")},
            },
            400,
            "invalid_file",
        ),
        ({"type": "file", "file": {"file_id": "file-123"}}, 400, "unsupported_file"),
        ({"type": "input_audio", "input_audio": {}}, 400, "invalid_value"),
    ],
)
def test_bad_attachments_are_client_errors(
    base_url: str, model: AsyncScriptedChatModel, part: dict[str, Any], status: int, code: str
) -> None:
    content = [{"type": "text", "text": QUESTION}, part]
    resp = post(base_url, {"messages": [{"role": "user", "content": content}], "stream": True})
    assert resp.status_code == status
    assert error_of(resp)["code"] == code
    assert model.calls == 0


def test_body_limit_holds_for_declared_and_chunked_bodies(base_url: str) -> None:
    big = json.dumps({"messages": USER, "padding": "x" * 70_000}).encode()
    headers = {"Content-Type": "application/json"}
    declared = httpx.post(base_url + "/v1/chat/completions", content=big, headers=headers)
    assert declared.status_code == 413 and error_of(declared)["code"] == "request_too_large"

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    chunked = httpx.post(base_url + "/v1/chat/completions", content=pieces(), headers=headers)
    assert chunked.status_code == 413 and error_of(chunked)["code"] == "request_too_large"


def test_no_llm_configured_is_a_503_before_streaming() -> None:
    app = create_app(settings=local_settings(), server_settings=server_settings())
    with serve(app) as base:
        for stream in (False, True):
            resp = post(base, {"messages": USER, "stream": stream})
            assert resp.status_code == 503
            err = error_of(resp)
            assert err["code"] == "llm_not_configured" and err["message"] == NO_LLM_MESSAGE


def test_missing_llm_discovered_mid_run_ends_the_stream_cleanly() -> None:
    from deepsearch.api import build_graph
    from tests.support.api_server import PAGES

    graph = build_graph(
        search=MemorySearch(PAGES),
        reader=MemoryReader(PAGES),
        settings=local_settings(),
        team=False,
    )
    with serve(create_app(graph=graph, server_settings=server_settings())) as base:
        streamed = post(base, {"messages": USER, "stream": True})
        assert streamed.status_code == 200
        data = sse_data(streamed)
        assert data[-1] == "[DONE]"
        chunks = [json.loads(d) for d in data[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert text.startswith("<think>") and "</think>\n\n" in text
        last = chunks[-1]
        assert last["choices"][0]["delta"]["type"] == "error"
        assert last["error"]["code"] == "llm_not_configured"
        plain = post(base, {"messages": USER})
        assert plain.status_code == 503 and error_of(plain)["code"] == "llm_not_configured"


def test_failing_llm_is_a_502_without_traceback(base_url: str, brain: Brain) -> None:
    def broken(system: str, user: str) -> str:
        raise ConnectionError("upstream refused")

    brain.handlers["planner"] = broken
    resp = post(base_url, {"messages": USER})
    assert resp.status_code == 502
    err = error_of(resp)
    assert "upstream refused" in err["message"] and "Traceback" not in resp.text
    streamed = post(base_url, {"messages": USER, "stream": True})
    data = sse_data(streamed)
    assert data[-1] == "[DONE]" and json.loads(data[-2])["choices"][0]["delta"]["type"] == "error"
    assert "Traceback" not in streamed.text
