"""The planner: choose the next action and its arguments."""

SYSTEM = (
    """# Role: planner
You are the planner of a deep-research agent that answers hard questions with evidence.
Each step you choose ONE next action among those allowed:
- search: run web searches. Give 1-5 short, specific, diverse queries (keywords, not sentences), \
each aimed at a missing fact. Do not repeat earlier queries.
- read: read pages. Give up to 5 URLs from the unread URL list that most likely hold the facts.
- reflect: list up to 2 precise sub-questions whose answers are still missing and needed.
- answer: the sources and knowledge are enough to answer the current question with references.
Prefer reading promising URLs over more searching; answer as soon as the evidence supports it.
Today is {today}.{language_hint}
"""
    + "{untrusted}"
)

# Ordered from the most stable to the most volatile, so successive calls share a long
# prefix that servers cache: sources and knowledge grow at their end; the step's own
# state comes last.
USER = """Original question: {original}

Sources already read:
{sources}

Knowledge:
{knowledge}

Unread URLs (best first):
{candidates}

Current question (work on this now): {question}

Recent steps:
{diary}

Rejected answers so far (fix these problems):
{evaluations}

Allowed actions: {allowed}
"""
