"""The words of orders to an AI: regex fragments and the word gates that guard the rules.

Fragments are joined into the patterns of :mod:`.rules`; gates are sets of words a
sentence must hold for a rule to be tried at all (most sentences hold none).
"""

from __future__ import annotations

import re

AGENT = (
    r"(?:assistants?|models?|agents?|systems?|bots?|chat ?bots?|tools?|readers?|crawlers?|"
    r"scrapers?|summari[sz]ers?|helpers?)"
)
AI_NAMES = (
    rf"(?:(?:ai|a\.i\.|artificial intelligence)(?:[ -]{AGENT})?|(?:large )?language models?"
    r"|llms?|chat ?bots?|chatgpt|gpt(?:-?\d\w*)?|claude|gemini|copilot|bard|"
    r"(?:ai |virtual |digital |automated )?assistants?)"
)
AI_ADDRESSEE = rf"(?:{AI_NAMES}|(?:the |this )model)"
LABEL = (
    r"(?:important|urgent|critical|attention|note|notice|message|warning|reminder|memo|"
    r"instructions?|directive|alert|update|priority|system|official|psst|hey|hi|hello|dear)"
)
READING = (
    r"(?:reading|processing|parsing|summari[sz]ing|crawling|browsing|viewing|analy[sz]ing|"
    r"visiting|indexing|scraping|answering|using)"
)
IGNORE = (
    r"(?:ignore|disregard|forget|override|bypass|abandon|discard|skip|neglect|set aside|"
    r"stop following|do not follow|don't follow|never follow)"
)
REPLY = r"(?:reply|respond|answer|say)"
MUST = r"(?:must|should|shall|are to|have to|need to|will|is to)\s+(?:now\s+|always\s+|only\s+)?"
WRITE = r"(?:reply|respond|answer|say|output|print|write|type|repeat|return|display|state)"
CAPS_OR_WORD = (
    r"(?:(?:the\s+)?(?:single\s+|exact\s+)?(?:word|phrase|text|string|token)\s+[\"“‘'`]?"
    r"(?P<w>[^\s.,;:!?\"”’'`]{2,40})|(?P<caps>\b[A-Z0-9][A-Z0-9_!-]{2,39}\b))"
)
# Where an imperative can start: a clause boundary, a polite or adverbial lead, "you must".
LEAD = (
    r"(?:^|[:;,.!?()\[\]{}\-–—\"'“”‘’*#>|]\s*|\b(?:and|then|so|now|please|kindly|just|simply|"
    r"first|instead|immediately|also|but|otherwise|finally|always|only|therefore)\s+"
    r"|\byou\s+(?:must|should|shall|will|need to|have to|are to|are required to|"
    r"are instructed to|are expected to|may)\s+(?:now\s+|only\s+|always\s+|also\s+)?)\s*$"
)
LEAD_RE = re.compile(LEAD, re.IGNORECASE)
# A fixed reply: quoted text, a token in capitals, or "the word X".
FIXED = (
    r"(?:[\"“‘'`]\s*(?P<q>[^\"”’'`]{1,80}?)\s*[\"”’'`]|(?:the\s+)?(?:single\s+|exact\s+)?"
    r"(?:word|phrase|text|string|token|code|password)\s+(?P<w>[^\s.,;:!?]{2,40})"
    r"|(?P<caps>\b[A-Z0-9][A-Z0-9_!-]{2,39}\b))"
)
# What follows an instruction to the human reader: "Reply STOP to unsubscribe", "Say
# 'agent' at any time to speak to a person", "say 'billing' or press 2".
PURPOSE = re.compile(
    r"^\s*(?:(?:to|for|and)\s+(?:\d|unsubscribe|opt|stop|cancel|quit|exit|confirm|continue|"
    r"subscribe|join|start|get|receive|save|enter|vote|donate|help|more|info|details|"
    r"assistance|support|a\b|the\b)|or\s+press\b|(?:at any time\s+)?to\s+(?:speak|talk|reach|"
    r"connect|hear|go back)\b)",
    re.IGNORECASE,
)
REPORT = re.compile(
    r"\b(?:said|says|saying|wrote|writes|written|reads?|contained|contains|containing|"
    r"include[sd]?|including|hid|hides|hidden|hide|embedded|embeds?|planted|plants?|injected|"
    r"injects?|inserted|inserts?|told|tells?|asked|asks?|instructed|instructs?|tricked|tricks?|"
    r"such as|like|e\.g\.|for example|for instance|examples?|called|dubbed|known as|phrases?|"
    r"strings?|payloads?|attacks?|attackers?|injections?|jailbreaks?|malicious|adversar\w*|"
    r"researchers?|hackers?|demonstrat\w*|showed|shows|typed|entered|variants?|famous|classic|"
    r"infamous|looked like|looks like|reported|quoted|warned|claimed|text|lines?|sentences?)\b"
)
WORD = re.compile(r"[^\W_]+")
FIXED_GROUPS = frozenset({"q", "w", "caps"})


def word_set(text: str) -> frozenset[str]:
    """Return the space-separated words of ``text`` as a set."""
    return frozenset(text.split())


# Gates: a rule applies only to a sentence holding a word (or mark) of each of its groups.
AI_WORDS = word_set(
    "ai a.i. artificial model models llm llms chat chatbot chatbots gpt chatgpt claude gemini "
    "copilot bard assistant assistants bot bots"
)
IGNORE_WORDS = word_set(
    "ignore ignores ignoring ignored disregard disregarding forget forgetting override "
    "overriding bypass abandon discard skip neglect aside follow stop"
)
SYSTEM_WORDS = word_set("system developer admin administrator operator root")
MARKS = ("a.i.", "<|", "inst]", "<<", "#", "忽略", "[", "<", "(")
TOKEN = re.compile(r"[^\W\d_]+")


def words_and_marks(low: str) -> set[str]:
    """Return the words of a lowercase sentence, with the marks it holds."""
    found = set(TOKEN.findall(low))
    found.update(mark for mark in MARKS if mark in low)
    return found


def rx(pattern: str) -> re.Pattern[str]:
    """Compile a rule pattern (case is ignored)."""
    return re.compile(pattern, re.IGNORECASE)


STRONG_QUALIFIER = (
    r"(?:previous|prior|above|earlier|preceding|former|original|initial|existing|system|"
    r"safety|developer)"
)
WEAK_QUALIFIER = r"(?:all|any|your|other|every|those|these|given)"
RULE_NOUNS = (
    r"(?:instructions?|prompts?|rules|directives|guidelines|programming|training|constraints|"
    r"restrictions)"
)
MODALS = word_set("must should shall are have need will is")
READING_WORDS = word_set(
    "reading processing parsing summarizing summarising crawling browsing viewing analyzing "
    "analysing visiting indexing scraping answering using"
)
