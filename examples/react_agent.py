"""A ReAct agent that calls DeepSearch as a tool (LangChain's ``create_agent``).

    OPENAI_API_KEY=... python examples/react_agent.py "Who designed the Statue of Liberty?"

The agent's model and DeepSearch's own model both come from the environment
(``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` / ``DEEPSEARCH_MODEL``), so any
OpenAI-compatible server works; the agent model must support tool calling.
"""

from __future__ import annotations

import argparse
import asyncio

from langchain.agents import create_agent
from langchain_core.messages import ToolMessage

from deepsearch.integrations import as_tool
from deepsearch.settings import get_settings
from deepsearch.tools.llm import make_chat_model


async def main(question: str) -> None:
    """Let the agent decide to research ``question`` with DeepSearch, then print its reply."""
    research = as_tool(reasoning_effort="low")
    agent = create_agent(
        make_chat_model(get_settings()),
        tools=[research],
        system_prompt="Use the deepsearch tool for factual questions; cite its sources.",
    )
    out = await agent.ainvoke({"messages": [{"role": "user", "content": question}]})
    for message in out["messages"]:
        if isinstance(message, ToolMessage):
            print(f"Tool {message.name} answered:\n{message.content}\n")
    print("Agent:", out["messages"][-1].content)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    asyncio.run(main(parser.parse_args().question))
