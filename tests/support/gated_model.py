"""A scripted chat model that holds the calls of one role until the test opens a gate.

It lets a test look at a run in the middle (after search and reading, before the
answer) without timing: the run is provably still going while the test checks it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from tests.support.async_model import AsyncScriptedChatModel
from tests.support.brain import role_of


class GatedChatModel(AsyncScriptedChatModel):
    """Answers like :class:`AsyncScriptedChatModel`; calls of ``hold_role`` wait for ``gate``.

    Attributes:
        hold_role: the prompt role (``# Role: ...``) whose calls wait.
        gate: set it to let held calls go on.
        held: set when a call of ``hold_role`` starts waiting.
    """

    hold_role: str = "answerer"
    gate: threading.Event = Field(default_factory=threading.Event)
    held: threading.Event = Field(default_factory=threading.Event)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        system = "\n".join(str(m.content) for m in messages if isinstance(m, SystemMessage))
        user = "\n".join(str(m.content) for m in messages if not isinstance(m, SystemMessage))
        if role_of(system, user) == self.hold_role:
            self.held.set()
            while not self.gate.is_set():
                await asyncio.sleep(0.02)
        return await super()._agenerate(messages, stop, run_manager, **kwargs)
