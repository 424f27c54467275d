"""Write the panel's data dictionary into README.md from ``analyse.schema``.

.venv/bin/python scripts/dictionnaire.py           # réécrit le bloc du README
.venv/bin/python scripts/dictionnaire.py --verifier  # code 1 si le README diffère
"""

from __future__ import annotations

import sys
from pathlib import Path

from analyse import schema

README = Path(__file__).resolve().parents[1] / "README.md"


def with_dictionary(text: str) -> str:
    """``text`` with the block between the two markers replaced by the dictionary."""
    start = text.index(schema.DICTIONARY_START) + len(schema.DICTIONARY_START)
    end = text.index(schema.DICTIONARY_END)
    return text[:start] + "\n\n" + schema.data_dictionary() + "\n\n" + text[end:]


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    wanted = with_dictionary(text)
    if "--verifier" in argv:
        if wanted != text:
            print("Le dictionnaire du README diffère du registre : lancez scripts/dictionnaire.py")
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
