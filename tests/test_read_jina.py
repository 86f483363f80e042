"""Jina Reader client against a local server speaking Jina Reader's JSON wire format."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from deepsearch.settings import Settings
from deepsearch.tools.base import BlockedURLError, ProviderError
from deepsearch.tools.read.jina import JinaReader, parse_links
from tests.support_search.server import Recorded, Reply, serve

KEY = "jina_secret_key_0123456789"


def settings_for(base: str, **extra: object) -> Settings:
    return Settings(
        JINA_READER_URL=f"{base}/",
        JINA_API_KEY=SecretStr(KEY),
        _env_file=None,  # type: ignore[call-arg]
        **extra,  # type: ignore[arg-type]
    )


def ok_reply(url: str) -> Reply:
    return Reply(
        200,
        {
            "code": 200,
            "status": 20000,
            "data": {
                "title": "Owls",
                "description": "",
                "url": url,
                "content": "# Owls\n\nThe great grey owl hunts voles under snow.",
                "publishedTime": "2024-03-05T10:00:00.000Z",
                "links": {"Snowy owl": "https://example.org/snowy#x", "Mail": "mailto:a@b.c"},
                "usage": {"tokens": 321},
            },
        },
    )


async def test_reads_markdown_with_headers_tokens_and_links() -> None:
    target = "https://example.org/owls?a=1"
    with serve(lambda r: ok_reply(target)) as server:
        page = await JinaReader(settings_for(server.url)).read(target)
    request = server.requests[0]
    assert request.method == "GET"
    assert request.path == "/https://example.org/owls"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-return-format"] == "markdown"
    assert request.headers["x-with-links-summary"] == "true"
    assert request.headers["x-md-heading-style"] == "atx"  # sections are "# " lines
    assert page.text.startswith("# Owls")
    assert page.title == "Owls"
    assert page.date == "2024-03-05T10:00:00.000Z"
    assert page.tokens == 321
    assert page.links == ["https://example.org/snowy"]
    assert page.final_url == target


async def test_no_key_sends_no_authorization() -> None:
    with serve(lambda r: ok_reply("https://example.org/")) as server:
        settings = Settings(JINA_READER_URL=f"{server.url}/", _env_file=None)  # type: ignore[call-arg]
        await JinaReader(settings).read("https://example.org/")
    assert "authorization" not in server.requests[0].headers


async def test_retries_429_then_reads() -> None:
    replies = [Reply(429, {"code": 429, "message": "rate"}, {"Retry-After": "0"})]

    def handle(request: Recorded) -> Reply:
        return replies.pop(0) if replies else ok_reply("https://example.org/")

    with serve(handle) as server:
        page = await JinaReader(settings_for(server.url)).read("https://example.org/")
    assert page.tokens == 321
    assert len(server.requests) == 2


async def test_errors_are_provider_errors_without_the_key() -> None:
    body = {"code": 422, "name": "AssertionFailureError", "message": f"bad {KEY}"}
    with serve(lambda r: Reply(422, body)) as server, pytest.raises(ProviderError) as err:
        await JinaReader(settings_for(server.url)).read("https://example.org/")
    assert KEY not in str(err.value)
    assert not err.value.retryable


async def test_error_code_inside_a_200_reply() -> None:
    body = {"code": 451, "readableMessage": "blocked by the site", "data": None}
    with (
        serve(lambda r: Reply(200, body)) as server,
        pytest.raises(ProviderError, match="blocked by the site"),
    ):
        await JinaReader(settings_for(server.url)).read("https://example.org/")


@pytest.mark.parametrize(
    "body", [{"code": 200, "data": {"content": ""}}, "not json", [1, 2], {"code": 200}]
)
async def test_odd_replies(body: object) -> None:
    with serve(lambda r: Reply(200, body)) as server, pytest.raises(ProviderError):
        await JinaReader(settings_for(server.url)).read("https://example.org/")


async def test_guard_refuses_bad_urls_before_any_request() -> None:
    with serve(lambda r: ok_reply("x")) as server:
        reader = JinaReader(settings_for(server.url))
        for url in ("file:///etc/passwd", "http://127.0.0.1/admin", "http://169.254.169.254/"):
            with pytest.raises(BlockedURLError):
                await reader.read(url)
    assert server.requests == []


def test_links_in_every_shape() -> None:
    assert parse_links({"a": "https://x.org/1", "b": "ftp://x.org"}) == {"https://x.org/1": "a"}
    assert parse_links([["a", "https://x.org/1"], ["b", "https://x.org/1#f"]]) == {
        "https://x.org/1": "a"
    }
    assert parse_links([{"url": "http://y.org", "text": " Why\n"}, "https://z.org", None, 5]) == {
        "http://y.org": "Why",
        "https://z.org": "",
    }
    assert parse_links(None) == {}
    assert len(parse_links({str(i): f"https://x.org/{i}" for i in range(1000)})) == 200
