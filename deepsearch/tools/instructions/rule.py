"""A rule: one way a sentence can give an order to an AI, as a gated pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One way a sentence can instruct an AI.

    Attributes:
        kind: address, override, system or demand.
        needs: Groups of words (lowercase) or marks; the sentence must hold one of every
            group for the rule to apply: a cheap test that spares most sentences the pattern.
        pattern: What it looks like (on folded text, case ignored).
        lead: It is an imperative: it must start a clause ("and ignore ...", "... : reply ...").
        tail: What follows the match must speak to the reader ("System: you are ...").
    """

    kind: str
    needs: tuple[frozenset[str], ...]
    pattern: re.Pattern[str]
    lead: bool = False
    tail: bool = False

    def applies(self, tokens: set[str]) -> bool:
        """Tell whether a sentence's words hold a word of every group this rule needs."""
        return all(not group.isdisjoint(tokens) for group in self.needs)
