"""Graphs over the in-memory providers, rebuilt on a checkpointer, and a model that fails once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deepsearch.api import build_graph
from deepsearch.settings import Settings
from tests.support.brain import Brain
from tests.support.chat_model import ScriptedChatModel
from tests.support.memory import MemoryReader, MemorySearch


@dataclass
class GraphOnCheckpointer:
    """Builds a fresh graph (as a restarted process would) on a given checkpointer."""

    model: ScriptedChatModel
    search: MemorySearch
    reader: MemoryReader
    settings: Settings

    def __call__(self, checkpointer: Any, *, team: bool = True) -> Any:
        """Return the team graph (default) or the solo loop, saving to ``checkpointer``."""
        return build_graph(
            model=self.model,
            search=self.search,
            reader=self.reader,
            settings=self.settings,
            checkpointer=checkpointer,
            team=team,
        )


def fail_answerer_once(brain: Brain) -> dict[str, int]:
    """Make the brain's answerer raise a connection error once; returns the failures left."""
    failures = {"left": 1}

    def answerer_down_once(system: str, user: str) -> str:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("model endpoint reset the connection")
        return brain._answerer(system, user)

    brain.handlers["answerer"] = answerer_down_once
    return failures
