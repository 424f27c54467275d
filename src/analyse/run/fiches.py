"""Write the fiches of the intercommunalités and their search page.

A fiche is a slice of a situation (``Situation.fiche_rows``): the figures of the report
beside it, at the same date. The fiches a report links to are written into the report's
own folder (``<rapport>/epci/<SIREN>.html``, search page ``<rapport>/epci/index.html``),
once the report is in place: no later command for another date or other sources writes
there, so a report never links to a fiche of another situation. ``analyse fiches``
writes its own folder (``config.fiches_dir``). A folder of fiches is built aside and
swapped in whole: it always holds the fiches of one situation, and its search page says
which.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from analyse import config
from analyse.analysis.fiche import FicheRows
from analyse.analysis.situation import Situation
from analyse.atomic import remove_dead_staging, replace_dir, staging_dir
from analyse.run.progress import Steps

INDEX_NAME = "index.html"
# The steps of ``analyse fiches`` on a terminal, and their seconds on a quiet machine.
PREPARING, _PREPARING_SECONDS = "situation du pays", 8
WRITING, _WRITING_SECONDS = "écriture des fiches", 0.05  # a fiche
# The report a fiche in a report's folder links back to.
OWN_REPORT = f"../{config.REPORT_HTML_NAME}"
_STAGING = ".epci.en-cours-"


@dataclass
class Written:
    folder: Path
    fiches: int
    seconds: float

    @property
    def index(self) -> Path:
        return self.folder / INDEX_NAME


class FicheWriter:
    """Writes folders of fiches of one situation; each EPCI's figures (and where its next
    posts should go) are cut from the situation once, however many folders get its fiche.
    ``maps`` (a ``render.fiche.MapMaker``) may be kept from one situation to the next:
    the outlines it draws do not change."""

    def __init__(self, situation: Situation, maps=None, steps: Steps | None = None) -> None:
        from analyse.render.fiche import MapMaker

        reference = situation.sources.reference
        self.situation = situation
        self.maps = maps or MapMaker(reference)
        self.names = dict(
            zip(reference.departements["code"], reference.departements["nom"], strict=True)
        )
        self._rows: dict[str, FicheRows] = {}
        self.steps = steps  # the progress of ``analyse fiches`` (None: not shown)

    def rows(self, sirens: Iterable[str]) -> dict[str, FicheRows]:
        """The rows of each EPCI of ``sirens``, cut from the situation once."""
        missing = [s for s in dict.fromkeys(sirens) if s not in self._rows]
        if missing:
            self._rows.update(self.situation.fiche_rows(missing).each())
        return {s: self._rows[s] for s in sirens}

    def write(
        self, folder: Path, sirens: Iterable[str], reports: dict[str, str] | None = None
    ) -> Written:
        """The fiches of ``sirens`` and their search page, as the whole content of
        ``folder``. ``reports``: département → relative link to its report, for the
        départements whose report sits beside the folder."""
        from analyse.render.fiche import fiche_html, search_page

        start = time.perf_counter()
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_dead_staging(folder.parent, _STAGING)
        build = staging_dir(folder.parent, _STAGING)
        sirens = list(dict.fromkeys(sirens))
        steps = self.steps or Steps(progress=False)
        steps.extend([(PREPARING, _PREPARING_SECONDS), (WRITING, _WRITING_SECONDS * len(sirens))])
        try:
            with steps.step(PREPARING):
                rows = self.rows(sirens)
            with steps.step(WRITING):
                for position, (siren, own) in enumerate(rows.items(), start=1):
                    steps.within(position, len(rows), "fiche")
                    page = fiche_html(own, self.maps, self.names, reports)
                    (build / f"{siren}.html").write_text(page, encoding="utf-8")
            context = self.situation.fiche_context()
            page = search_page(self.situation.sources.reference, set(rows), context)
            (build / INDEX_NAME).write_text(page, encoding="utf-8")
            replace_dir(folder, build)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        return Written(folder, len(rows), time.perf_counter() - start)

    def write_beside(self, report_dir: Path, departement: str) -> Written:
        """The fiches of the EPCI of ``departement`` in its report's folder, linked back
        to the report."""
        folder = Path(report_dir) / config.FICHES_SUBDIR
        sirens = self.situation.sirens_of([departement])
        return self.write(folder, sirens, {departement: OWN_REPORT})
