"""Jina reranker/embeddings and OpenAI-compatible embeddings against local servers
speaking each provider's wire format, including errors, 429s and the lexical fallback."""

from __future__ import annotations

import math

import pytest
from pydantic import SecretStr

from deepsearch.settings import Settings
from deepsearch.tools.base import ProviderError
from deepsearch.tools.embeddings import (
    EmbeddingRelevance,
    FallbackRelevance,
    LexicalRelevance,
    cosine,
    make_relevance,
)
from deepsearch.tools.embeddings.jina import JinaEmbeddings, JinaReranker
from deepsearch.tools.embeddings.openai import MAX_BATCH, OpenAIEmbeddings
from tests.support_search.server import Recorded, Reply, serve

KEY = "jina_test_key_abcdef123456"


def fake_vector(text: str) -> list[float]:
    """A deterministic 'embedding': counts of a few letters."""
    return [float(text.lower().count(c)) for c in "aeiou"] + [1.0]


def embeddings_server(request: Recorded) -> Reply:
    body = request.json()
    inputs = body["input"]
    data = [
        {"object": "embedding", "index": i, "embedding": fake_vector(t)}
        for i, t in enumerate(inputs)
    ]
    data.reverse()  # servers may answer out of order: the index decides
    return Reply(
        200,
        {
            "object": "list",
            "model": body["model"],
            "data": data,
            "usage": {"prompt_tokens": 7 * len(inputs), "total_tokens": 7 * len(inputs)},
        },
    )


def rerank_server(request: Recorded) -> Reply:
    body = request.json()
    results = [
        {"index": i, "relevance_score": 0.9 if "owl" in doc else 0.1}
        for i, doc in enumerate(body["documents"])
    ]
    results.sort(key=lambda r: -r["relevance_score"])
    return Reply(
        200,
        {
            "model": body["model"],
            "results": results[: body["top_n"]],
            "usage": {"total_tokens": 42},
        },
    )


def jina_settings(server_url: str) -> Settings:
    return Settings(
        JINA_API_KEY=SecretStr(KEY),
        JINA_RERANK_URL=f"{server_url}/v1/rerank",
        JINA_EMBEDDINGS_URL=f"{server_url}/v1/embeddings",
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_jina_reranker_wire_format() -> None:
    with serve(rerank_server) as server:
        scores, tokens = await JinaReranker(jina_settings(server.url)).score(
            "night birds", ["cats", "owl facts", "dogs"]
        )
    assert scores == [0.1, 0.9, 0.1]
    assert tokens == 42
    request = server.requests[0]
    assert request.path == "/v1/rerank"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json()
    assert body["model"] == "jina-reranker-v2-base-multilingual"
    assert body["query"] == "night birds"
    assert body["documents"] == ["cats", "owl facts", "dogs"]
    assert body["top_n"] == 3


async def test_jina_reranker_retries_429() -> None:
    replies = [Reply(429, {"detail": "rate limited"}, {"Retry-After": "0"})]

    def handle(request: Recorded) -> Reply:
        return replies.pop(0) if replies else rerank_server(request)

    with serve(handle) as server:
        scores, _ = await JinaReranker(jina_settings(server.url)).score("q", ["owl"])
    assert scores == [0.9]
    assert len(server.requests) == 2


async def test_jina_reranker_errors() -> None:
    with (
        serve(lambda r: Reply(401, {"detail": "Invalid API key"})) as server,
        pytest.raises(ProviderError) as err,
    ):
        await JinaReranker(jina_settings(server.url)).score("q", ["a"])
    assert KEY not in str(err.value)
    with (
        serve(lambda r: Reply(200, {"unexpected": True})) as server,
        pytest.raises(ProviderError, match="malformed"),
    ):
        await JinaReranker(jina_settings(server.url)).score("q", ["a"])


async def test_jina_embeddings_wire_format() -> None:
    with serve(embeddings_server) as server:
        result = await JinaEmbeddings(jina_settings(server.url)).embed(["aaa", "eee"])
    assert result.vectors == [fake_vector("aaa"), fake_vector("eee")]
    assert result.tokens == 14
    body = server.requests[0].json()
    assert body["model"] == "jina-embeddings-v3"
    assert body["task"] == "text-matching"


async def test_openai_embeddings_batches_and_orders() -> None:
    texts = [f"text {'a' * (i % 5)}" for i in range(MAX_BATCH + 6)]
    with serve(embeddings_server) as server:
        settings = Settings(
            OPENAI_API_KEY=SecretStr("sk-test-000000"),
            DEEPSEARCH_EMBEDDINGS_BASE_URL=f"{server.url}/v1/",
            DEEPSEARCH_EMBEDDINGS_MODEL="nomic-embed-text",
            _env_file=None,  # type: ignore[call-arg]
        )
        result = await OpenAIEmbeddings(settings).embed(texts)
    assert [r.path for r in server.requests] == ["/v1/embeddings", "/v1/embeddings"]
    assert [len(r.json()["input"]) for r in server.requests] == [MAX_BATCH, 6]
    assert server.requests[0].json()["model"] == "nomic-embed-text"
    assert server.requests[0].headers["authorization"] == "Bearer sk-test-000000"
    assert result.vectors == [fake_vector(t) for t in texts]
    assert result.tokens == 7 * len(texts)


async def test_openai_base_url_falls_back_to_openai_base_url() -> None:
    with serve(embeddings_server) as server:
        settings = Settings(OPENAI_BASE_URL=f"{server.url}/v1", _env_file=None)  # type: ignore[call-arg]
        result = await OpenAIEmbeddings(settings).embed([""])  # empty input is sent as " "
    assert server.requests[0].path == "/v1/embeddings"
    assert server.requests[0].json()["input"] == [" "]
    assert len(result.vectors) == 1


async def test_wrong_number_of_vectors_is_an_error() -> None:
    reply = {"data": [{"index": 0, "embedding": [1.0]}], "usage": {"total_tokens": 1}}
    with serve(lambda r: Reply(200, reply)) as server:
        settings = Settings(OPENAI_BASE_URL=server.url, _env_file=None)  # type: ignore[call-arg]
        with pytest.raises(ProviderError):
            await OpenAIEmbeddings(settings).embed(["a", "b"])


async def test_embedding_relevance_is_cosine() -> None:
    with serve(embeddings_server) as server:
        settings = Settings(OPENAI_BASE_URL=server.url, _env_file=None)  # type: ignore[call-arg]
        scorer = EmbeddingRelevance(OpenAIEmbeddings(settings))
        scores, tokens = await scorer.score("aaaa", ["aa", "ooo"])
    assert scores[0] > scores[1]
    assert tokens == 21
    assert math.isclose(cosine([1.0, 0.0], [2.0, 0.0]), 1.0)
    assert cosine([], [1.0]) == 0.0 and cosine([0.0], [0.0]) == 0.0


async def test_fallback_degrades_to_lexical_and_then_stops_trying() -> None:
    with serve(lambda r: Reply(500, "boom")) as server:
        reranker = JinaReranker(jina_settings(server.url), retries=1, backoff_base=0.01)
        scorer = FallbackRelevance(reranker, max_failures=2)
        for _ in range(3):
            scores, tokens = await scorer.score("owl", ["owl facts", "cats"])
            assert scores[0] > scores[1] == 0.0 and tokens == 0
        attempts = len(server.requests)
    assert attempts == 2 * 2  # two failed calls of 1 + 1 retry, then no more calls


async def test_fallback_passes_through_good_scores() -> None:
    with serve(rerank_server) as server:
        scorer = FallbackRelevance(JinaReranker(jina_settings(server.url)))
        scores, tokens = await scorer.score("q", ["owl", "cat"])
    assert scores == [0.9, 0.1] and tokens == 42
    assert await scorer.score("q", []) == ([], 0)


def test_make_relevance_choices() -> None:
    def make(**env: object) -> str:
        settings = Settings(_env_file=None, **env)  # type: ignore[call-arg, arg-type]
        return make_relevance(settings).name

    assert make() == "local"
    assert make(JINA_API_KEY="k") == "jina-reranker"
    assert make(JINA_API_KEY="k", DEEPSEARCH_EMBEDDINGS="local") == "local"
    assert make(DEEPSEARCH_EMBEDDINGS="openai") == "openai"
    assert make(DEEPSEARCH_EMBEDDINGS="jina") == "local"  # no key: lexical
    assert isinstance(make_relevance(Settings(_env_file=None)), LexicalRelevance)  # type: ignore[call-arg]
