"""End to end: openai SDK → API server → default graph → ChatOpenAI (LLM server),
the real SearXNG provider and the direct reader against the local test web."""

from __future__ import annotations

from pathlib import Path

import openai
from pydantic import SecretStr

from deepsearch.server.app import create_app
from deepsearch.settings import Settings
from tests.support.api_server import QUESTION, server_settings
from tests.support.brain import Brain
from tests.support.llm_server import LLMServer
from tests.support.servers import serve
from tests.support.testweb import TestWeb


def test_real_providers_through_the_server(testweb: TestWeb, tmp_path: Path) -> None:
    brain = Brain()
    llm = LLMServer(brain)
    with serve(llm.app) as llm_base:
        settings = Settings(
            OPENAI_BASE_URL=llm_base + "/v1",
            OPENAI_API_KEY=SecretStr("test"),
            DEEPSEARCH_MODEL="brain",
            DEEPSEARCH_SEARCH_PROVIDER="searxng",
            SEARXNG_URL=testweb.base_url,
            DEEPSEARCH_READER="direct",
            DEEPSEARCH_EMBEDDINGS="local",
            DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
            DEEPSEARCH_CACHE=str(tmp_path / "cache.sqlite3"),
            _env_file=None,  # type: ignore[call-arg]
        )
        app = create_app(settings=settings, server_settings=server_settings())
        with serve(app) as base:
            client = openai.OpenAI(base_url=base + "/v1", api_key="x", max_retries=0)
            stream = client.chat.completions.create(
                model="jina-deepsearch-v1",
                messages=[{"role": "user", "content": QUESTION}],
                stream=True,
            )
            chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    think, _, answer = text.partition("</think>\n\n")
    page = f"{testweb.base_url}/news/statue-of-liberty"
    assert f"Reading {page}" in think
    assert "Bartholdi" in answer
    notes = (chunks[-1].choices[0].delta.model_extra or {})["annotations"]
    assert notes[0]["url_citation"]["url"] == page
    assert notes[0]["url_citation"]["exactQuote"] in " ".join(
        testweb.pages["/news/statue-of-liberty"].paragraphs
    )
    assert page in (chunks[-1].model_extra or {})["readURLs"]
    assert testweb.queries and testweb.hits["/news/statue-of-liberty"] >= 1
    assert llm.requests, "the run never called the LLM server"
