"""An async :class:`ScriptedChatModel`: simulated latency, and a gate that blocks calls.

``delay`` sleeps before each reply (a model that answers after a fixed time, without
holding a thread); ``block`` makes calls wait until they are cancelled, recording the
cancellation, so tests can prove a client disconnect cancels the run.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from tests.support.chat_model import ScriptedChatModel


class AsyncScriptedChatModel(ScriptedChatModel):
    """Answers like :class:`ScriptedChatModel`, asynchronously.

    Attributes:
        delay: seconds each call waits before answering.
        block: when true, calls wait forever (until cancelled).
        started: set when a call begins.
        cancelled: set when a call is cancelled.
        calls: how many calls began.
        images: image URLs the calls were shown (``image_url`` content parts).
    """

    delay: float = 0.0
    block: bool = False
    started: threading.Event = Field(default_factory=threading.Event)
    cancelled: threading.Event = Field(default_factory=threading.Event)
    calls: int = 0
    images: list[str] = Field(default_factory=list)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls += 1
        self.started.set()
        for message in messages:
            if isinstance(message.content, list):
                self.images += [
                    part["image_url"]["url"]
                    for part in message.content
                    if isinstance(part, dict) and part.get("type") == "image_url"
                ]
        try:
            if self.block:
                await asyncio.Event().wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return self._generate(messages, stop, **kwargs)
