"""``auto`` structured output: the best format each endpoint supports, found once per endpoint.

Servers here are loopback OpenAI-compatible servers (tests/support/llm_server.py) that
answer like the real ones do: llama.cpp's own server takes ``json_schema``;
llama-cpp-python's rejects it with HTTP 500 and takes ``json_object``; some servers take
neither. The real ``ChatOpenAI`` client talks to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response

from deepsearch.nodes.plan import PlanDecision, decision_schema
from deepsearch.settings import Settings
from deepsearch.tools import formats
from deepsearch.tools.llm import LLM, make_llm
from tests.support.brain import Brain
from tests.support.llm_server import LLMServer
from tests.support.servers import serve

SYSTEM = "# Role: planner\nPlan."
USER = "Allowed actions: search\nCurrent question (work on this now): Who built it?"


@pytest.fixture(autouse=True)
def fresh_endpoints() -> Iterator[None]:
    formats.forget_all()
    yield
    formats.forget_all()


def refusing(*kinds: str) -> Callable[[dict[str, Any]], Response | None]:
    """A server fault hook: HTTP 500 for a request asking for one of ``kinds``."""

    def fault(body: dict[str, Any]) -> Response | None:
        kind = (body.get("response_format") or {}).get("type")
        if kind in kinds:
            error = {"message": f"{kind} is not supported", "type": "server_error"}
            return JSONResponse({"error": error}, status_code=500)
        return None

    return fault


def llm_for(server: LLMServer, base: str, **env: Any) -> LLM:
    settings = Settings(
        OPENAI_BASE_URL=base + "/v1",
        DEEPSEARCH_MODEL="local-model",
        DEEPSEARCH_LLM_TIMEOUT=10,
        _env_file=None,  # type: ignore[call-arg]
        **env,
    )
    return make_llm(settings)


def asked(server: LLMServer) -> list[str]:
    return [(r.get("response_format") or {}).get("type", "none") for r in server.requests]


async def plan(llm: LLM) -> PlanDecision:
    result = await llm.structured(
        "planner",
        decision_schema(("search",)),
        SYSTEM,
        USER,
        fallback=lambda: PlanDecision(action="answer"),
    )
    assert result.ok
    return result.value


async def test_a_local_server_gets_the_schema_as_its_response_format() -> None:
    server = LLMServer(Brain())
    with serve(server.app) as base:
        llm = llm_for(server, base)
        assert (await plan(llm)).action == "search"
    assert asked(server) == ["json_schema"]
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["action"] == {"const": "search"}  # only what is allowed


async def test_a_server_that_rejects_json_schema_is_asked_for_json_object_from_then_on() -> None:
    server = LLMServer(Brain(), fault=refusing("json_schema"))
    with serve(server.app) as base:
        first = llm_for(server, base)
        assert (await plan(first)).action == "search"
        refused = asked(server).count("json_schema")
        assert refused >= 1 and asked(server)[-1] == "json_object"
        # Another LLM on the same endpoint (a later run) asks for json_object at once.
        before = len(server.requests)
        assert (await plan(llm_for(server, base))).action == "search"
        assert asked(server)[before:] == ["json_object"]


async def test_a_server_with_no_response_format_gets_the_schema_in_the_prompt() -> None:
    server = LLMServer(Brain(), fault=refusing("json_schema", "json_object"))
    with serve(server.app) as base:
        llm = llm_for(server, base)
        assert (await plan(llm)).action == "search"
        before = len(server.requests)
        assert (await plan(llm)).action == "search"
    assert asked(server)[before:] == ["none"]
    assert "JSON schema" in server.requests[-1]["messages"][-1]["content"]


async def test_an_explicit_method_is_kept_and_nothing_is_remembered() -> None:
    server = LLMServer(Brain())
    with serve(server.app) as base:
        llm = llm_for(server, base, DEEPSEARCH_STRUCTURED_OUTPUT="json_mode")
        assert (await plan(llm)).action == "search"
    assert asked(server) == ["json_object"]
    assert formats.auto_method(llm.model_for("planner")) == "json_schema"


async def test_a_context_overflow_is_not_taken_for_a_format_refusal() -> None:
    def overflow(body: dict[str, Any]) -> Response:
        error = {"message": "the request exceeds the available context size", "code": 400}
        return JSONResponse({"error": error}, status_code=400)

    server = LLMServer(Brain(), fault=overflow)
    with serve(server.app) as base:
        llm = llm_for(server, base)
        with pytest.raises(Exception, match="context"):
            await plan(llm)
    assert formats.auto_method(llm.model_for("planner")) == "json_schema"
