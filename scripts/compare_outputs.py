"""Save the analysts' tables of a few reference reports, then check a later version of
the code gives the same figures (a refactor changes no figure).

    python scripts/compare_outputs.py save    DOSSIER [CAS…]   # before the change
    python scripts/compare_outputs.py compare DOSSIER [CAS…]   # after: exit 1 on any difference

The cases: 05 with its default data, and 05, 38, 59, 974 with the embedded national list,
IFN and places (``CAS…``: some of them only, e.g. ``05-defaut 974-nationale``). The CSV
is compared byte for byte; the workbook sheet by sheet, as frames (its file carries a
creation date); the GeoPackage's layers as frames; the fiches of the intercommunalités
(``epci/*.html``) as text, once their date and commit of generation are set aside.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from analyse import config

CASES = {
    "05-defaut": ["-d", "05"],
    **{
        f"{code}-nationale": ["-d", code, "--selections", str(config.EMBEDDED_NATIONAL_LIST)]
        for code in ("05", "38", "59", "974")
    },
}
KEPT = (config.CSV_NAME, config.WORKBOOK_NAME, config.GEOPACKAGE_NAME)


def produce(target: Path, cases: list[str]) -> None:
    for name in cases:
        arguments = CASES[name]
        with tempfile.TemporaryDirectory() as work:
            command = [sys.executable, "-m", "analyse.cli", "rapport", *arguments]
            subprocess.run([*command, "--sortie", work], check=True, capture_output=True)
            code = arguments[1]
            (target / name).mkdir(parents=True, exist_ok=True)
            for kept in KEPT:
                shutil.copy2(Path(work) / code / kept, target / name / kept)
            shutil.copytree(Path(work) / config.FICHES_SUBDIR, target / name / config.FICHES_SUBDIR)


# What changes from one run to the next in a fiche: when and from which commit it was made.
_VOLATILE = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}|[0-9a-f]{7,40}( \+modifié)?"
)


def _fiches(folder: Path) -> dict[str, str]:
    return {
        path.name: _VOLATILE.sub("…", path.read_text(encoding="utf-8"))
        for path in sorted((folder / config.FICHES_SUBDIR).glob("*.html"))
    }


def _layers(path: Path) -> dict[str, pd.DataFrame]:
    import pyogrio

    return {
        layer: pyogrio.read_dataframe(path, layer=layer) for layer, _ in pyogrio.list_layers(path)
    }


def differences(before: Path, after: Path, cases: list[str]) -> list[str]:
    found = []
    for name in cases:
        old, new = before / name, after / name
        csv = config.CSV_NAME
        if (old / csv).read_bytes() != (new / csv).read_bytes():
            found.append(f"{name}/{csv} : octets différents")
        for kind, read in (
            (config.WORKBOOK_NAME, lambda p: pd.read_excel(p, sheet_name=None)),
            (config.GEOPACKAGE_NAME, _layers),
        ):
            a, b = read(old / kind), read(new / kind)
            if list(a) != list(b):
                found.append(f"{name}/{kind} : feuilles ou couches {list(a)} ≠ {list(b)}")
                continue
            for sheet in a:
                try:
                    pd.testing.assert_frame_equal(a[sheet], b[sheet])
                except AssertionError as error:
                    found.append(f"{name}/{kind}/{sheet} : {str(error).splitlines()[0]}")
        old_fiches, new_fiches = _fiches(old), _fiches(new)
        if list(old_fiches) != list(new_fiches):
            found.append(f"{name}/{config.FICHES_SUBDIR} : fiches différentes")
        found += [
            f"{name}/{config.FICHES_SUBDIR}/{fiche} : texte différent"
            for fiche, text in old_fiches.items()
            if new_fiches.get(fiche, text) != text
        ]
    return found


def main() -> int:
    action, folder = sys.argv[1], Path(sys.argv[2])
    cases = sys.argv[3:] or list(CASES)
    if action == "save":
        produce(folder, cases)
        print(f"{len(cases)} cas enregistrés dans {folder}")
        return 0
    with tempfile.TemporaryDirectory() as work:
        produce(Path(work), cases)
        found = differences(folder, Path(work), cases)
    for line in found:
        print(line)
    print(f"{len(cases)} cas comparés : {len(found)} différence(s)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
