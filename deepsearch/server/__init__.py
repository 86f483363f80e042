"""The OpenAI-compatible HTTP API of DeepSearch (FastAPI)."""

from __future__ import annotations

from deepsearch.server.config import MODEL_ID, ServerSettings
from deepsearch.server.run import run_server

__all__ = ["MODEL_ID", "ServerSettings", "create_app", "run_server"]


def __getattr__(name: str) -> object:
    if name == "create_app":  # importing the app module builds the module-level app
        from deepsearch.server.app import create_app

        return create_app
    raise AttributeError(name)
