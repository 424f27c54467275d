"""Name normalisation, shared by the reference and the matching stages.

Published names differ from official ones in case, accents, apostrophes (’ vs '),
hyphens, legal-form prefixes ("Communauté de communes", "CC", "CA") and articles. A
normalised key removes those differences and nothing else, so that exact matching on
keys is safe and fuzzy matching only has to deal with real spelling differences.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Legal forms and designations that say what a structure is, not which one it is.
# Longest first, matched as whole words on the accent-free lower-case text.
_DESIGNATIONS = [
    "communaute de communes",
    "communaute d agglomeration",
    "communaute urbaine",
    "metropole",
    "conseil departemental",
    "commune nouvelle",
    "commune",
    "ville",
    "mairie",
    "cc",
    "ca",
    "cu",
]
_STOPWORDS = {"le", "la", "les", "l", "du", "de", "des", "d", "et", "en", "au", "aux"}
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_DESIGNATION_RE = re.compile(r"\b(?:" + "|".join(_DESIGNATIONS) + r")\b")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")


def normalise_text(text: str) -> str:
    """Lower case, no accents, every run of punctuation or space turned into one space."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    return _NON_ALNUM_RE.sub(" ", text).strip()


# Pure, and called on the same few thousand structure names for every département and
# month of a run (``priority_areas.structure_key``): each name is worked out once.
@functools.lru_cache(maxsize=1 << 16)
def normalise_name(name: str) -> str:
    """Matching key of a structure or territory name.

    >>> normalise_name("Serre-Ponçon Val d’Avance")
    'serre poncon val avance'
    >>> normalise_name("Communauté de communes du Guillestrois et du Queyras")
    'guillestrois queyras'
    """
    text = _DESIGNATION_RE.sub(" ", normalise_text(name))
    words = [ABBREVIATIONS.get(w, w) for w in text.split()]
    kept = [w for w in words if w not in _STOPWORDS]
    # A name made only of designations and articles ("La Commune") keeps its words,
    # rather than collapsing to an empty key that would match nothing meaningfully.
    return " ".join(kept) if kept else normalise_text(name)
