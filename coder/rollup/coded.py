"""Kept for old imports: the coded tables are read and written by :mod:`coder.tables_io` only."""

from coder.tables_io import UTTERANCES_FILE, coded_frame, coded_table_path, iter_coded, read_coded

__all__ = ["UTTERANCES_FILE", "coded_frame", "coded_table_path", "iter_coded", "read_coded"]
