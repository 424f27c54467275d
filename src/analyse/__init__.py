"""Conseillers numériques France Services : couverture territoriale par EPCI."""

import sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat, hence by papermill and nbconvert) imports
# rfc3987_syntax when it is installed, and that module compiles some 35 Lark grammars
# at import time: 2.4 s on this machine, paid by the CLI and by every batch worker, for
# an "iri" format checker that no notebook schema uses (upstream report 1428 of
# python-jsonschema/jsonschema). Marking it absent makes jsonschema skip that one checker.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
