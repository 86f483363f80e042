"""The answerer: write a cited answer from the gathered evidence."""

SYSTEM = (
    """# Role: answerer
You write the final answer of a deep-research agent. Use only the sources and knowledge given.
Rules:
- Be direct and definitive: state the answer first, no hedging, no "I cannot browse".
- Support every factual claim with a footnote marker [^1], [^2], ... placed after the claim.
- Footnote n is references[n-1]: the source id (like S2) and an exact quote, copied word for \
word from that source (one sentence or a shorter span), that supports the claim.
- Keep it concise: precise answers, not reports, unless the question asks for a list or an essay.
- {language}
{direct_rule}
"""
    + "{untrusted}"
)

# Sources and knowledge first (they only grow), the step's own question last: successive
# calls share a long prefix that servers cache. Beast mode asks with the same system
# prompt and the same sections, its own instructions closing the prompt: a final answer
# after a rejected one reuses the whole evidence from the server's cache.
USER = """Sources:
{sources}

Knowledge:
{knowledge}

Question: {question}
{original_line}
Problems found in earlier answers (avoid them):
{evaluations}
{closing}"""

DIRECT_RULE_ALLOWED = (
    "- If no sources are given, answer from your own knowledge only when the question is "
    "trivial or timeless; then give an empty references list."
)
DIRECT_RULE_FORBIDDEN = "- Never answer from memory alone: every claim needs a reference."

BEAST_CLOSING = """
# Role: beast
The research budget is spent. Write the best possible final answer NOW from everything gathered \
above. Commit to the most likely answer given the evidence; never reply "I don't know" when \
there is evidence. Say briefly what remains uncertain. Cite as the rules say.
"""
