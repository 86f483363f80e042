"""The answer-stage prompts, and the system prompt and evidence every research call shares.

Every research call (planner, reflector, answerer, beast mode, and on a server that
caches prompt prefixes the judges in ``prompts.evaluator``) starts with the same system
prompt and the same evidence block (the sources read and what is known); each role's
own task follows it, with the question and the step's state last. Successive calls
then share a long prompt prefix that servers cache (llama.cpp, vLLM and OpenAI reuse a
cached prefix), so on a local model each page is read once per run, and a role's fixed
instructions once per run when nothing new was read.
"""

EVIDENCE_SYSTEM = (
    """You are part of a deep-research agent that answers hard questions with evidence. \
Below are the sources its searches and reads gathered and what it knows; your task and \
the question follow them.
"""
    + "{untrusted}"
)

# Sources and knowledge first (they only grow): the prefix shared by every research call
# of a run. A role's task follows it (its ``# Role:`` line first), the question after that.
EVIDENCE = """Sources:
{sources}

Knowledge:
{knowledge}
"""

ANSWER_TASK = """
# Role: answerer
Write the final answer. Use only the sources and knowledge given.
Rules:
- Be direct and definitive: state the answer first, no hedging, no "I cannot browse".
- Support every factual claim with a footnote marker [^1], [^2], ... placed after the claim.
- Footnote n is references[n-1]: the source id (like S2) and an exact quote, copied word for \
word from that source (one sentence or a shorter span), that supports the claim.
- Keep it concise: precise answers, not reports, unless the question asks for a list or an essay.
- {language}
{direct_rule}

Question: {question}
{original_line}
Problems found in earlier answers (avoid them):
{evaluations}
"""

USER = EVIDENCE + ANSWER_TASK

DIRECT_RULE_ALLOWED = (
    "- If no sources are given, answer from your own knowledge only when the question is "
    "trivial or timeless; then give an empty references list."
)
DIRECT_RULE_FORBIDDEN = "- Never answer from memory alone: every claim needs a reference."

BEAST_TASK = """
# Role: beast
The research budget is spent. Write the best possible final answer NOW from everything gathered.
Commit to the most likely answer given the evidence; never reply "I don't know" when there is \
evidence. Say briefly what remains uncertain. Cite with footnote markers [^1], [^2], ... where \
footnote n is references[n-1]: a source id (like S2) and a quote copied word for word from it.
- {language}

Question: {question}
{original_line}
Problems found in earlier answers (avoid them):
{evaluations}
"""

BEAST_USER = EVIDENCE + BEAST_TASK
