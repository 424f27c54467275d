"""Pieces of the report's HTML, and the monthly index page, written from Jinja2
templates (autoescaped): the project's one template folder and one Jinja environment.

Values are escaped by the template engine; HTML already built and escaped elsewhere
(the tables of ``analyse.render.tables``) is passed wrapped in ``Markup``. Numbers are passed
as numbers and formatted in the template by the filters below, which call the project's
formatting functions (``wording``).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

from markupsafe import Markup

from analyse.wording import fmt_number, fmt_signed, month_label

TEMPLATES_DIR = Path(__file__).parent / "templates"
FRAGMENTS_DIR = TEMPLATES_DIR / "fragments"

__all__ = ["Markup", "render"]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def signed(value: float, decimals: int = 0) -> str:
    """``8`` → ``'+8'``, ``0`` → ``'0'``, ``-3`` → ``'−3'`` (a change, French format)."""
    return fmt_signed(value, decimals)


def percent(part: int, total: int) -> str:
    """``part`` as a whole percentage of ``total``: ``'40 %'``; ``'–'`` when ``total`` is 0."""
    return f"{fmt_number(100 * part / total)} %" if total else "–"


def sort_key(value: float | None) -> str:
    """Sort key of a number for a sortable table (``data-tri``); a missing one sorts first."""
    return "-1" if _missing(value) else f"{float(value):.6f}"


def code_key(code: str) -> str:
    """Sort key of a département code in INSEE order: … 19, 2A, 2B, 21 … 976."""
    corsica = {"2A": "20.1", "2B": "20.2"}
    return corsica.get(code, code)


@functools.cache
def _environment():
    import jinja2

    environment = jinja2.Environment(
        # Fragments by their bare name (« figure.html.j2 »), whole pages by their folder
        # (« national/index.html.j2 »).
        loader=jinja2.FileSystemLoader([str(FRAGMENTS_DIR), str(TEMPLATES_DIR)]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters.update(
        nombre=fmt_number,
        signe=signed,
        pourcent=percent,
        cle_tri=sort_key,
        cle_code=code_key,
        mois=month_label,
    )
    return environment


def render(name: str, **values) -> str:
    """Render ``templates/fragments/<name>`` (or ``templates/<name>``) with ``values``
    (escaped unless Markup)."""
    return _environment().get_template(name).render(**values)
