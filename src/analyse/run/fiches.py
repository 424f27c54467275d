"""Write the fiches of the intercommunalités and their search page.

``<sortie>/epci/<SIREN>.html`` (``<sortie>/<YYYY-MM>/epci/`` in a monthly run, see
``config.fiches_dir``) and ``<sortie>/epci/index.html``. The figures are the
départements' prepared tables (``analysis.fiche.fiche_rows``); an EPCI that reaches a
département not asked for gets that département prepared too, so that its fiche is
whole. ``FicheCollector`` gathers the rows of a batch or monthly run as its
départements are prepared, and writes each situation's fiches once all are in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from analyse import config
from analyse.analysis import pipeline
from analyse.analysis.bundle import Prepared
from analyse.analysis.fiche import FicheRows, combine, fiche_rows, missing_departements
from analyse.analysis.inputs import Extras
from analyse.atomic import write_text
from analyse.run.progress import Steps
from analyse.territory.reference import Reference

INDEX_NAME = "index.html"

# The steps of the fiches on a terminal, and their seconds on a quiet machine.
PREPARING, _PREPARING_SECONDS = "préparation des départements", 1.5
WRITING, _WRITING_SECONDS = "écriture des fiches", 0.15  # a fiche
_EPCI_PER_DEPARTEMENT = 12  # 1 253 EPCI, 101 départements


@dataclass
class Written:
    folder: Path
    fiches: int
    seconds: float

    @property
    def index(self) -> Path:
        return self.folder / INDEX_NAME


def complete_rows(
    parts: list[FicheRows],
    selections: pipeline.MatchedSelections,
    reference: Reference,
    month: str | None = None,
    extras: Extras | None = None,
) -> FicheRows:
    """The rows of ``parts``, with every département their EPCI reach prepared too.

    A département the selections do not cover (files of one département only) is left
    out: its figures would say « no post » where the files say nothing.
    """
    rows = combine(parts)
    for code in missing_departements(rows):
        try:
            pipeline.check_covered(selections, [code], reference)
        except pipeline.UncoveredDepartementError:
            continue
        prepared = pipeline.prepare(code, selections, reference, month=month, extras=extras)
        rows = combine([rows, fiche_rows(prepared)])
    return rows


def write_fiches(
    rows: FicheRows,
    reference: Reference,
    folder: Path,
    sirens: Iterable[str] | None = None,
    reported: Iterable[str] = (),
    maps=None,
    on_fiche: Callable[[int, int], None] | None = None,
) -> Written:
    """Write the fiche of each EPCI of ``sirens`` (default: all of ``rows``), then the
    search page listing every fiche in ``folder``. A fiche links to the reports of its
    départements that are on disk, or ``reported`` (being written by the same run).
    ``maps``: a ``render.fiche.MapMaker`` of ``reference`` kept from month to month;
    ``on_fiche(position, total)`` is told when each fiche begins (progress)."""
    from analyse.render.fiche import MapMaker, fiche_html

    start = time.perf_counter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    maps = maps or MapMaker(reference)
    names = dict(zip(reference.departements["code"], reference.departements["nom"], strict=True))
    reported = set(reported)
    reports = {
        code: f"../{code}/rapport.html"
        for code in set(rows.epci["departement"])
        if code in reported or (folder.parent / code / "rapport.html").exists()
    }
    wanted = set(sirens if sirens is not None else rows.sirens())
    count = 0
    for siren, own in rows.each():
        if siren in wanted:
            if on_fiche is not None:
                on_fiche(count + 1, len(wanted))
            write_text(folder / f"{siren}.html", fiche_html(own, maps, names, reports))
            count += 1
    write_search_page(folder, reference, rows.context)
    return Written(folder, count, time.perf_counter() - start)


def write_search_page(folder: Path, reference: Reference, context: dict) -> Path:
    """``index.html`` of ``folder``: every fiche there, from this run or an earlier one."""
    from analyse.render.fiche import search_page

    sirens = {p.stem for p in folder.glob("*.html") if p.name != INDEX_NAME}
    path = folder / INDEX_NAME
    write_text(path, search_page(reference, sirens, context))
    return path


def sirens_of(rows: FicheRows, departements: Iterable[str]) -> list[str]:
    """The EPCI of ``departements`` among ``rows`` (those prepared only to make an EPCI
    whole are not written)."""
    wanted = set(departements)
    return list(dict.fromkeys(rows.epci.loc[rows.epci["departement"].isin(wanted), "siren_epci"]))


def fiches_for(*args, **kwargs) -> Written:
    """Prepare ``departements`` and write their EPCI's fiches (``prepare_fiches``)."""
    return prepare_fiches(*args, **kwargs)()


def prepare_fiches(
    departements: list[str],
    selections: pipeline.MatchedSelections,
    reference: Reference,
    reports_dir: Path | None = None,
    month: str | None = None,
    extras: Extras | None = None,
    prepared: dict[str, Prepared] | None = None,
    reported: Iterable[str] = (),
    steps: Steps | None = None,
) -> Callable[[], Written]:
    """Prepare ``departements`` (those not in ``prepared``) and the figures of their EPCI's
    fiches; the function returned writes them (``reported``: départements whose report the
    same run is writing). Apart, so that a report that fails leaves no fiche behind.
    ``steps``: the progress shown (a step to prepare, a step to write; all of France
    takes minutes)."""
    steps = steps or Steps(progress=False)
    count = len(departements)
    steps.extend(
        [
            (PREPARING, _PREPARING_SECONDS * count),
            (WRITING, _WRITING_SECONDS * _EPCI_PER_DEPARTEMENT * count),
        ]
    )
    prepared = dict(prepared or {})
    parts = []
    with steps.step(PREPARING):
        for position, code in enumerate(departements, start=1):
            steps.within(position, count, f"préparation de {code}")
            done = prepared.get(code) or pipeline.prepare(
                code, selections, reference, month=month, extras=extras
            )
            parts.append(fiche_rows(done))
        rows = complete_rows(parts, selections, reference, month, extras)
    folder = config.fiches_dir(reports_dir, month)

    def write() -> Written:
        with steps.step(WRITING):
            return write_fiches(
                rows,
                reference,
                folder,
                sirens_of(rows, departements),
                reported,
                on_fiche=lambda position, total: steps.within(position, total, "fiche"),
            )

    return write


class FicheCollector:
    """The fiche rows of a batch or monthly run, gathered per month as its départements
    are prepared (``add``), written once a month is complete (``write``)."""

    def __init__(
        self,
        selections: pipeline.MatchedSelections,
        reference: Reference,
        reports_dir: Path | None,
        extras: Extras | None = None,
    ) -> None:
        self.selections = selections
        self.reference = reference
        self.reports_dir = reports_dir
        self.extras = extras
        self._parts: dict[str, list[FicheRows]] = {}
        self._codes: dict[str, list[str]] = {}
        self._maps = None  # one MapMaker for every month: the outlines are drawn once

    def add(self, prepared: Prepared) -> None:
        month = prepared.context.get("mois") or ""
        self._parts.setdefault(month, []).append(fiche_rows(prepared))
        self._codes.setdefault(month, []).append(prepared.departement)

    def write(self, month: str = "") -> Written | None:
        parts = self._parts.pop(month, [])
        codes = self._codes.pop(month, [])
        if not parts:
            return None
        rows = complete_rows(parts, self.selections, self.reference, month or None, self.extras)
        folder = config.fiches_dir(self.reports_dir, month or None)
        if self._maps is None:
            from analyse.render.fiche import MapMaker

            self._maps = MapMaker(self.reference)
        return write_fiches(rows, self.reference, folder, sirens_of(rows, codes), maps=self._maps)
