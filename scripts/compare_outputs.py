"""Save the analysts' tables of a few reference reports, then check a later version of
the code gives the same figures (a refactor changes no figure).

    python scripts/compare_outputs.py save    DOSSIER [CAS…]   # before the change
    python scripts/compare_outputs.py compare DOSSIER [CAS…]   # after: exit 1 on any difference

The cases: 05 with its default data, and 05, 38, 59, 974 with the embedded national list,
IFN and places; the monthly run of January 2022 for 05 and 2A (their reports, the index
and the month's fiches); the panel (``CAS…``: some of them only, e.g. ``05-defaut
974-nationale``). The CSV are compared byte for byte; the workbook sheet by sheet, as
frames (its file carries a creation date); the GeoPackage's layers as frames; the
fiches of the intercommunalités (``epci/*.html``) and the monthly index as text, once
their date and commit of generation are set aside.
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
    "05-defaut": ["rapport", "-d", "05"],
    **{
        f"{code}-nationale": [
            "rapport",
            "-d",
            code,
            "--selections",
            str(config.EMBEDDED_NATIONAL_LIST),
        ]
        for code in ("05", "38", "59", "974")
    },
    "mensuel-2022-01": ["mensuel", "--mois", "2022-01", "--departements", "05,2A"],
    "panel": ["panel"],
}
KEPT = (config.CSV_NAME, config.WORKBOOK_NAME, config.GEOPACKAGE_NAME)
PANEL_KEPT = ("panel_epci.csv", "panel_departements.csv", "epci.csv")


def _fiches_folder(work: Path, report: Path) -> Path | None:
    """The fiches of a run: beside its report, or in the run's folder (older layout)."""
    for folder in (report / config.FICHES_SUBDIR, work / config.FICHES_SUBDIR):
        if folder.is_dir():
            return folder
    return None


def _keep_report(report: Path, target: Path, work: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for kept in KEPT:
        shutil.copy2(report / kept, target / kept)
    fiches = _fiches_folder(work, report)
    if fiches is not None:
        shutil.copytree(fiches, target / config.FICHES_SUBDIR)


def produce(target: Path, cases: list[str]) -> None:
    for name in cases:
        arguments = CASES[name]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            command = [sys.executable, "-m", "analyse.cli", *arguments, "--sortie", str(work)]
            subprocess.run(command, check=True, capture_output=True)
            if arguments[0] == "rapport":
                _keep_report(work / arguments[2], target / name, work)
            elif arguments[0] == "mensuel":
                month = work / arguments[2]
                for code in arguments[4].split(","):
                    _keep_report(month / code, target / name / code, month)
                shutil.copy2(month / config.INDEX_NAME, target / name / config.INDEX_NAME)
            else:
                (target / name).mkdir(parents=True, exist_ok=True)
                for kept in PANEL_KEPT:
                    shutil.copy2(work / kept, target / name / kept)


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


def _report_differences(name: str, old: Path, new: Path) -> list[str]:
    found = []
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


def differences(before: Path, after: Path, cases: list[str]) -> list[str]:
    found = []
    for name in cases:
        old, new = before / name, after / name
        arguments = CASES[name]
        if arguments[0] == "rapport":
            found += _report_differences(name, old, new)
        elif arguments[0] == "mensuel":
            for code in arguments[4].split(","):
                found += _report_differences(f"{name}/{code}", old / code, new / code)
            index = config.INDEX_NAME
            texts = [(f / index).read_text(encoding="utf-8") for f in (old, new)]
            if _VOLATILE.sub("…", texts[0]) != _VOLATILE.sub("…", texts[1]):
                found.append(f"{name}/{index} : texte différent")
        else:
            found += [
                f"{name}/{kept} : octets différents"
                for kept in PANEL_KEPT
                if (old / kept).read_bytes() != (new / kept).read_bytes()
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
