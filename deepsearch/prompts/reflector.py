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

USER = """Original question: {original}
Questions already asked: {asked}

Rejected answers so far:
{evaluations}

Knowledge:
{knowledge}

Sources:
{sources}
"""
