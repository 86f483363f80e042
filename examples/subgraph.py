"""DeepSearch as a subgraph of your own LangGraph app.

    OPENAI_API_KEY=... python examples/subgraph.py "Who designed the Statue of Liberty?"

The compiled DeepSearch graph is added as a node. The parent's state shares its keys
(``question`` in; ``answer`` and ``read_urls`` out), so no glue is needed; its
reasoning stream reaches the parent when streaming with ``subgraphs=True``. For a
state with other key names, use ``deepsearch.integrations.as_node`` instead.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from deepsearch import Context, build_graph
from deepsearch.state import Answer


class BriefingState(TypedDict, total=False):
    """The parent app's state."""

    question: str
    answer: Answer
    read_urls: list[str]
    briefing: str


def write_briefing(state: BriefingState) -> dict[str, Any]:
    """Turn DeepSearch's answer into a briefing with numbered sources."""
    refs = state["answer"]["references"]
    sources = "\n".join(f"  {n}. {r['url']}" for n, r in enumerate(refs, start=1))
    briefing = f"Q: {state['question']}\nA: {state['answer']['text']}\nSources:\n{sources}"
    return {"briefing": briefing + f"\n({len(state.get('read_urls', []))} pages read)"}


def build_app() -> Any:
    """Compile the parent graph: research (DeepSearch) → write_briefing."""
    builder = StateGraph(BriefingState, context_schema=Context)
    builder.add_node("research", build_graph())
    builder.add_node("write_briefing", write_briefing)
    builder.add_edge(START, "research")
    builder.add_edge("research", "write_briefing")
    builder.add_edge("write_briefing", END)
    return builder.compile(name="briefing_app")


async def main(question: str) -> None:
    """Stream the app: DeepSearch's reasoning as it happens, then the briefing."""
    final: dict[str, Any] = {}
    async for namespace, mode, chunk in build_app().astream(
        {"question": question},
        context=Context(reasoning_effort="low"),
        stream_mode=["custom", "values"],
        subgraphs=True,
    ):
        if mode == "custom":
            print(f"  [{chunk['kind']}] {chunk['text']}"[:160])
        elif not namespace:
            final = chunk
    print(final["briefing"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question")
    asyncio.run(main(parser.parse_args().question))
