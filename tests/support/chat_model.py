"""A LangChain chat model driven by a :class:`Brain` (in-process, with usage metadata)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict


def _text(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in message.content)


class ScriptedChatModel(BaseChatModel):
    """Answers every call with ``brain.reply(system, user)``; counts tokens at 4 chars each."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    brain: Any  # a tests.support.brain.Brain

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        system = "\n".join(_text(m) for m in messages if isinstance(m, SystemMessage))
        user = "\n".join(_text(m) for m in messages if not isinstance(m, SystemMessage))
        reply = self.brain.reply(system, user)
        p, c = max(1, (len(system) + len(user)) // 4), max(1, len(reply) // 4)
        msg = AIMessage(
            content=reply,
            usage_metadata={"input_tokens": p, "output_tokens": c, "total_tokens": p + c},
        )
        return ChatResult(generations=[ChatGeneration(message=msg)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Answer on the event loop: the default would hop to a thread for every call.
        return self._generate(messages, stop, **kwargs)
