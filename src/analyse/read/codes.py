"""INSEE and SIREN codes as written by people and spreadsheets, brought back to the form
of the reference: the one rule for every code the project reads.

A spreadsheet drops a leading zero (« 5 » for 05, « 5061 » for 05061) or turns a code
into a float (« 5.0 »); people type lower case (« 2a »). So: surrounding spaces dropped,
upper case, a trailing « .0 » dropped, and a code of digits one short of its width gets
its zero back. Anything else is kept as written, for the caller to accept or refuse.
"""

from __future__ import annotations

import pandas as pd

DEPARTEMENT_WIDTH = 2
COMMUNE_WIDTH = 5
SIREN_WIDTH = 9


def code(value: object, width: int) -> str:
    """``value`` as a code of ``width`` characters: ``code(" 5.0", 2)`` → ``'05'``."""
    text = "" if value is None or pd.isna(value) else str(value)
    text = text.strip().upper()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and len(text) == width - 1:
        text = text.zfill(width)
    return text


def codes(values: pd.Series, width: int) -> pd.Series:
    """``code`` of every value (missing values become ``''``)."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    text = text.str.strip().str.upper().str.replace(r"\.0$", "", regex=True)
    lost_zero = text.str.fullmatch(rf"\d{{{width - 1}}}")
    return text.where(~lost_zero, text.str.zfill(width))


def departement_code(value: object) -> str:
    """``'5'``, ``'5.0'``, ``' 05 '`` → ``'05'``; ``'2a'`` → ``'2A'``; ``'974'`` kept."""
    return code(value, DEPARTEMENT_WIDTH)


def commune_code(value: object) -> str:
    """``'5061'``, ``'5061.0'`` → ``'05061'``; ``'2a004'`` → ``'2A004'``."""
    return code(value, COMMUNE_WIDTH)
