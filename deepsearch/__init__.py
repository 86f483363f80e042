"""DeepSearch: a LangGraph agent that searches, reads and reasons until it can prove its answer."""
