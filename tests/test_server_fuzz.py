"""Hostile and malformed requests: every one gets a 4xx OpenAI-style error, never a 5xx or a hang."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsearch.server.app import create_app
from tests.support.api_server import (
    PNG_BYTES,
    QUESTION,
    data_uri,
    new_model,
    scripted_graph,
    server_settings,
)
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.servers import serve

KEY = "fuzz-key"
BODY_LIMIT = 65_536
VALID_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
BOOL_WORDS = {"0", "1", "t", "f", "y", "n", "on", "off", "yes", "no", "true", "false"}

json_leaf = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
not_a_list = json_leaf | st.dictionaries(st.text(max_size=8), json_leaf, max_size=3)
containers = st.lists(json_leaf, max_size=3) | st.dictionaries(
    st.text(max_size=5), json_leaf, max_size=3
)


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def with_part(part: Any) -> dict[str, Any]:
    return {"messages": [user([{"type": "text", "text": QUESTION}, part])]}


# Each strategy builds (body bytes, headers) that is wrong in one way by construction.
bad_json = st.binary(max_size=200).filter(lambda b: not _parses(b))
non_object = st.one_of(json_leaf, st.lists(json_value, max_size=4)).map(json.dumps)
no_messages = st.dictionaries(
    st.text(max_size=10).filter(lambda k: k != "messages"), json_value, max_size=5
)
bad_messages = st.one_of(
    not_a_list.filter(lambda v: not isinstance(v, list)),
    st.just([]),
    st.lists(json_leaf, min_size=1, max_size=3),
).map(lambda m: {"messages": m})
bad_role = (
    st.text(max_size=12)
    .filter(lambda r: r not in VALID_ROLES)
    .map(lambda r: {"messages": [{"role": r, "content": QUESTION}]})
)
last_not_user = st.sampled_from(["assistant", "system", "developer"]).map(
    lambda r: {"messages": [user(QUESTION), {"role": r, "content": "hi"}]}
)
empty_question = st.sampled_from(["", "   ", None, []]).map(lambda c: {"messages": [user(c)]})
bad_content = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.dictionaries(st.text(max_size=5), json_leaf, max_size=3),
).map(lambda c: {"messages": [user(c)]})
bad_part = st.one_of(
    json_leaf,
    st.text(max_size=12)
    .filter(lambda t: t not in {"text", "input_text", "image_url", "image", "file"})
    .map(lambda t: {"type": t}),
    st.one_of(json_leaf.filter(lambda v: not isinstance(v, str)), containers).map(
        lambda t: {"type": "text", "text": t}
    ),
).map(with_part)
bad_image_uri = st.one_of(
    st.text(max_size=60).filter(lambda t: not t.startswith("data:")),
    st.text(alphabet="!@#$%^&*()", min_size=1, max_size=40).map(
        lambda t: "data:image/png;base64," + t
    ),
    st.binary(max_size=64)
    .filter(lambda b: not b.startswith(PNG_BYTES[:8]))
    .map(lambda b: data_uri("image/png", b)),
    st.sampled_from(["image/gif", "image/svg+xml", "text/html", "application/pdf"]).map(
        lambda m: data_uri(m, PNG_BYTES)
    ),
).map(lambda url: with_part({"type": "image_url", "image_url": {"url": url}}))
bad_file = st.one_of(
    st.text(max_size=60).filter(lambda t: not t.startswith("data:")),
    st.binary(max_size=64)
    .filter(lambda b: b"%PDF" not in b)
    .map(lambda b: data_uri("application/pdf", b)),
    st.sampled_from(["application/zip", "image/png", "application/octet-stream"]).map(
        lambda m: data_uri(m, b"PK\x03\x04")
    ),
).map(lambda uri: with_part({"type": "file", "file": {"filename": "x", "file_data": uri}}))
bad_field = st.one_of(
    st.tuples(
        st.just("reasoning_effort"),
        st.text(max_size=10).filter(
            lambda t: t not in {"none", "minimal", "low", "medium", "high"}
        ),
    ),
    st.tuples(
        st.sampled_from(["budget_tokens", "max_completion_tokens"]),
        st.integers(max_value=0)
        | st.text(alphabet="abcxyz", min_size=1)
        | containers
        | st.just(1.5),
    ),
    st.tuples(st.just("max_attempts"), st.integers(max_value=0) | st.integers(min_value=21)),
    st.tuples(st.just("team_size"), st.integers(max_value=0) | st.integers(min_value=9)),
    st.tuples(st.sampled_from(["max_returned_urls", "max_annotations"]), st.integers(max_value=-1)),
    st.tuples(
        st.just("search_provider"),
        st.text(max_size=10).filter(
            lambda t: (
                t not in {"jina", "brave", "serper", "duckduckgo", "searxng", "arxiv", "local"}
            )
        ),
    ),
    st.tuples(
        st.sampled_from(["language_code", "search_language_code"]),
        st.text(max_size=1) | st.text(min_size=17, max_size=30) | containers,
    ),
    st.tuples(
        st.sampled_from(["stream", "no_direct_answer"]),
        containers | st.text(alphabet="qwzx", min_size=2).filter(lambda t: t not in BOOL_WORDS),
    ),
    st.tuples(
        st.sampled_from(["boost_hostnames", "bad_hostnames", "only_hostnames"]),
        st.integers()
        | st.dictionaries(st.text(max_size=3), json_leaf, max_size=2)
        | st.lists(st.integers(), min_size=1, max_size=3),
    ),
    st.tuples(
        st.just("response_format"),
        json_leaf.filter(lambda v: v is not None)
        | st.text(max_size=8)
        .filter(lambda t: t not in {"text", "json_object", "json_schema"})
        .map(lambda t: {"type": t}),
    ),
    st.tuples(
        st.just("response_format"),
        st.sampled_from(
            [
                {"type": "json_schema"},
                {"type": "json_schema", "json_schema": {"name": "x"}},
                {"type": "json_schema", "json_schema": {"schema": {"type": 12}}},
            ]
        ),
    ),
    st.tuples(
        st.just("stream_options"),
        st.integers() | st.text(max_size=5) | st.just({"include_usage": {"a": 1}}),
    ),
    st.tuples(st.just("model"), st.integers() | containers | st.text(min_size=257, max_size=300)),
).map(lambda kv: {"messages": [user(QUESTION)], kv[0]: kv[1]})


def _parses(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


def encode(body: Any) -> bytes:
    return (
        body
        if isinstance(body, bytes)
        else (body if isinstance(body, str) else json.dumps(body)).encode()
    )


def streamed(body: Any, stream: bool) -> Any:
    """Also try the streaming path, unless the case is about the stream field itself."""
    if stream and isinstance(body, dict) and "stream" not in body:
        return {**body, "stream": True}
    return body


malformed = st.tuples(
    st.one_of(
        bad_json,
        non_object,
        no_messages,
        bad_messages,
        bad_role,
        last_not_user,
        empty_question,
        bad_content,
        bad_part,
        bad_image_uri,
        bad_file,
        bad_field,
    ),
    st.booleans(),
).map(lambda case: streamed(*case))

deep_nesting = st.integers(min_value=500, max_value=50_000).map(lambda n: "[" * n + "]" * n)
huge = st.integers(min_value=BODY_LIMIT, max_value=2 * BODY_LIMIT).map(
    lambda n: {"messages": [user(QUESTION)], "padding": "x" * n}
)
wrong_auth = st.one_of(
    st.none(),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
    .filter(lambda t: t.strip() != KEY)
    .map(lambda t: ("Bearer " + t).strip()),
    st.sampled_from([KEY, "Basic " + KEY, "bearer", "Token " + KEY]),
)


class FuzzTarget(NamedTuple):
    """The client of the server under attack and the model that must never be called."""

    client: httpx.Client
    model: AsyncScriptedChatModel

    def __repr__(self) -> str:
        return "FuzzTarget()"


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[FuzzTarget]:
    model = new_model()
    app = create_app(
        graph=scripted_graph(model),
        server_settings=server_settings(
            DEEPSEARCH_MAX_BODY_BYTES=BODY_LIMIT, DEEPSEARCH_MAX_FILE_BYTES=4096
        ),
        api_key=KEY,
    )
    with serve(app) as base, httpx.Client(base_url=base, timeout=20) as client:
        yield FuzzTarget(client, model)
    assert model.calls == 0, "a malformed request started a run"


def assert_openai_4xx(resp: httpx.Response) -> None:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
    error = resp.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in resp.text


def post(client: httpx.Client, body: Any, auth: str | None = "Bearer " + KEY) -> httpx.Response:
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    return client.post("/v1/chat/completions", content=encode(body), headers=headers)


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=malformed)
def test_malformed_requests_get_openai_4xx(fuzz_server: FuzzTarget, body: Any) -> None:
    assert_openai_4xx(post(fuzz_server[0], body))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(deep_nesting, huge))
def test_deep_and_huge_bodies_get_4xx(fuzz_server: FuzzTarget, body: Any) -> None:
    resp = post(fuzz_server[0], body)
    assert_openai_4xx(resp)
    if isinstance(body, dict):
        assert resp.status_code == 413


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(auth=wrong_auth, stream=st.booleans())
def test_wrong_auth_gets_401(fuzz_server: FuzzTarget, auth: str | None, stream: bool) -> None:
    resp = post(fuzz_server[0], {"messages": [user(QUESTION)], "stream": stream}, auth=auth)
    assert resp.status_code == 401
    assert_openai_4xx(resp)
