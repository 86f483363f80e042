"""The reflector: find knowledge gaps as new sub-questions.

Its prompt starts like every research prompt (``prompts.answerer``: the shared system
prompt and evidence block), so a server serves that prefix from its cache.
"""

from deepsearch.prompts.answerer import EVIDENCE

TASK = """
# Role: reflector
You find the knowledge gaps of a deep-research agent. Propose at most 2 new sub-questions whose \
answers are missing and necessary to answer the original question. Each must be specific, \
self-contained and different from the questions already asked. Return an empty list when \
nothing important is missing.

Original question: {original}

Questions already asked: {asked}

Rejected answers so far:
{evaluations}
"""

USER = EVIDENCE + TASK
