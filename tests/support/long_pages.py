"""Long pages and long conversations, to fill small context windows (deterministic).

The pages are plausible mission-log prose with numbers, dates and names; one sentence
mid-way through the main page answers :data:`QUESTION`. Distractor pages share the
question's subject but never say which moon came first.
"""

from __future__ import annotations

import random

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage

from tests.support.testweb import WebPage

QUESTION = "Which moon did the Kestrel-9 probe photograph first?"
ANSWER = "Orrinax"
ANSWER_SENTENCE = (
    "The Kestrel-9 probe photographed the moon Orrinax first, on 3 May 2041, "
    "before any other moon of the system."
)
MAIN_URL = "https://example.org/missions/kestrel-9"

_SUBJECTS = ["The flight team", "Ground control", "The survey crew", "An engineer", "The board"]
_VERBS = ["reviewed", "recalibrated", "logged", "replaced", "measured", "archived", "tested"]
_OBJECTS = [
    "the thermal blankets",
    "the antenna gimbal",
    "the star tracker",
    "the battery heaters",
    "the sample drawer",
    "the navigation tables",
    "the spare thrusters",
]
_PLACES = ["at Station Vey", "in Hall 4", "at the Oru relay", "in the clean room", "on pad 7"]


def filler(seed: int, paragraphs: int, sentences: int = 6) -> list[str]:
    """Return ``paragraphs`` paragraphs of mission-log prose (same seed, same text)."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(paragraphs):
        lines = [
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_PLACES)} on {rng.randint(1, 28)} {rng.choice(['March', 'June'])} "
            f"{rng.randint(2030, 2040)}, after {rng.randint(2, 950)} hours of checks "
            f"(log {rng.randint(1000, 99999)}-{rng.choice('ABCDEFG')})."
            for _ in range(sentences)
        ]
        out.append(" ".join(lines))
    return out


def long_pages(paragraphs: int = 60) -> dict[str, WebPage]:
    """Return the main page (the answer mid-way) and three long distractor pages."""
    main = filler(1, paragraphs)
    main.insert(paragraphs // 2, ANSWER_SENTENCE)
    pages = {
        MAIN_URL: WebPage(
            "Kestrel-9 probe mission log",
            ["The Kestrel-9 probe mission log, kept by the flight team.", *main],
            date="2042-01-15",
        )
    }
    for i, topic in enumerate(["launch", "budget", "crew"], start=2):
        body = [
            f"The Kestrel-9 probe {topic} records of the survey programme.",
            *filler(i, paragraphs),
        ]
        pages[f"https://example.org/missions/kestrel-9-{topic}"] = WebPage(
            f"Kestrel-9 probe {topic} records", body, date="2041-11-02"
        )
    return pages


def long_conversation(turns: int = 8, chars: int = 6_000) -> list[AnyMessage]:
    """Return earlier turns of about ``chars`` characters each, then :data:`QUESTION`."""
    messages: list[AnyMessage] = []
    for i in range(turns):
        messages.append(HumanMessage(f"Tell me about the survey's logistics, part {i + 1}."))
        messages.append(AIMessage(" ".join(filler(100 + i, 1 + chars // 900))[:chars]))
    messages.append(HumanMessage(QUESTION))
    return messages
