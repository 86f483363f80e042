"""Each web search provider against a local server speaking its real wire format."""

from __future__ import annotations

import pytest

from deepsearch.tools.base import ProviderError, SearchProvider
from deepsearch.tools.search.arxiv import ArxivSearch, arxiv_query
from deepsearch.tools.search.brave import BraveSearch
from deepsearch.tools.search.jina import JinaSearch
from deepsearch.tools.search.searxng import SearxngSearch
from deepsearch.tools.search.serper import SerperSearch
from tests.support_search.server import Recorded, Reply, serve

KEY = "test-key-0123456789abcdef"


# ----------------------------------------------------------------------------- Jina


def jina_ok(request: Recorded) -> Reply:
    if request.headers.get("authorization") != f"Bearer {KEY}":
        return Reply(
            401,
            {
                "data": None,
                "code": 401,
                "name": "AuthenticationRequiredError",
                "status": 40103,
                "message": "Invalid API key",
                "readableMessage": "AuthenticationRequiredError: Invalid API key",
            },
        )
    return Reply(
        200,
        {
            "code": 200,
            "status": 20000,
            "data": [
                {
                    "title": "Pharos of Alexandria",
                    "url": "https://en.wikipedia.org/wiki/Lighthouse_of_Alexandria",
                    "description": "The <b>Lighthouse</b> of Alexandria &amp; its history",
                    "date": "2024-01-02",
                    "usage": {"tokens": 1000},
                },
                {"title": "no url"},
                "garbage",
                {
                    "title": "Second",
                    "url": "https://example.org/2",
                    "description": "two",
                    "usage": {"tokens": 1000},
                },
            ],
            "meta": {"usage": {"tokens": 10000}},
        },
    )


async def test_jina_request_and_response() -> None:
    with serve(jina_ok) as server:
        provider = JinaSearch(KEY, base_url=server.url + "/")
        response = await provider.search("lighthouse  alexandria", num_results=5, language="de")
    assert isinstance(provider, SearchProvider)
    request = server.requests[0]
    assert request.method == "GET"
    assert request.param("q") == "lighthouse  alexandria"
    assert request.param("hl") == "de"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-respond-with"] == "no-content"
    assert [r.url for r in response.results] == [
        "https://en.wikipedia.org/wiki/Lighthouse_of_Alexandria",
        "https://example.org/2",
    ]
    first = response.results[0]
    assert first.snippet == "The Lighthouse of Alexandria & its history"
    assert first.date == "2024-01-02"
    assert response.tokens == 10000


async def test_jina_auth_error_is_clean() -> None:
    with serve(jina_ok) as server:
        provider = JinaSearch("wrong-key-abcdef", base_url=server.url)
        with pytest.raises(ProviderError) as err:
            await provider.search("q")
    assert not err.value.retryable
    assert "HTTP 401" in str(err.value) and "wrong-key-abcdef" not in str(err.value)


async def test_jina_rate_limit_then_success() -> None:
    calls = 0

    def handle(request: Recorded) -> Reply:
        nonlocal calls
        calls += 1
        if calls == 1:
            return Reply(429, {"code": 429, "message": "Too many requests"}, {"Retry-After": "0"})
        return jina_ok(request)

    with serve(handle) as server:
        response = await JinaSearch(KEY, base_url=server.url).search("q")
    assert calls == 2 and len(response.results) == 2


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not json</html>",
        b'{"code": 200, "data": {"oops": 1}}',
        b'["a list"]',
        b'{"code": 503, "message": "upstream down"}',
    ],
)
async def test_jina_odd_bodies_raise_provider_error(body: bytes) -> None:
    reply = Reply(200, body, {"Content-Type": "application/json"})
    with serve(lambda r: reply) as server, pytest.raises(ProviderError):
        await JinaSearch(KEY, base_url=server.url).search("q")


async def test_jina_empty_data_and_empty_query() -> None:
    with serve(lambda r: Reply(200, {"code": 200, "data": None})) as server:
        provider = JinaSearch(KEY, base_url=server.url)
        assert (await provider.search("nothing")).results == []
        assert (await provider.search("   ")).results == []
        assert len(server.requests) == 1


# ----------------------------------------------------------------------------- Brave


def brave_handler(request: Recorded) -> Reply:
    if request.headers.get("x-subscription-token") != KEY:
        return Reply(
            401,
            {
                "type": "ErrorResponse",
                "error": {"code": "SUBSCRIPTION_TOKEN_INVALID", "status": 401, "detail": "bad"},
            },
        )
    return Reply(
        200,
        {
            "type": "search",
            "query": {"original": request.param("q")},
            "web": {
                "type": "search",
                "results": [
                    {
                        "title": "<strong>Brave</strong> result",
                        "url": "https://brave.example/1",
                        "description": "First <strong>hit</strong>",
                        "page_age": "2023-05-01T00:00:00",
                        "age": "May 1, 2023",
                    },
                    {
                        "title": "Age only",
                        "url": "https://brave.example/2",
                        "description": "short",
                        "age": "2 days ago",
                        "extra_snippets": ["more context"],
                    },
                    {"title": "bad url", "url": "javascript:alert(1)"},
                ],
            },
        },
    )


async def test_brave_request_and_response() -> None:
    with serve(brave_handler) as server:
        response = await BraveSearch(KEY, base_url=server.url + "/res/v1/web/search").search(
            "brave api", num_results=50, language="ja"
        )
    request = server.requests[0]
    assert request.path == "/res/v1/web/search"
    assert request.param("q") == "brave api"
    assert request.param("count") == "20"  # bounded
    assert request.param("search_lang") == "jp"
    assert [r.url for r in response.results] == [
        "https://brave.example/1",
        "https://brave.example/2",
    ]
    assert response.results[0].title == "Brave result"
    assert response.results[0].date == "2023-05-01T00:00:00"
    assert response.results[1].date == "2 days ago"
    assert "more context" in response.results[1].snippet
    assert response.tokens == 0


async def test_brave_errors() -> None:
    with serve(brave_handler) as server, pytest.raises(ProviderError, match="HTTP 401"):
        await BraveSearch("nope-nope-nope", base_url=server.url).search("q")
    with serve(lambda r: Reply(429, {"type": "ErrorResponse"}, {"Retry-After": "600"})) as server:
        with pytest.raises(ProviderError) as err:
            await BraveSearch(KEY, base_url=server.url).search("q")
        assert err.value.retryable and len(server.requests) == 1
    with serve(lambda r: Reply(200, {"type": "search"})) as server:
        assert (await BraveSearch(KEY, base_url=server.url).search("q")).results == []


# ----------------------------------------------------------------------------- Serper


def serper_handler(request: Recorded) -> Reply:
    if request.headers.get("x-api-key") != KEY:
        return Reply(403, {"message": "Unauthorized.", "statusCode": 403})
    body = request.json()
    return Reply(
        200,
        {
            "searchParameters": {"q": body["q"], "type": "search", "engine": "google"},
            "answerBox": {
                "title": "Answer",
                "answer": "42",
                "link": "https://answer.example/",
            },
            "organic": [
                {
                    "title": "Organic 1",
                    "link": "https://serper.example/1",
                    "snippet": "one",
                    "date": "Mar 3, 2024",
                    "position": 1,
                },
                {"title": "dup", "link": "https://answer.example/", "snippet": "dup"},
                {"title": "no link", "snippet": "x"},
            ],
        },
    )


async def test_serper_request_and_response() -> None:
    with serve(serper_handler) as server:
        response = await SerperSearch(KEY, base_url=server.url + "/search").search(
            "meaning of life", num_results=3, language="EN"
        )
    request = server.requests[0]
    assert request.method == "POST" and request.path == "/search"
    assert request.json() == {"q": "meaning of life", "num": 3, "hl": "en"}
    assert request.headers["content-type"] == "application/json"
    assert [r.url for r in response.results] == [
        "https://answer.example/",
        "https://serper.example/1",
    ]
    assert response.results[0].snippet == "42"
    assert response.results[1].date == "Mar 3, 2024"


async def test_serper_errors() -> None:
    with serve(serper_handler) as server, pytest.raises(ProviderError) as err:
        await SerperSearch("bad-key-123456", base_url=server.url).search("q")
    assert "HTTP 403" in str(err.value) and not err.value.retryable
    with serve(lambda r: Reply(500, "oops")) as server:
        provider = SerperSearch(KEY, base_url=server.url, retries=1)
        with pytest.raises(ProviderError) as err:
            await provider.search("q")
    assert err.value.retryable and len(server.requests) == 2


# ----------------------------------------------------------------------------- SearXNG


def searxng_handler(request: Recorded) -> Reply:
    if request.param("format") != "json":
        return Reply(403, "Forbidden")
    return Reply(
        200,
        {
            "query": request.param("q"),
            "number_of_results": 0,
            "results": [
                {
                    "url": "https://sx.example/a",
                    "title": "A",
                    "content": "alpha",
                    "engine": "duckduckgo",
                    "publishedDate": "2022-02-02T00:00:00",
                },
                {"url": "https://sx.example/a", "title": "A again", "content": "dup"},
                {"url": None, "title": "broken"},
                {"url": "https://sx.example/b", "title": "B", "content": None},
            ],
            "answers": [],
            "suggestions": [],
        },
    )


async def test_searxng_request_and_response() -> None:
    with serve(searxng_handler) as server:
        response = await SearxngSearch(server.url + "/").search("sx", language="fr")
    request = server.requests[0]
    assert request.path == "/search"
    assert request.param("format") == "json" and request.param("language") == "fr"
    assert [r.url for r in response.results] == ["https://sx.example/a", "https://sx.example/b"]
    assert response.results[0].date == "2022-02-02T00:00:00"
    assert response.results[1].snippet == ""


async def test_searxng_json_disabled_hint() -> None:
    forbidden = Reply(403, "Forbidden")
    with serve(lambda r: forbidden) as server, pytest.raises(ProviderError, match=r"settings\.yml"):
        await SearxngSearch(server.url).search("q")


# ----------------------------------------------------------------------------- arXiv

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"
      xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title type="html">ArXiv Query: search_query=all:attention</title>
  <id>http://arxiv.org/api/abc</id>
  <updated>2024-01-01T00:00:00-05:00</updated>
  <opensearch:totalResults>2</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <entry>
    <id>http://arxiv.org/abs/1706.03762v7</id>
    <updated>2023-08-02T00:41:18Z</updated>
    <published>2017-06-12T17:57:34Z</published>
    <title>Attention Is All You
  Need</title>
    <summary>  The dominant sequence transduction models are based on complex recurrent
networks.</summary>
    <author><name>Ashish Vaswani</name></author>
    <link href="http://arxiv.org/abs/1706.03762v7" rel="alternate" type="text/html"/>
    <arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/hep-th/9901001v1</id>
    <published>1999-01-01T00:00:00Z</published>
    <title>Old style id</title>
    <summary>Strings.</summary>
  </entry>
</feed>"""

EMPTY_ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:totalResults>
</feed>"""

ERROR_ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id>
    <title>Error</title>
    <summary>incorrect id format for 1234</summary>
  </entry>
</feed>"""


def atom(text: str, status: int = 200) -> Reply:
    return Reply(status, text.encode(), {"Content-Type": "application/atom+xml; charset=utf-8"})


async def test_arxiv_request_and_parse() -> None:
    with serve(lambda r: atom(ATOM)) as server:
        provider = ArxivSearch(base_url=server.url + "/api/query", min_interval=0)
        response = await provider.search("attention (transformer): AND", num_results=5)
    request = server.requests[0]
    assert request.path == "/api/query"
    assert request.param("search_query") == "all:attention AND all:transformer"
    assert request.param("max_results") == "5"
    first, second = response.results
    assert first.url == "https://arxiv.org/abs/1706.03762"
    assert first.title == "Attention Is All You Need"
    assert first.snippet.startswith("The dominant sequence")
    assert first.date == "2017-06-12T17:57:34Z"
    assert second.url == "https://arxiv.org/abs/hep-th/9901001"


async def test_arxiv_broadens_when_nothing_matches_all_words() -> None:
    def handle(request: Recorded) -> Reply:
        return atom(ATOM if " OR " in (request.param("search_query") or "") else EMPTY_ATOM)

    with serve(handle) as server:
        provider = ArxivSearch(base_url=server.url, min_interval=0)
        response = await provider.search("attention unicorns")
    assert [r.param("search_query") for r in server.requests] == [
        "all:attention AND all:unicorns",
        "all:attention OR all:unicorns",
    ]
    assert len(response.results) == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (atom(ERROR_ATOM), "query error"),
        (atom("<feed><entry>"), "malformed"),
        (atom('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><feed/>'), "DTD"),
        (atom("<html/>"), "not an Atom feed"),
        (atom("busy", 503), "HTTP 503"),
    ],
)
async def test_arxiv_errors(reply: Reply, message: str) -> None:
    with serve(lambda r: reply) as server:
        provider = ArxivSearch(base_url=server.url, min_interval=0, retries=1)
        with pytest.raises(ProviderError, match=message):
            await provider.search("attention")


def test_arxiv_query_neutralizes_syntax() -> None:
    assert arxiv_query('ti:"quantum" OR au:smith ANDNOT x') == (
        "all:ti AND all:quantum AND all:au AND all:smith AND all:x"
    )
    assert arxiv_query("(( ))") == ""
