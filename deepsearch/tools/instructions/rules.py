"""The rules: each way a sentence can give an order to an AI, as a gated pattern.

Four kinds: it addresses AI assistants or models, overrides the reader's
instructions, claims to be a system or developer message, or demands a fixed reply.
"""

from __future__ import annotations

from deepsearch.tools.instructions.demands import DEMAND_RULES
from deepsearch.tools.instructions.rule import Rule
from deepsearch.tools.instructions.vocabulary import (
    AI_ADDRESSEE,
    AI_NAMES,
    AI_WORDS,
    CAPS_OR_WORD,
    FIXED,
    IGNORE,
    IGNORE_WORDS,
    LABEL,
    MODALS,
    MUST,
    READING,
    READING_WORDS,
    RULE_NOUNS,
    STRONG_QUALIFIER,
    SYSTEM_WORDS,
    WEAK_QUALIFIER,
    WRITE,
    rx,
    word_set,
)

RULES: tuple[Rule, ...] = (
    # Addressing AI assistants.
    Rule(
        "address",
        (AI_WORDS, word_set("to for")),
        rx(
            rf"^\W*(?:{LABEL}\W+)*(?:to|for)\W+(?:(?:all|any|every|the)\W+)*{AI_ADDRESSEE}\b"
            rf"(?:\s+{READING}\b[^:,]{{0,40}})?\s*(?:[:,!]|—|--?\s)"
        ),
    ),
    Rule(
        "address",
        (AI_WORDS,),
        rx(
            rf"^\W*(?:(?:all|any|every|the|dear|hey|hi|hello|attention)\W+)*{AI_ADDRESSEE}"
            rf"(?:\s+{READING}\b[^:,]{{0,40}})?\s*[:,!]\s*(?:please\b|{IGNORE}\b|do not\b|"
            r"don't\b|never\b|always\b|make sure\b|ensure\b|remember\b|stop\b|your\s+(?:\w+\s+)?"
            r"(?:answer|response|reply|output)\b)"
        ),
    ),
    Rule(
        "address",
        (word_set("if when case"), word_set("you")),
        rx(
            rf"\b(?:if|when|in case)\s+you(?:'re| are)\s+(?:an?\s+|the\s+)?(?:{AI_ADDRESSEE}|ai|"
            r"automated|a bot|a robot|not (?:a )?human|a machine)\b"
            r"(?!\s+(?:researcher|developer|engineer|enthusiast|user|company|startup|expert|fan))"
        ),
    ),
    Rule(
        "address",
        (AI_WORDS, READING_WORDS, word_set("this")),
        rx(
            rf"\b(?:any|every|all|the)\s+{AI_ADDRESSEE}\s+(?:that is\s+|who is\s+)?"
            rf"{READING}\s+this\b"
        ),
    ),
    Rule(
        "address",
        (word_set("you developer"),),
        rx(
            r"\byou\s+are\s+now\s+(?:an?\s+)?\w+|\byou\s+are\s+(?:an?\s+)?(?:ai|"
            rf"{AI_ADDRESSEE}|dan|jailbroken|unrestricted|unfiltered)\b|\bin developer mode\b"
        ),
        lead=True,
    ),
    Rule(
        "address",
        (AI_WORDS, word_set("dear hey attention psst note message memo")),
        rx(
            r"\b(?:dear|hey|attention|psst|note to|message to|memo to)\W+(?:the\W+)?"
            rf"{AI_ADDRESSEE}\b"
        ),
    ),
    Rule(
        "address",
        (AI_WORDS, MODALS),
        rx(
            rf"\b{AI_NAMES}\s+(?:{READING}\s+(?:this|these)\s+\w+\s+)?{MUST}(?:"
            rf"{IGNORE}\b|{WRITE}\s+(?:only\s+|with\s+|just\s+)*{FIXED}|tell the user|"
            r"not answer)"
        ),
    ),
    Rule(
        "address",
        (word_set("model"), MODALS),
        # "The model should output 'positive'" is how ML docs talk: only a fixed token counts.
        rx(
            rf"\b(?:the|this)\s+model\s+(?:{READING}\s+(?:this|these)\s+\w+\s+)?{MUST}(?:"
            rf"{IGNORE}\b|{WRITE}\s+(?:only\s+|with\s+|just\s+)*{CAPS_OR_WORD})"
        ),
    ),
    # Overriding the reader's instructions.
    Rule(
        "override",
        (IGNORE_WORDS,),
        rx(
            rf"{IGNORE}\s+(?:\w+\s+){{0,4}}?{STRONG_QUALIFIER}\s+(?:\w+\s+){{0,2}}?"
            rf"(?:{RULE_NOUNS}|directions|context|messages|commands|orders|tasks?|policies)\b"
            rf"|{IGNORE}\s+(?:\w+\s+){{0,2}}?{WEAK_QUALIFIER}\s+(?:\w+\s+){{0,1}}?{RULE_NOUNS}\b"
            rf"|{IGNORE}\s+(?:the\s+|all\s+|any\s+)?(?:{RULE_NOUNS}|directions)\s+"
            r"(?:above|before|given|so far)|" + IGNORE + r"\s+(?:everything|all)\s+"
            r"(?:above|before|previously|said)"
        ),
        lead=True,
    ),
    Rule(
        "override",
        (word_set("instruction instructions"),),
        rx(
            r"\b(?:new|updated|real|actual|true|revised|secret|hidden)\s+instructions?\s*:"
            r"|\b(?:new|real|actual|true)\s+instructions\s+(?:follow|are as follows)\b"
        ),
    ),
    Rule(
        "override",
        (word_set("your"), word_set("new real actual true only sole")),
        rx(
            r"\byour\s+(?:new|real|actual|true|only|sole)\s+(?:task|instructions?|goal|objective|"
            r"job|role|purpose|mission)\s+(?:is|are)\s+(?:now\s+)?(?:to\s+)?(?:reply|respond|"
            r"answer|say|output|print|ignore|disregard|tell|write)\b"
        ),
    ),
    Rule(
        "override",
        (word_set("now"), word_set("from")),
        rx(
            r"\bfrom now on,?\s+(?:you\s+(?:(?:must|will|shall|should)\s+)?)?"
            r"(?:always\s+|only\s+)?(?:reply|respond|answer|say)\b"
        ),
    ),
    Rule(
        "override",
        (word_set("ignoriere ignorieren ignorez ignorer ignora ignorad 忽略"),),
        rx(
            r"\bignorier\w*\s+(?:\w+\s+){0,2}(?:anweisungen|befehle)|\bignor\w*\s+(?:toutes\s+)?"
            r"les\s+(?:instructions|consignes)|\bignora\w*\s+(?:todas\s+)?las\s+instrucciones"
            r"|忽略(?:之前|以上|先前|所有|前面)"
        ),
    ),
    # Claiming to be a system or developer message.
    Rule(
        "system",
        (SYSTEM_WORDS, word_set("[ < ( override")),
        rx(
            r"^\W*(?:\[|<|\()\s*(?:system|developer|admin(?:istrator)?|operator)\s*"
            r"(?:message|prompt|note|notice|instructions?|override)?\s*(?:\]|>|\))"
            r"|^\W*(?:system|developer|admin(?:istrator)?)\s+override\s*(?::|-{1,2}\s)"
        ),
    ),
    Rule(
        "system",
        (word_set("<| inst] << #"),),
        rx(
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\|>"
            r"|^\W*(?:\[/?inst\]|<<\s*/?sys\s*>>|#{1,6}\s*(?:system|instructions?)\s*:)"
        ),
    ),
    Rule(
        "system",
        (word_set("this"), word_set("system developer admin priority official")),
        rx(
            r"\bthis\s+(?:is\s+|message\s+is\s+)(?:an?\s+)?(?:system|developer|admin|priority|"
            r"official)\s+(?:message|prompt|instruction|override|notice|command)\b"
        ),
    ),
    Rule(
        "system",
        (word_set("begin start end"), word_set("system developer hidden secret")),
        rx(
            r"\b(?:begin|start|end)\s+(?:of\s+)?(?:the\s+)?(?:system|developer|hidden|secret)\s+"
            r"(?:prompt|message|instructions?)\b"
        ),
    ),
    Rule(
        "system",
        (SYSTEM_WORDS,),
        rx(
            r"^\W*(?:system|developer|admin(?:istrator)?|root|operator)\s*(?:message|prompt|"
            r"instructions?|override|directive|command|notice|note|update|alert)?s?\s*(?::|-{1,2}\s)"
        ),
        tail=True,
    ),
    *DEMAND_RULES,
)
# A sentence with none of these holds no order: it skips the rules at once.
TRIGGERS = frozenset().union(*(rule.needs[0] for rule in RULES))
WEAK = rx(
    r"\byou(?:r|rs|'re|'ll)?\b|\bthe user\b|^\W*(?:please\s+)?(?:reply|respond|answer|say|output|"
    r"print|write|ignore|disregard|forget|do not|don't|never|always|only|remember|include|mention|"
    r"tell|pretend|act as|make sure|ensure|begin|start|end|repeat|recommend|follow|obey)\b"
)
