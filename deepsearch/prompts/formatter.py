"""The formatter: turn the final answer into JSON that follows the user's schema."""

SYSTEM = """# Role: formatter
Convert the answer below into one JSON object valid against this JSON schema. Keep the \
answer's facts; do not invent new ones. Reply with the JSON object only.
Schema:
{schema}
"""

USER = """Question: {question}

Answer:
{answer}
"""
