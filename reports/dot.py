"""The Graphviz seam of the maps: log text quoted for DOT, colour steps, rendering to files.

Activity names come from customers' systems, so every piece of log text reaches DOT through
`text()`: nodes get our own ids (`n0`, `n1`, ...), labels are plain (never `<...>` HTML-like)
DOT strings in which backslashes, quotes, `&` entities and line breaks lose their special
meaning. The graphviz package then quotes the whole label; nothing in a name can end the
string, start an HTML label or reach the SVG as markup (`dot` escapes `<`, `>`, `&` there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import graphviz

from processmine.errors import ProcessMineError

#: Output formats by file suffix; `.dot`/`.gv` write the DOT source itself (no `dot` needed).
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

#: A font Graphviz resolves on every platform (SVG viewers fall back along the list).
FONT = "Helvetica,Arial,sans-serif"

# Characters XML 1.0 forbids (an SVG holding one does not parse) and DOT's C strings end at
# (NUL): shown as U+FFFD. Tabs become spaces; line breaks become DOT line breaks.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
_TITLE = re.compile(r"<title>[^<]*</title>\n?")
_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')


def text(value: object) -> str:
    """Log text as a piece of a DOT label that renders literally.

    Backslashes are doubled (so `\\N`, `\\l` or a final backslash stay text), `&` becomes
    `&amp;` (Graphviz decodes entities such as `&lt;` in plain labels), line breaks become
    DOT's `\\n`, and characters an SVG cannot hold become U+FFFD. Quotes are left to the
    graphviz package, which escapes them when it quotes the finished label.
    """
    raw = str(value).encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    raw = _INVALID.sub("\ufffd", raw)
    return "\\n".join(graphviz.escape(part.replace("&", "&amp;")) for part in raw.split("\n"))


def label(*lines: str) -> str:
    """Lines already passed through `text()` (or our own ASCII) as one centred DOT label,
    marked so the graphviz package never reads it as an HTML-like `<...>` label."""
    marked: str = graphviz.nohtml("\\n".join(lines))
    return marked


def left_label(lines: Sequence[str]) -> str:
    """Lines (already `text()`-escaped) as a left-justified label: the legend."""
    marked: str = graphviz.nohtml("".join(f"{line}\\l" for line in lines))
    return marked


def step(value: float | None, top: float, steps: int = 5) -> int:
    """The colour step (0 .. steps-1) of `value` on a linear scale up to `top`: equal bands of
    `top / steps`, so the legend can say "steps of 20% of the largest". Missing or
    non-positive values take the first step."""
    if value is None or value != value or top <= 0 or value <= 0:  # noqa: PLR0124 - NaN
        return 0
    return min(steps - 1, int(value / top * steps))


def width(value: float | None, top: float) -> str:
    """A line width from 1 to 6 points, linear in `value / top`."""
    if value is None or value != value or top <= 0:  # noqa: PLR0124 - NaN
        return "1.0"
    return f"{1 + 5 * max(0.0, min(1.0, value / top)):.1f}"


def count(value: object) -> str:
    """A count for a label: 7,405."""
    return f"{int(value):,}"  # type: ignore[call-overload]


def digraph(name: str, heading: str, legend: Sequence[str]) -> graphviz.Digraph:
    """An empty left-to-right map with the shared look: `heading` (log text allowed) and the
    legend lines (already escaped) as the graph's label at the top left."""
    graph = graphviz.Digraph(name)
    graph.attr("graph", rankdir="LR", fontname=FONT, fontsize="12", labelloc="t",
               labeljust="l", nodesep="0.3", ranksep="0.5",
               label=left_label([text(heading), *legend]))
    graph.attr("node", fontname=FONT, fontsize="11", shape="box", style="rounded,filled",
               fillcolor="white", color="#4d4d4d", margin="0.15,0.06")
    graph.attr("edge", fontname=FONT, fontsize="10", color="#4d4d4d", fontcolor="#262626",
               arrowsize="0.7")
    return graph


def output_format(path: Path) -> str:
    """The Graphviz format for `path`'s suffix; raises ProcessMineError for any other suffix
    (checked before any work, so a typo costs nothing)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        found = repr(path.suffix) if path.suffix else "no suffix"
        raise ProcessMineError(f"{path}: a map file needs the suffix .svg, .png, .pdf or .dot; "
                               f"found {found}")
    return fmt


def render(graph: graphviz.Digraph, path: Path) -> Path:
    """Write `graph` to `path` in the format its suffix names (.svg, .png, .pdf, or .dot/.gv
    for the DOT source) and return `path`.

    Raises ProcessMineError for another suffix, when Graphviz's `dot` program is missing
    (with how to install it) or fails, and when the file cannot be written.
    """
    fmt = output_format(path)
    data = graph.source.encode("utf-8") if fmt == "dot" else _pipe(graph, fmt)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as err:
        raise ProcessMineError(f"{path}: cannot write the map: {err.strerror or err}") from err
    return path


def svg_inline(graph: graphviz.Digraph) -> str:
    """The map as an `<svg>` element to paste into an HTML page.

    Graphviz's SVG starts with an XML prolog and a DOCTYPE naming the SVG DTD by URL; both
    go, with the comments and the `<title>` elements (they hold only our node ids, which a
    browser would show as tooltips). The namespace declarations go too: an HTML parser puts
    an inline `<svg>` in the SVG namespace itself, and the page is then free of any URL.
    The maps use no links or images, so nothing else refers outside the page.
    """
    svg = _pipe(graph, "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]
    svg = _TITLE.sub("", _COMMENT.sub("", svg))
    head, rest = svg.split(">", 1)
    return _NAMESPACES.sub("", head) + ">" + rest


def _pipe(graph: graphviz.Digraph, fmt: str) -> bytes:
    try:
        data: bytes = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise ProcessMineError(
            "drawing a map needs Graphviz's 'dot' program, which was not found on PATH; "
            "install Graphviz (e.g. apt install graphviz, brew install graphviz) or write "
            "the DOT source to a .dot file") from None
    except graphviz.CalledProcessError as err:
        detail = (err.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise ProcessMineError("Graphviz could not draw the map: "
                               f"{detail[0] if detail else err}") from err
    return data


__all__ = ["FONT", "FORMATS", "count", "digraph", "label", "left_label", "output_format",
           "render", "step", "svg_inline", "text", "width"]
