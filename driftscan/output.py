"""Render lists for the terminal (Rich table), for machines (JSON) and for spreadsheets (CSV)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def default_format(fmt: Format | None) -> Format:
    """Table on a terminal; JSON when piped, so scripts get something parseable."""
    if fmt is not None:
        return fmt
    return Format.table if sys.stdout.isatty() else Format.json


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


def dumps(doc: Any) -> str:
    """Stable JSON: sorted keys, ISO dates, so identical inputs give identical bytes."""
    return json.dumps(doc, indent=2, sort_keys=True, default=_json_default, ensure_ascii=False)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True, default=_json_default, ensure_ascii=False)
    return str(v)


def csv_safe(v: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    s = _cell(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def render_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([csv_safe(v) for v in row])
    return buf.getvalue()


def emit(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: Format,
    *,
    title: str | None = None,
    doc: Any = None,
    console: Console | None = None,
) -> None:
    """Print rows in the chosen format; `doc` overrides the JSON shape where a contract fixes it."""
    if fmt is Format.json:
        payload = doc if doc is not None else [dict(zip(columns, r, strict=True)) for r in rows]
        sys.stdout.write(dumps(payload) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(render_csv(columns, rows))
    else:
        # Rich only for a table: JSON and CSV output never import it.
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False, header_style="bold")
        for c in columns:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*[_cell(v) for v in r])
        (console or Console()).print(table)
