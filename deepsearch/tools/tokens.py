"""Token counts before a call is made, and the model's context window.

Budget and context checks need a prompt's size before the call, when no provider has
reported anything yet. :class:`TokenCounter` estimates it from characters and learns
the real ratio from the usage each reply reports, so a run's later estimates track
the model's own tokenizer. Where a real tokenizer is cheap it can be plugged in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from deepsearch.settings import Settings

# A cautious prior: English prose runs ~4 characters a token on current tokenizers,
# code, numbers and non-Latin scripts fewer. Overestimating only makes checks stricter.
DEFAULT_CHARS_PER_TOKEN = 3.2
MIN_CHARS_PER_TOKEN = 1.0
MAX_CHARS_PER_TOKEN = 6.0
# How much one reported call moves the learned ratio (an exponential moving average):
# toward denser text (fewer characters a token) fast, toward sparser text slowly, so
# the estimate follows the densest prompts seen rather than their average.
LEARNING_RATE = 0.3
DENSER_LEARNING_RATE = 0.7
_DIGITS = "0123456789"

# Context windows of well-known hosted and local model families (tokens), matched on
# the longest prefix of the lowercased model name. Local servers are asked directly.
KNOWN_CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-3.5-turbo": 16_385,
    "gpt-4": 8_192,
    "gpt-4-turbo": 128_000,
    "gpt-4o": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude": 200_000,
    "gemini": 1_048_576,
    "deepseek": 128_000,
    "mistral": 32_768,
    "llama3": 131_072,
    "llama-3": 131_072,
    "qwen2.5": 32_768,
    "qwen3": 40_960,
}
# Used when nothing is configured, reported or known: small enough for most local servers.
DEFAULT_CONTEXT_WINDOW = 32_768


def known_context_window(model: str) -> int | None:
    """Return the context window of a known model family, or None.

    Args:
        model: A model name such as ``gpt-4o-mini`` or ``qwen2.5:7b``; a provider
            prefix (``openai/gpt-4o``) is ignored.

    Returns:
        The window in tokens, from the longest matching family prefix.
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    matches = [prefix for prefix in KNOWN_CONTEXT_WINDOWS if name.startswith(prefix)]
    return KNOWN_CONTEXT_WINDOWS[max(matches, key=len)] if matches else None


def configured_context_window(settings: Settings) -> int:
    """Return the context window that settings give: configured, else known, else the default."""
    return (
        settings.llm_context or known_context_window(settings.model) or DEFAULT_CONTEXT_WINDOW
    )


@dataclass
class TokenCounter:
    """Estimate token counts from text, calibrated by the usage providers report.

    Attributes:
        chars_per_token: The current ratio (learned from :meth:`observe`).
        encode_len: A real tokenizer's length function, used instead of the ratio.
    """

    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN
    encode_len: Callable[[str], int] | None = None
    observations: int = field(default=0)

    def count(self, text: str) -> int:
        """Return the estimated number of tokens in ``text`` (at least 1 for non-empty text).

        Digits count a token each, as Qwen's, DeepSeek's and Llama 2's tokenizers split
        numbers (others group up to three): pages of figures, dates and log numbers
        are far denser than prose, and the ratio learnt on other prompts would
        underestimate them.
        """
        if not text:
            return 0
        if self.encode_len is not None:
            return self.encode_len(text)
        digits = sum(map(text.count, _DIGITS))
        return max(1, round((len(text) - digits) / self.chars_per_token + digits))

    def count_chars(self, chars: int) -> int:
        """Return the estimated tokens of ``chars`` characters of text."""
        return max(0, round(chars / self.chars_per_token))

    def chars_for(self, tokens: int) -> int:
        """Return how many characters fit in ``tokens`` tokens (the inverse estimate)."""
        return max(0, int(tokens * self.chars_per_token))

    def observe(self, chars: int, tokens: int) -> None:
        """Learn from one call: ``chars`` characters of prompt were ``tokens`` tokens."""
        if chars < 200 or tokens <= 0:  # too small to say anything about the ratio
            return
        ratio = min(max(chars / tokens, MIN_CHARS_PER_TOKEN), MAX_CHARS_PER_TOKEN)
        rate = DENSER_LEARNING_RATE if ratio < self.chars_per_token else LEARNING_RATE
        rate = 1.0 if self.observations == 0 else rate
        self.chars_per_token += rate * (ratio - self.chars_per_token)
        self.observations += 1
