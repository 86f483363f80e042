"""OpenAI-strict request validation, through HTTP: every field's types and ranges.

Each field has valid values (the scripted model answers them, streamed or not) and
invalid ones (a 400 naming the field, before any model call). Fuzzing draws both for
every standard and DeepSearch field, and arbitrary JSON for any of them: never a 5xx,
never a hang.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsearch.api import build_graph
from deepsearch.server.app import create_app
from tests.support.api_server import PAGES, QUESTION, local_settings, new_model, server_settings
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.request_fields import INVALID, UNSUPPORTED, VALID, anything, valid_fields
from tests.support.servers import serve
from tests.support.testweb import TestWeb

JSON = {"Content-Type": "application/json"}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Target(NamedTuple):
    """The client of the server under test, and its scripted model."""

    client: httpx.Client
    model: AsyncScriptedChatModel
    base: str

    def __repr__(self) -> str:
        return "Target()"


@pytest.fixture(scope="module")
def target(testweb: TestWeb) -> Iterator[Target]:
    model = new_model()
    # A request may pick SearXNG, which searches the local test web; the providers that
    # need keys have none here.
    run_settings = local_settings(SEARXNG_URL=testweb.base_url)
    graph = build_graph(
        model=model,
        search=MemorySearch(PAGES),
        reader=MemoryReader(PAGES),
        settings=run_settings,
        team=False,
    )
    app = create_app(graph=graph, settings=run_settings, server_settings=server_settings())
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield Target(client, model, base)


def ask(**fields: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": QUESTION}], **fields}


def post(target: Target, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return target.client.post("/v1/chat/completions", content=raw, headers=headers or JSON)


def openai_error(resp: httpx.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == "invalid_request_error"
    assert "Traceback" not in resp.text
    return dict(error)


def assert_answered(resp: httpx.Response, stream: bool) -> None:
    assert resp.status_code == 200, resp.text[:500]
    if not stream:
        choice = resp.json()["choices"][0]
        assert isinstance(choice["message"]["content"], str)
        assert choice["finish_reason"] == "stop"
        return
    data = [line[6:] for line in resp.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert not any("error" in c for c in chunks), chunks[-1]
    assert any(c["choices"] and c["choices"][0]["finish_reason"] == "stop" for c in chunks)


def assert_refused(
    target: Target, body: dict[str, Any], field: str, status: int = 400
) -> dict[str, Any]:
    calls = target.model.calls
    resp = post(target, body)
    assert resp.status_code == status, (field, resp.text[:300])
    error = openai_error(resp)
    assert error["param"] == field or str(error["param"]).startswith(field + "."), error
    assert target.model.calls == calls, "a refused request reached the model"
    return error


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("temperature", "hot", "invalid_type"),
        ("temperature", 2.5, "decimal_above_max_value"),
        ("top_p", "x", "invalid_type"),
        ("top_p", -0.1, "decimal_below_min_value"),
        ("user", 5, "invalid_type"),
        ("tools", "x", "invalid_type"),
        ("stream", "yes", "invalid_type"),
        ("stream", 1, "invalid_type"),
        ("no_direct_answer", "true", "invalid_type"),
        ("budget_tokens", 1000.0, "invalid_type"),
        ("budget_tokens", 0, "integer_below_min_value"),
        ("n", 0, "integer_below_min_value"),
        ("stop", ["a", "b", "c", "d", "e"], "array_above_max_length"),
        ("logit_bias", {"50256": 101}, "integer_above_max_value"),
        ("metadata", {f"k{i}": "v" for i in range(17)}, "object_above_max_length"),
        ("reasoning_effort", "extreme", "invalid_value"),
        ("language_code", "en;drop", "invalid_value"),
    ],
)
def test_reported_bad_values_are_400s_naming_the_field(
    target: Target, field: str, value: Any, code: str
) -> None:
    for stream in (False, True):
        body = ask(**{field: value}) if field == "stream" else ask(stream=stream, **{field: value})
        assert assert_refused(target, body, field)["code"] == code


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            ask(tools=[{"type": "function", "function": {"name": "has space"}}]),
            "tools.0.function.name",
        ),
        (ask(tools=[{"type": "function"}]), "tools.0.function"),
        (ask(tools=[{"type": "web"}]), "tools.0.type"),
        (ask(tool_choice={"type": "function", "function": {}}), "tool_choice.function.name"),
        (ask(stop=["ok", 3]), "stop.1"),
        (ask(metadata={"k": 1}), "metadata.k"),
        (ask(response_format={"type": "json_schema"}), "response_format.json_schema"),
        (
            ask(response_format={"type": "json_schema", "json_schema": {"name": "x"}}),
            "response_format.json_schema.schema",
        ),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]},
            "messages.0.content.0.text",
        ),
    ],
)
def test_nested_errors_name_the_nested_field(
    target: Target, body: dict[str, Any], param: str
) -> None:
    assert assert_refused(target, body, param)["param"] == param


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": False, "stream_options": {}}, "stream_options"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": False, "top_logprobs": 3}, "top_logprobs"),
    ],
)
def test_options_that_need_another_field_are_refused_without_it(
    target: Target, fields: dict[str, Any], param: str
) -> None:
    assert assert_refused(target, ask(**fields), param)["code"] == "invalid_value"


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"Content-Type": "text/plain"}, json.dumps(ask()).encode(), 415, "unsupported_media_type"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            json.dumps(ask()).encode(),
            415,
            "unsupported_media_type",
        ),
        (
            {"Content-Type": "multipart/form-data; boundary=x"},
            b"--x--",
            415,
            "unsupported_media_type",
        ),
        ({}, json.dumps(ask()).encode(), 415, "unsupported_media_type"),
        (
            {"Content-Type": "application/json; charset=latin-1"},
            json.dumps(ask()).encode(),
            415,
            "unsupported_media_type",
        ),
        (JSON, b'{"messages": [{"role": "user", "content": "caf\xe9?"}]}', 400, "invalid_encoding"),
        (
            JSON,
            b'{"messages": [{"role": "user", "content": "Wh\xed\xa0\x80o?"}]}',
            400,
            "invalid_encoding",
        ),
        (
            JSON,
            b'{"messages": [{"role": "user", "content": "Wh\\ud800o?"}]}',
            400,
            "invalid_encoding",
        ),
        (JSON, b"messages=hello", 400, "invalid_json"),
        (JSON, b'{"messages": [], "temperature": NaN}', 400, "invalid_json"),
        (JSON, b'{"messages": [], "max_seconds": Infinity}', 400, "invalid_json"),
        (JSON, b"[1, 2]", 400, "invalid_json"),
        (JSON, b"", 400, "invalid_json"),
    ],
)
def test_bodies_that_are_not_utf8_json_objects_are_refused_before_reading_fields(
    target: Target, headers: dict[str, str], body: bytes, status: int, code: str
) -> None:
    calls = target.model.calls
    resp = target.client.post("/v1/chat/completions", content=body, headers=headers)
    assert resp.status_code == status
    assert openai_error(resp)["code"] == code
    assert target.model.calls == calls


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON", "application/json; charset=UTF-8"]
)
def test_json_content_types_are_accepted(target: Target, content_type: str) -> None:
    resp = post(target, ask(), headers={"Content-Type": content_type})
    assert_answered(resp, stream=False)


def test_unknown_fields_are_accepted(target: Target) -> None:
    body = ask(some_future_field={"x": [1, 2]}, x_client="tool/1.0")
    body["messages"][0]["cache_control"] = {"type": "ephemeral"}
    assert_answered(post(target, body), stream=False)


@FUZZ
@given(body=valid_fields)
def test_valid_values_of_every_field_are_answered(target: Target, body: dict[str, Any]) -> None:
    assert_answered(post(target, ask(**body)), stream=body.get("stream") is True)


@FUZZ
@given(data=st.data(), field=st.sampled_from(sorted(INVALID)))
def test_a_bad_value_of_any_field_is_a_400_naming_it(
    target: Target, data: st.DataObject, field: str
) -> None:
    others = {k: v for k, v in data.draw(valid_fields).items() if k != field}
    if field == "stream":
        others.pop("stream_options", None)
    if field == "logprobs":
        others.pop("top_logprobs", None)
    assert_refused(target, {**ask(**others), field: data.draw(INVALID[field])}, field)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), field=st.sampled_from(sorted(UNSUPPORTED)))
def test_values_deepsearch_cannot_honour_are_400s(
    target: Target, data: st.DataObject, field: str
) -> None:
    error = assert_refused(target, ask(**{field: data.draw(UNSUPPORTED[field])}), field)
    assert error["code"] == "unsupported_value"


@FUZZ
@given(
    fields=st.dictionaries(st.sampled_from(sorted(VALID | INVALID)), anything, max_size=3),
    stream=st.booleans(),
)
def test_any_json_in_any_field_is_answered_or_refused_never_a_5xx(
    target: Target, fields: dict[str, Any], stream: bool
) -> None:
    body = {"stream": stream, **ask(**fields)}
    resp = post(target, body)
    assert resp.status_code < 500, resp.text[:300]
    if resp.status_code != 200:
        assert 400 <= resp.status_code < 500
        openai_error(resp)


STANDARD_FIELDS: dict[str, Any] = {
    "temperature": 0.2,
    "top_p": 0.9,
    "n": 1,
    "stop": ["\n\n\n"],
    "user": "user-1",
    "seed": 42,
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather of a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "max_tokens": 2000,
    "presence_penalty": 0.5,
    "frequency_penalty": -0.5,
    "logit_bias": {"50256": -100},
    "logprobs": True,
    "top_logprobs": 2,
    "metadata": {"project": "tests"},
    "modalities": ["text"],
    "store": False,
    "service_tier": "auto",
    "response_format": {"type": "text"},
    "reasoning_effort": "low",
    "prediction": {"type": "content", "content": "The Statue of Liberty"},
    "web_search_options": {"search_context_size": "low"},
    "verbosity": "low",
    "safety_identifier": "hash-of-user",
    "prompt_cache_key": "deepsearch-tests",
}


def test_openai_sdk_with_every_standard_field_set_still_works(target: Target) -> None:
    client = openai.OpenAI(base_url=target.base + "/v1", api_key="unused", max_retries=0)
    messages: Any = [{"role": "user", "content": QUESTION}]
    reply = client.chat.completions.create(
        model="jina-deepsearch-v1", messages=messages, **STANDARD_FIELDS
    )
    assert "Bartholdi" in (reply.choices[0].message.content or "")
    chunks = list(
        client.chat.completions.create(
            model="jina-deepsearch-v1",
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
            **STANDARD_FIELDS,
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Bartholdi" in text.partition("</think>")[2]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_openai_sdk_gets_the_400_as_a_bad_request_error(target: Target) -> None:
    client = openai.OpenAI(base_url=target.base + "/v1", api_key="unused", max_retries=0)
    messages: Any = [{"role": "user", "content": QUESTION}]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="m", messages=messages, temperature=3)
    assert caught.value.param == "temperature"
    assert caught.value.code == "decimal_above_max_value"


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(sorted(VALID | INVALID)), depth=st.integers(10, 900))
def test_deeply_nested_values_in_any_field_are_never_a_5xx(
    target: Target, field: str, depth: int
) -> None:
    resp = post(target, ask(**{field: nested(depth)}))
    assert resp.status_code < 500, resp.text[:300]
    if resp.status_code != 200:
        openai_error(resp)


@pytest.mark.parametrize("depth", [40, 400])
def test_a_too_deeply_nested_answer_schema_is_a_400(target: Target, depth: int) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    fmt = {"type": "json_schema", "json_schema": {"name": "deep", "schema": schema}}
    error = assert_refused(target, ask(response_format=fmt), "response_format")
    assert error["param"] == "response_format.json_schema.schema"


def test_validation_comes_before_the_missing_llm_503() -> None:
    app = create_app(settings=local_settings(), server_settings=server_settings())
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        url = "/v1/chat/completions"
        bad = client.post(url, json=ask(temperature="hot"))
        assert bad.status_code == 400 and openai_error(bad)["param"] == "temperature"
        plain = client.post(url, content=json.dumps(ask()), headers={"Content-Type": "text/plain"})
        assert plain.status_code == 415
        fine = client.post(url, json=ask())
        assert fine.status_code == 503 and fine.json()["error"]["code"] == "llm_not_configured"
