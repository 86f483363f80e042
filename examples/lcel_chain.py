"""DeepSearch as one step of an LCEL chain.

    OPENAI_API_KEY=... python examples/lcel_chain.py "Statue of Liberty"

The chain turns a landmark into a question, researches it, and renders a short
markdown note with the sources. ``as_runnable`` accepts a question string,
``{"question": ...}`` or a message list, and supports ``invoke``, ``batch`` and
``ainvoke`` like any Runnable.
"""

from __future__ import annotations

import argparse
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from deepsearch.integrations import as_runnable


def to_markdown(result: dict[str, Any]) -> str:
    """Render a DeepSearch result dict as a markdown note."""
    lines = [f"## {result['question']}", "", result["answer"], ""]
    lines += [f"- [{r['title'] or r['url']}]({r['url']})" for r in result["references"]]
    return "\n".join(lines)


def make_question(landmark: str) -> str:
    """Turn a landmark into the question to research."""
    return f"Who designed the {landmark}?"


chain: Runnable[Any, str] = (
    RunnableLambda(make_question)
    | as_runnable(output="result", reasoning_effort="low")
    | RunnableLambda(to_markdown, name="to_markdown")
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landmark")
    print(chain.invoke(parser.parse_args().landmark))
