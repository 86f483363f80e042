"""The planner: choose the next action and its arguments.

Its prompt starts like every research prompt: the shared system prompt and evidence
block (``prompts.answerer``: sources and knowledge), which the answer and its judges
then find in the server's cache. Its own task, the question and the step's state follow.
"""

from deepsearch.prompts.answerer import EVIDENCE

TASK = """
# Role: planner
You are the planner of a deep-research agent that answers hard questions with evidence.
Each step you choose ONE next action among those allowed:
- search: run web searches. Give 1-5 short, specific, diverse queries (keywords, not sentences), \
each aimed at a missing fact. Do not repeat earlier queries.
- read: read pages. Give up to 5 URLs from the unread URL list that most likely hold the facts.
- reflect: list up to 2 precise sub-questions whose answers are still missing and needed.
- answer: the sources and knowledge are enough to answer the current question with references.
Prefer reading promising URLs over more searching; answer as soon as the evidence supports it.
Today is {today}.{language_hint}

Original question: {original}

Unread URLs (best first):
{candidates}

Current question (work on this now): {question}

Recent steps:
{diary}

Rejected answers so far (fix these problems):
{evaluations}

Allowed actions: {allowed}
"""

# Ordered from the most stable to the most volatile: the evidence grows at its end;
# the step's own state comes last.
USER = EVIDENCE + TASK
