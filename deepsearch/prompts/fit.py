"""Fit a prompt into the tokens a call may spend: the budget's room and the model's context.

A prompt is a fixed part (instructions, the question) plus sections that can shrink
(sources, knowledge, unread URLs, diary, evaluations). Each section renders itself
within a number of characters, dropping its lowest-value parts first. When everything
fits, nothing is cut; otherwise small sections keep all they have and the large ones
share what is left, each down to its floor. The reply's cap shrinks last, to a floor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

# A reply is not cut below this many tokens (or its role's cap, if smaller): a short
# plan, verdict or answer with one footnote fits in it.
MIN_REPLY_TOKENS = 256
# Sections are sized in characters at the learnt ratio; text denser than that (figures,
# code) comes out longer in tokens, and is then cut again this many times at most.
MAX_REFITS = 3


class Counter(Protocol):
    """Turns characters into tokens and back (see ``deepsearch.tools.tokens.TokenCounter``)."""

    def count(self, text: str) -> int:
        """Return the tokens of ``text``."""
        ...

    def count_chars(self, chars: int) -> int:
        """Return the tokens of ``chars`` characters of text."""
        ...

    def chars_for(self, tokens: int) -> int:
        """Return how many characters fit in ``tokens``."""
        ...


@dataclass(frozen=True)
class Section:
    """A part of a prompt that can shrink.

    Attributes:
        name: The template field it fills.
        render: Renders the section within a number of characters.
        want: The characters it takes when nothing is tight (its usual cap).
        floor: The characters it keeps however tight the room (0: may vanish).
        volatile: It changes from call to call (the step's diary, the latest
            evaluations): when room is tight it is held at its want, so the sections
            before it keep the same room, the same text, and the prefix a server caches.
    """

    name: str
    render: Callable[[int], str]
    want: int
    floor: int = 0
    volatile: bool = False


@dataclass(frozen=True)
class FittedPrompt:
    """A prompt that fits, with the reply cap and the estimated prompt tokens."""

    system: str
    user: str
    max_tokens: int
    prompt_tokens: int
    trimmed: bool  # True when some section was cut to fit
    texts: Mapping[str, str]  # each section as the prompt holds it


def fit_prompt(
    system: str,
    template: str,
    sections: Sequence[Section],
    *,
    counter: Counter,
    limit: int,
    cap: int,
    overhead: int = 0,
    fixed: dict[str, str] | None = None,
) -> FittedPrompt | None:
    """Fill ``template`` so that prompt and reply stay within ``limit`` tokens.

    Args:
        system: The system prompt (never cut).
        template: The user prompt with ``{name}`` fields.
        sections: The shrinkable sections.
        counter: Estimates tokens from characters.
        limit: Tokens the call may spend in all (prompt and reply).
        cap: The reply's usual cap in tokens; it shrinks to :data:`MIN_REPLY_TOKENS`
            when room is short.
        overhead: Tokens the call adds beyond the text (message framing, a schema).
        fixed: Values of template fields that never shrink.

    Returns:
        The fitted prompt, or None when not even the floors and half a reply fit.
    """
    values = dict(fixed or {})
    bare = template.format(**values, **{s.name: "" for s in sections})
    base_tokens = counter.count(system) + counter.count(bare) + overhead
    floors = sum(s.floor for s in sections)
    min_cap = min(cap, MIN_REPLY_TOKENS)
    if base_tokens + counter.count_chars(floors) + min_cap > limit:
        return None
    full = {s.name: s.render(s.want) for s in sections}
    need = {name: len(text) for name, text in full.items()}
    wanted = sum(counter.count(text) for text in full.values())
    if limit - base_tokens - cap < wanted:
        # Shrink the reply toward its floor before cutting sections below their wants.
        cap = max(min_cap, limit - base_tokens - wanted)
    room_chars = max(counter.chars_for(limit - base_tokens - cap), floors)
    for _ in range(1 + MAX_REFITS):
        trimmed = sum(need.values()) > room_chars
        sizing = {s.name: s.want if s.volatile else need[s.name] for s in sections}
        shares = _share(sections, sizing, room_chars) if trimmed else need
        texts = {
            s.name: s.render(shares[s.name]) if shares[s.name] < need[s.name] else full[s.name]
            for s in sections
        }
        user = template.format(**values, **texts)
        tokens = counter.count(system) + counter.count(user) + overhead
        over = tokens + cap - limit
        if over <= 0 or room_chars <= floors:
            break
        # Denser than the ratio said: cut the sections by the share they overshot.
        section_tokens = max(1, tokens - base_tokens)
        room_chars = max(floors, int(room_chars * (section_tokens - over) / section_tokens))
    return FittedPrompt(system, user, max(1, min(cap, limit - tokens)), tokens, trimmed, texts)


def _share(sections: Sequence[Section], need: dict[str, int], room: int) -> dict[str, int]:
    """Give every section ``min(need, max(floor, level))`` for the largest level that fits.

    Small sections keep all they need; the large ones get the same share (water-filling).
    """

    def total(level: int) -> int:
        return sum(min(need[s.name], max(s.floor, level)) for s in sections)

    low, high = 0, max(need.values(), default=0)
    while low < high:  # the largest level whose total fits in the room
        mid = (low + high + 1) // 2
        if total(mid) <= room:
            low = mid
        else:
            high = mid - 1
    return {s.name: min(need[s.name], max(s.floor, low)) for s in sections}
