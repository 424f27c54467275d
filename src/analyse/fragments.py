"""Pieces of the report's HTML written from Jinja2 templates (autoescaped).

Values are escaped by the template engine; HTML already built and escaped elsewhere
(the tables of ``analyse.tables``) is passed wrapped in ``Markup``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from markupsafe import Markup

FRAGMENTS_DIR = Path(__file__).parent / "templates" / "fragments"

__all__ = ["Markup", "render"]


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(FRAGMENTS_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(name: str, **values) -> str:
    """Render ``templates/fragments/<name>`` with ``values`` (escaped unless Markup)."""
    return _environment().get_template(name).render(**values)
