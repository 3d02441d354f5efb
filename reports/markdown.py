"""report.md: the report's content as GitHub-flavoured Markdown, for wikis and tickets.

Same sections, same tables and the same figures as report.html: the figures come from the same
paths of the summary through the same formatters (`reports.html.FORMATS`). Charts are left out
(they are inline SVG in the HTML; the tables carry their numbers) and maps are image links to
the SVG files written beside the report.

Markdown has no autoescaping of its own, and log text (activity, resource, segment names) could
otherwise open a table cell (`|`), a raw HTML element (`<script>`), a link or emphasis. So every
`{{ }}` in the template is escaped by `md_escape` through the environment's `finalize` hook,
unless it is already `Md` (the output of `md_escape` itself, a formatted figure, or a link this
module built): the Markdown equivalent of Jinja's autoescaping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.html import SECTIONS, Figures, fmt_time, template_context
from reports.writer import MAP_TITLES


class Md(str):
    """Text that is already Markdown (escaped log text, a figure, a link we built)."""

    __slots__ = ()


# Characters that start Markdown syntax inline: escaped with a backslash, which GFM turns back
# into the literal character. `<`, `>` and `&` become entities instead, so no raw HTML element
# (or entity trick) survives even in renderers that pass HTML through.
_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")
_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")


def md_escape(value: object) -> Md:
    """Log text as literal Markdown on one line: safe inside a table cell or a list item.

    Escapes the backslash, backtick, `*`, `_`, `[`, `]`, `|`, `#` and `~` with a backslash,
    writes `&`, `<` and `>` as entities, and turns line breaks into spaces (a newline would end
    the table row or list item). `None` shows as an empty string.
    """
    if value is None:
        return Md("")
    if isinstance(value, Md):
        return value
    text = _LINE_BREAKS.sub(" ", str(value))
    for char, entity in _ENTITIES:
        text = text.replace(char, entity)
    return Md(_SPECIAL.sub(r"\\\1", text))


def _finalize(value: object) -> object:
    return value if isinstance(value, Md) else md_escape(value)


def anchor(title: str) -> str:
    """The anchor GitHub and GitLab give a heading: lower case, spaces to '-', punctuation out."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _map_link(path: str) -> Md:
    """A relative path, percent-encoded for a link destination.

    Raises ValueError for an absolute path or URL: the report points at its own files only.
    """
    if path.startswith(("/", "\\")) or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        raise ValueError(f"map path {path!r}: expected a path relative to the report")
    return Md(quote(path, safe="/._-~"))


def bullets(items: object) -> Md:
    """A Markdown list of the items, each escaped onto one line."""
    if not isinstance(items, list | tuple):
        raise TypeError(f"expected a list of notes, found {items!r}")
    return Md("".join(f"- {md_escape(item)}\n" for item in items))


class _MdFigures(Figures):
    """Formatted figures, marked as Markdown (they hold digits, separators, %, units)."""

    def __call__(self, fmt: str, base: str, *parts: str | int) -> str:
        return Md(super().__call__(fmt, base, *parts))


def _environment() -> Environment:
    # autoescape is for HTML/XML; Markdown escaping is `finalize` (see the module docstring).
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=False,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, finalize=_finalize)
    env.filters["md"] = md_escape
    env.filters["time"] = fmt_time
    return env


def render_markdown(summary: Mapping[str, Any], *, maps: Mapping[str, str]) -> str:
    """report.md as one string.

    `maps` maps a map name to its file path relative to report.md (e.g. "maps/frequency.svg").
    Raises ValueError for an absolute path or URL in `maps`, KeyError when the summary lacks a
    figure the template shows.
    """
    context = template_context(summary, html=False)
    context["n"] = _MdFigures(summary, html=False)
    links = [(MAP_TITLES.get(name, name), _map_link(path)) for name, path in maps.items()]
    toc = [(title, Md(anchor(title))) for _, title in SECTIONS]
    template = _environment().get_template("report.md.j2")
    text = template.render(**context, maps=links, toc=toc, bullets=bullets)
    return re.sub(r"\n{3,}", "\n\n", text)


__all__ = ["Md", "anchor", "bullets", "md_escape", "render_markdown"]
