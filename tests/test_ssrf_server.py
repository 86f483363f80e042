"""SSRF through the HTTP server: a user pastes, and search returns, URLs of this machine.

The server runs with the SSRF guard on (``DEEPSEARCH_ALLOW_PRIVATE_URLS`` unset) and the
real direct reader; a real OpenAI client asks it. The canary on 127.0.0.1 must see
no connection, and the answer must list none of those URLs as read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from deepsearch.api import build_graph
from deepsearch.server.app import create_app
from deepsearch.settings import Settings
from deepsearch.tools.search.searxng import SearxngSearch
from tests.support.api_server import server_settings
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import Brain
from tests.support.hostile import loopback_urls, search_app
from tests.support.netguard import canary
from tests.support.servers import serve


@pytest.mark.parametrize("batch", [0, 1, 2])
def test_server_never_fetches_pasted_or_found_loopback_urls(
    batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEEPSEARCH_ALLOW_PRIVATE_URLS", raising=False)
    settings = Settings(
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_CACHE=str(tmp_path / "cache.sqlite3"),
        _env_file=None,  # type: ignore[call-arg]
    )
    with canary() as bird:
        urls = loopback_urls(bird.port)[batch * 8 : batch * 8 + 8]
        pasted, found = urls[:4], urls[4:]
        with serve(search_app(found)) as search_base:
            graph = build_graph(
                model=AsyncScriptedChatModel(brain=Brain()),
                search=SearxngSearch(search_base, timeout=5, retries=0),
                settings=settings,
                team=False,
            )
            app = create_app(graph=graph, server_settings=server_settings())
            with serve(app) as base:
                client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
                completion = client.chat.completions.create(
                    model="jina-deepsearch-v1",
                    messages=[{"role": "user", "content": "What is on " + " and ".join(pasted)}],
                )
        assert bird.connections == 0
    extra = completion.model_extra or {}
    assert completion.choices[0].finish_reason == "stop"
    assert extra.get("readURLs") == []
    assert set(pasted) & set(extra.get("visitedURLs", []))  # they were seen, and refused


def test_server_never_fetches_image_or_file_urls_from_messages(tmp_path: Path) -> None:
    settings = Settings(DEEPSEARCH_EMBEDDINGS="local", _env_file=None)  # type: ignore[call-arg]
    graph = build_graph(model=AsyncScriptedChatModel(brain=Brain()), settings=settings, team=False)
    with (
        canary() as bird,
        serve(create_app(graph=graph, server_settings=server_settings())) as base,
    ):
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
        parts: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": f"http://127.0.0.1:{bird.port}/a.png"}},
            {"type": "file", "file": {"file_data": f"http://[::1]:{bird.port}/a.pdf"}},
        ]
        for part in parts:
            content = [{"type": "text", "text": "Describe this."}, part]
            with pytest.raises(openai.BadRequestError):
                client.chat.completions.create(
                    model="jina-deepsearch-v1",
                    messages=[{"role": "user", "content": content}],  # type: ignore[misc,list-item]
                )
        assert bird.connections == 0
