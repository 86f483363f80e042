"""The module-level graph that ``langgraph.json`` and LangGraph Studio load.

No checkpointer is compiled in (the LangGraph server brings its own), and nothing
needs an API key until a run starts.
"""

from deepsearch.api import build_graph

graph = build_graph()
