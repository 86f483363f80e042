"""The real API server (with the chat page) on a scripted model and in-memory web, for UI tests.

Also used by ``scripts/ui_screenshot.py`` to take the README's screenshot.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from deepsearch.server.app import create_app
from tests.support.api_server import PAGES, scripted_graph, server_settings
from tests.support.async_model import AsyncScriptedChatModel
from tests.support.testweb import WebPage

HOSTILE_URL = "https://example.org/hostile/zorblax"
HOSTILE_QUESTION = "Who won the Zorblax medal?"
HOSTILE_PAGE = WebPage(
    "Zorblax medal news",
    [
        'The Zorblax medal was won by <img src=x onerror="window.pwned=2">'
        "<script>window.pwned=3</script> Dr Quux Vantablack in 2021.",
        "The ceremony took place in a small village hall.",
    ],
    date="2021-05-04",
)


def ui_pages() -> dict[str, WebPage]:
    """The default test pages plus one whose text carries markup that must never run."""
    return {**PAGES, HOSTILE_URL: HOSTILE_PAGE}


def ui_app(
    model: AsyncScriptedChatModel, *, api_key: str | None = None, **settings: Any
) -> FastAPI:
    """Return ``create_app`` on the scripted graph over :func:`ui_pages`."""
    graph = scripted_graph(model, ui_pages())
    return create_app(graph=graph, server_settings=server_settings(**settings), api_key=api_key)
