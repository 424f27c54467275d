"""What a reader sees of a page, and the slips of French it must not hold.

Shared by ``test_francais.py`` (reports, index, fiches and search page read as text,
without a browser) and the browser tests. The visible text is what a screen shows and
what a screen reader says: the text of the page outside scripts and styles, the text of
SVG figures, and the ``alt``, ``aria-label`` and ``title`` of elements.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is never read.
_HIDDEN = {"script", "style", "template"}
# Attributes a screen reader says, or a pointer shows.
_SPOKEN = ("alt", "aria-label", "title")
# Elements that end a line of text (so that two cells never read as one word).
_BLOCKS = {
    "p", "li", "td", "th", "tr", "div", "h1", "h2", "h3", "h4", "br", "figcaption",
    "summary", "footer", "header", "section", "ul", "ol", "text", "title", "caption",
}  # fmt: skip


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if tag in _BLOCKS:
            self.parts.append("\n")
        for name, value in attrs:
            if name in _SPOKEN and value and not self.hidden:
                self.parts.append(f"\n{value}\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The text a reader sees or hears of an HTML page, one block a line."""
    parser = _Visible()
    parser.feed(page)
    text = "".join(parser.parts)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


_LOWER = "a-zàâäçéèêëîïôöûùüÿœæ"
_UPPER = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÛÙÜŸŒÆ"
# Words ending in s or x that follow « 0 » or « 1 » rightly: invariable nouns, articles,
# prepositions (« n° 1 des … »).
_INVARIABLE = "|".join(
    ["mois", "fois", "pas", "plus", "sous", "sur", "dans", "sans", "vers", "très", "puis"]
    + ["depuis", "après", "dès", "des", "les", "aux", "ces", "ses", "leurs", "chez", "mais"]
    + ["alors", "avis", "prix"]
)

SLIPS = {
    # French: 0 and 1 (and what lies between) take the singular.
    "pluriel après 0 ou 1": (
        rf"(?<![\d,.\u202f\u00a0−-])(?:0|1)(?:,\d+)?[ \u00a0\u202f]"
        rf"(?!(?:{_INVARIABLE})\b)[{_LOWER}]+[sx]\b"
    ),
    # A name's own article after a preposition: « du », « des », « au », « aux ».
    "article non contracté": r"(?<![\w'’])(?:de|à) (?:Le|Les)\b",
    "zéro négatif": r"[-−]0(?:,0+)?(?![,\d])",
    # French typography writes a negative number with the minus sign U+2212.
    "trait d'union pour un signe moins": r"(?<![\w\-/.:#])-\d",
    # After a lower-case letter: « A.MALRAUX », « O.I » are initials in a name.
    "espace manquante après un point": rf"[{_LOWER}\)]\.[{_UPPER}]",
    # After a word of two letters or more: « n. d. », « l. 12 » are abbreviations.
    "minuscule en début de phrase": rf"[{_LOWER}]{{2}}\.[ \u00a0][{_LOWER}]",
}

# The Mayotte population decree, cited only where Mayotte is shown.
MAYOTTE_DECREE = r"décret n° 2017-1688|populations légales des communes de Mayotte"


def slips(text: str, mayotte: bool = False) -> dict[str, list[str]]:
    """Each slip found in ``text``, with a few words around it; the Mayotte decree is a
    slip unless ``mayotte`` (the page shows Mayotte)."""
    rules = dict(SLIPS)
    if not mayotte:
        rules["décret de Mayotte sans Mayotte"] = MAYOTTE_DECREE
    found = {}
    for name, pattern in rules.items():
        hits = [
            text[max(0, m.start() - 30) : m.end() + 30].replace("\n", " ⏎ ")
            for m in re.finditer(pattern, text)
        ]
        if hits:
            found[name] = hits[:5]
    return found


def words(text: str) -> int:
    """Words as a reader counts them: what spaces separate, a number's groups of digits
    (« 2 038 586 ») one word."""
    return len(re.sub(r"(\d)[\u202f\u00a0 ](?=\d{3}\b)", r"\1", text).split())
