"""Read text the way a model reads it: no invisible characters, no look-alike letters.

Orders hidden with zero-width characters, soft hyphens, Unicode tag characters
("ASCII smuggling"), Cyrillic or Greek look-alikes, fullwidth forms or accents read
plainly after :func:`fold`.
"""

from __future__ import annotations

import re
import unicodedata

# Invisible characters (format controls, tag characters) and look-alike letters.
_TAG_BASE = 0xE0000
_CONFUSABLES = str.maketrans(
    "АВЕКМНОРСТХУІЈЅаеорсухіјѕһԁԛԝӏɑɡΑΒΕΖΗΙΚΜΝΟΡΤΥΧαεικνορτυχ",
    "ABEKMHOPCTXYIJSaeopcyxijshdqwlagABEZHIKMNOPTYXaeikvoptux",
)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Return ``text`` as a model would read it: no invisible characters, plain letters.

    Case is kept (a demanded reply is often in capitals); lowercase it for matching.
    """
    if not text.isascii():
        text = "".join(_visible(c) for c in text)
        text = unicodedata.normalize("NFKC", text).translate(_CONFUSABLES)
        text = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    return " ".join(text.split())


def _visible(char: str) -> str:
    code = ord(char)
    if 0xE0020 <= code <= 0xE007E:  # tag characters smuggle invisible ASCII
        return chr(code - _TAG_BASE)
    return "" if unicodedata.category(char) == "Cf" else char
