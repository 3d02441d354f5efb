"""Graphviz maps and HTML/Markdown/JSON reports. The writers land with issue 6."""

__all__: list[str] = []
