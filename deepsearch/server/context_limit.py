"""Fit a request to the model's context window, or refuse it with a 400 before it runs.

The question (the last user message, with its images) goes into every prompt of the
run, the planner's twice (as the original and the current question), next to the
instructions, the knowledge (up to 12,000 characters), the sources read (up to 16,000)
and the room kept for the reply. So it may use at most :data:`QUESTION_SHARE` of the
window: at the 32,768-token default, twice 8,192 tokens plus those parts still fit.
A longer question is a 400 ``context_length_exceeded`` naming the limit, never a run
whose first LLM call fails.

Earlier turns (a user message and the replies to it) only feed the knowledge section,
whose prompts keep the newest that fit. The server keeps the newest turns within
:data:`HISTORY_SHARE` of the window, cuts the turn on the boundary to what is left and
drops older ones, so a run never carries a conversation it could not use.
"""

from __future__ import annotations

from langchain_core.messages import AnyMessage, HumanMessage

from deepsearch.server.attachments import RunInput
from deepsearch.server.errors import APIError
from deepsearch.tools.tokens import TokenCounter

QUESTION_SHARE = 0.25
HISTORY_SHARE = 0.25
# What an image is counted as: about a high-detail image on OpenAI's vision models.
IMAGE_TOKENS = 1_000
# A turn whose messages would be cut shorter than this is dropped: fragments are no context.
MIN_CUT_TOKENS = 64


def question_limit(window: int) -> int:
    """Return how many tokens the question may use in a context window of ``window``."""
    return int(window * QUESTION_SHARE)


def check_question(run: RunInput, window: int, counter: TokenCounter) -> None:
    """Refuse a question (with its images) that is too long for the context window."""
    limit = question_limit(window)
    images = len(run.images)
    need = counter.count(run.messages[-1].text) + IMAGE_TOKENS * images
    if need > limit:
        with_images = f" with its {images} image(s)" if images else ""
        raise APIError(
            400,
            f"The question is too long for the model's context window of {window} tokens: "
            f"the last user message{with_images} is about {need} tokens, and may use at most "
            f"{limit} ({QUESTION_SHARE:.0%} of the window, since every prompt also carries "
            "instructions, knowledge and sources). Shorten it, or attach long text as a file.",
            param="messages",
            code="context_length_exceeded",
        )


def turns(messages: list[AnyMessage]) -> list[list[AnyMessage]]:
    """Group messages into turns: a user message and the replies that follow it."""
    groups: list[list[AnyMessage]] = []
    for message in messages:
        if isinstance(message, HumanMessage) or not groups:
            groups.append([message])
        else:
            groups[-1].append(message)
    return groups


def cut(message: AnyMessage, tokens: int, counter: TokenCounter) -> AnyMessage:
    """Return ``message`` with its text cut to about ``tokens`` tokens (its beginning)."""
    text = message.text
    if counter.count(text) <= tokens:
        return message
    return message.model_copy(update={"content": text[: counter.chars_for(tokens)]})


def fit_history(messages: list[AnyMessage], budget: int, counter: TokenCounter) -> int:
    """Keep the newest earlier turns within ``budget`` tokens; return how many messages
    were dropped.

    ``messages`` ends with the question, which is always kept. Whole turns are kept
    newest first; the turn on the boundary is cut (each message to its share of what is
    left), and older turns are dropped.
    """
    *history, question = messages
    kept: list[list[AnyMessage]] = []
    for turn in reversed(turns(history)):
        cost = sum(counter.count(message.text) for message in turn)
        if cost <= budget:
            budget -= cost
            kept.append(turn)
            continue
        share = budget // len(turn)
        if share >= MIN_CUT_TOKENS:
            kept.append([cut(message, share, counter) for message in turn])
        break
    fitted = [message for turn in reversed(kept) for message in turn]
    messages[:] = [*fitted, question]
    return len(history) - len(fitted)


def fit_to_context(run: RunInput, window: int, counter: TokenCounter | None = None) -> int:
    """Check the question and fit the earlier turns into the context window.

    Args:
        run: The run's input; its messages are fitted in place.
        window: The model's context window in tokens.
        counter: The token estimator (a fresh, uncalibrated one by default).

    Returns:
        How many earlier messages were dropped (a cut one is not counted).

    Raises:
        APIError: 400 ``context_length_exceeded`` when the question alone is too long.
    """
    counter = counter or TokenCounter()
    check_question(run, window, counter)
    return fit_history(run.messages, int(window * HISTORY_SHARE), counter)
