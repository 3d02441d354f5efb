"""Readers, one per kind of source: delimited text, Parquet, XES; `source` tells them apart."""
