"""Extra graphs for LangGraph Studio and ``langgraph dev`` (registered in ``langgraph.json``).

``research`` is the research loop on its own. In the main ``deepsearch`` graph the
loop runs inside the team graph's ``research`` node, so a run-level breakpoint such
as ``interrupt_before=["answer"]`` cannot reach its nodes; on this graph it can, which
makes it the one to step through in Studio.
"""

from deepsearch.api import build_graph

research = build_graph(team=False)
