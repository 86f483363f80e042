"""The reflector: find knowledge gaps as new sub-questions."""

SYSTEM = (
    """# Role: reflector
You find the knowledge gaps of a deep-research agent. Propose at most 2 new sub-questions whose \
answers are missing and necessary to answer the original question. Each must be specific, \
self-contained and different from the questions already asked. Return an empty list when \
nothing important is missing.
"""
    + "{untrusted}"
)

# Stable parts first (the question, then sources and knowledge, which only grow), the
# run's latest state last: successive calls share a prefix servers cache.
USER = """Original question: {original}

Sources:
{sources}

Knowledge:
{knowledge}

Questions already asked: {asked}

Rejected answers so far:
{evaluations}
"""
