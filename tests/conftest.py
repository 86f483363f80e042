"""Shared fixtures: the scripted brain and model, the local test web, in-memory providers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deepsearch.settings import Settings
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch
from tests.support.resume import GraphOnCheckpointer
from tests.support.servers import serve
from tests.support.testweb import DEFAULT_PAGES, TestWeb, WebPage


@pytest.fixture
def brain() -> Brain:
    """A fresh rule-based brain."""
    return Brain()


@pytest.fixture
def model(brain: Brain) -> ScriptedChatModel:
    """A LangChain chat model driven by the brain."""
    return ScriptedChatModel(brain=brain)


@pytest.fixture
def web_pages() -> dict[str, WebPage]:
    """The default test pages keyed by an https URL (for in-memory providers)."""
    return {f"https://example.org{path}": page for path, page in DEFAULT_PAGES.items()}


@pytest.fixture
def memory_search(web_pages: dict[str, WebPage]) -> MemorySearch:
    """In-process search over the test pages."""
    return MemorySearch(web_pages)


@pytest.fixture
def memory_reader(web_pages: dict[str, WebPage]) -> MemoryReader:
    """In-process reader over the test pages."""
    return MemoryReader(web_pages)


@pytest.fixture
def offline_settings(tmp_path) -> Settings:
    """Settings that never reach beyond loopback: local relevance, private URLs allowed."""
    return Settings(
        DEEPSEARCH_EMBEDDINGS="local",
        DEEPSEARCH_ALLOW_PRIVATE_URLS=True,
        DEEPSEARCH_READER="direct",
        DEEPSEARCH_CACHE=str(tmp_path / "cache.sqlite3"),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def make_graph(
    model: ScriptedChatModel,
    memory_search: MemorySearch,
    memory_reader: MemoryReader,
    offline_settings: Settings,
) -> GraphOnCheckpointer:
    """Build graphs over the in-memory providers on a given checkpointer (resume tests)."""
    return GraphOnCheckpointer(model, memory_search, memory_reader, offline_settings)


@pytest.fixture(scope="session")
def testweb() -> Iterator[TestWeb]:
    """The local test web, served on 127.0.0.1 for the whole session."""
    web = TestWeb()
    with serve(web.app) as base:
        web.base_url = base
        yield web
