"""Graph builders: the research loop and the team map-reduce."""

from deepsearch.graph.research import build_research_graph, research_builder

__all__ = ["build_research_graph", "research_builder"]
