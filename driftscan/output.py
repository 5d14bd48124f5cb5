"""Render lists for the terminal (Rich table), for machines (JSON) and for spreadsheets (CSV)."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import orjson

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


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
    if isinstance(v, timedelta):
        return iso_duration(v)
    if isinstance(v, bytes):
        return blob_text(v)
    return str(v)


def iso_duration(v: timedelta) -> str:
    """An interval (a `query` over times) as ISO 8601, `P33DT4H` or `-PT1.5S`, which other
    tools parse; Python's str() gives `33 days, 4:00:00`."""
    us = v // timedelta(microseconds=1)
    sign, us = ("-" if us < 0 else ""), abs(us)
    days, us = divmod(us, 86_400_000_000)
    hours, us = divmod(us, 3_600_000_000)
    minutes, us = divmod(us, 60_000_000)
    seconds, us = divmod(us, 1_000_000)
    clock = f"{hours}H" * bool(hours) + f"{minutes}M" * bool(minutes)
    if seconds or us:
        clock += f"{seconds}.{us:06d}".rstrip("0").rstrip(".") + "S"
    if not days and not clock:
        return "PT0S"
    return f"{sign}P{f'{days}D' * bool(days)}{'T' * bool(clock)}{clock}"


def blob_text(v: bytes) -> str:
    """A BLOB as DuckDB writes it as text (`blob::VARCHAR`, which `::BLOB` reads back):
    printable ASCII as it is, any other byte, a quote and the backslash as `\\xNN`."""
    return "".join(f"\\x{b:02X}" if b < 32 or b > 126 or b in _BLOB_ESCAPED else chr(b) for b in v)


_BLOB_ESCAPED = frozenset(b"\"'\\")


_ORJSON = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
# Dates keep Python's isoformat and other objects their str(), as json.dumps gave them.
_ORJSON |= orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(doc: Any) -> str:
    """Stable JSON: sorted keys, ISO dates, so identical inputs give identical bytes.

    orjson writes it (a check's 10,000 findings: 0.03 s rather than 0.3 s). What orjson
    refuses (an integer beyond 64 bits, a DuckDB HUGEINT; text with a lone surrogate) goes
    through the standard library instead. A NaN or infinity, which JSON cannot hold, is
    null (the standard library wrote NaN, which no JSON parser reads)."""
    try:
        return orjson.dumps(doc, default=_json_default, option=_ORJSON).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        text = json.dumps(
            _finite(doc), indent=2, sort_keys=True, default=_json_default, ensure_ascii=False
        )
        # A lone surrogate cannot be written as UTF-8: it stays its JSON escape (`\ud800`).
        return text.encode("utf-8", "backslashreplace").decode()


def _finite(v: Any) -> Any:
    """`v` with every NaN and infinity as None, as orjson writes them."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return v


def cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True, default=_json_default, ensure_ascii=False)
    if isinstance(v, bytes):
        return blob_text(v)
    return str(v)


def csv_safe(v: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula. A number stays a number
    (-5, not '-5); a time keeps its fraction and offset (ISO 8601), which a table leaves out."""
    if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, timedelta):
        return iso_duration(v)
    s = cell(v)
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
    # Columns of the same name (a user's query) would share one key of a JSON row.
    columns = unique_names(columns)
    if fmt is Format.json:
        payload = doc if doc is not None else [dict(zip(columns, r, strict=True)) for r in rows]
        sys.stdout.write(dumps(payload) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(render_csv(columns, rows))
    else:
        cells = [[cell(v) for v in r] for r in rows]
        print_table(guess_cols(columns, cells), cells, title=title, console=console)


def unique_names(cols: Sequence[str]) -> list[str]:
    """Column names made unique as DuckDB names a table's: a repeated `a` becomes `a_1`, `a_2`."""
    seen: set[str] = set()
    out: list[str] = []
    for name in cols:
        k, candidate = 0, name
        while candidate in seen:
            k += 1
            candidate = f"{name}_{k}"
        seen.add(candidate)
        out.append(candidate)
    return out


def guess_cols(columns: Sequence[str], cells: Sequence[Sequence[str]]) -> list[Col]:
    """How each column of a plain table fits: short values (ids, times, counts, hashes) keep
    their width, text wraps between words, and long unbroken values (keys, ARNs) are
    shortened in the middle rather than folded into chunks."""
    out = []
    for i, name in enumerate(columns):
        values = [r[i] for r in cells]
        longest = max((_lines_width(v) for v in values), default=0)
        if longest <= 20:
            out.append(Col(name, "fixed"))
        elif any(" " in v for v in values):
            out.append(Col(name, "wrap", min=12))
        else:
            out.append(Col(name, "key", min=16))
    return out


# A terminal table that reads at the console's width (COLUMNS=80 included): every column gets
# an explicit width, so Rich never folds a key into chunks. `fixed` columns (status words) keep
# their width, `wrap` columns (reasons, values) wrap, and `key` columns (resource keys, ARNs)
# are shortened in the middle, where keys differ least; JSON and CSV always carry them whole.
Fit = Literal["fixed", "wrap", "key"]
ELLIPSIS = "…"


@dataclass(frozen=True)
class Col:
    """One column of a terminal table; a cell's lines after the first take `sub_style`."""

    header: str
    fit: Fit = "wrap"
    min: int = 10
    sub_style: str | None = None


def shorten(s: str, width: int) -> str:
    """`s` cut to `width` characters by an ellipsis in the middle (the tail keeps the extra one)."""
    if len(s) <= width:
        return s
    if width <= 1:
        return ELLIPSIS[:width]
    head = (width - 1) // 2
    return s[:head] + ELLIPSIS + s[len(s) - (width - 1 - head) :]


# Where a word too long for its column may break, best first: after a path's `/`, then after
# `.`, `_`, `:`, `,`, `;` or `=` (`properties.minimalTlsVersion`, `azure_nsg_http_from_internet`),
# then after a `-` (which often sits inside a name: `us-east-1`), never mid-name if one fits.
_BREAK_TIERS = ("/", ".:_,;=", "-")


def _cut(word: str, room: int) -> tuple[int, int]:
    """Where to cut `word`, wider than `room`: (position, tier of the separator there, or
    len(_BREAK_TIERS) for none). The last break of the best tier that fills at least half the
    room, else the last break of any tier, else `room` itself."""
    fits = word[:room]
    found, found_tier = 0, len(_BREAK_TIERS)
    for tier, seps in enumerate(_BREAK_TIERS):
        at = max((i + 1 for i, ch in enumerate(fits) if ch in seps), default=0)
        if at >= max(1, room // 2):
            return at, tier
        if at > found:
            found, found_tier = at, tier
    return (found, found_tier) if found else (room, len(_BREAK_TIERS))


def wrap_words(s: str, width: int) -> str:
    """`s` wrapped to `width`, line by line: at spaces, and inside a word longer than the
    width after one of its separators; only a piece with none is cut where the width ends.
    A line's indent (a diff's value under its path) is kept on every line it wraps to."""
    if width < 1:
        return s
    out: list[str] = []
    for text in s.split("\n"):
        line = text.lstrip(" ")
        indent = text[: len(text) - len(line)]
        if len(indent) >= width // 2:
            indent = ""
        out.extend(indent + w for w in _wrap_line(line, width - len(indent)))
    return "\n".join(out)


def _wrap_line(line: str, width: int) -> list[str]:
    out: list[str] = []
    cur = ""
    for word in line.split():
        if cur and len(cur) + 1 + len(word) <= width:
            cur += " " + word
            continue
        if len(word) > width and cur:
            # Wider than the column: its head may end the current line, after a `/`, `.`, `_`
            # and the like; not after a `-` (`(2026-` / `12-10T...`) or mid-name.
            room = width - len(cur) - 1
            at, tier = _cut(word, room) if room > 0 else (0, len(_BREAK_TIERS))
            if tier < 2:
                cur, word = f"{cur} {word[:at]}", word[at:]
        if cur:
            out.append(cur)
        while len(word) > width:
            at, _ = _cut(word, width)
            out.append(word[:at])
            word = word[at:]
        cur = word
    out.append(cur)
    return out


def shorten_parts(line: str, width: int, sep: str = " · ") -> str:
    """`line` cut to `width` as `shorten` does, but one made of parts (`type · declared in`)
    keeps its separators: the widest part gives way first, the first in its middle, the
    others from their start (a place's tail, `payments.yaml:42 (document 2)`, says most)."""
    parts = line.split(sep)
    if len(line) <= width or len(parts) == 1:
        return shorten(line, width)
    lens = [len(p) for p in parts]
    room = width - len(sep) * (len(parts) - 1)
    if room < 4 * len(parts):
        return shorten(line, width)
    while sum(lens) > room:
        widest = max(range(len(lens)), key=lambda i: lens[i])
        lens[widest] -= 1
    out = [shorten(parts[0], lens[0])]
    out += [
        p if len(p) <= n else ELLIPSIS + p[len(p) - n + 1 :]
        for p, n in zip(parts[1:], lens[1:], strict=True)
    ]
    return sep.join(out)


def _lines_width(s: str) -> int:
    return max((len(line) for line in s.split("\n")), default=0)


def table_overhead(n: int) -> int:
    """Characters a Rich table with the default box and padding spends beyond its cells."""
    return 3 * n + 1


def fit_widths(cols: Sequence[Col], rows: Sequence[Sequence[str]], total: int) -> list[int]:
    """Column widths within `total`: each column's natural width while it fits, else `wrap`
    columns give way first, then `key` columns, widest first, down to their `min`."""
    n = len(cols)
    natural = [
        min(max([_lines_width(c.header), *(_lines_width(r[i]) for r in rows)]), total)
        for i, c in enumerate(cols)
    ]
    widths = list(natural)
    floor = [w if c.fit == "fixed" else min(c.min, w) for c, w in zip(cols, natural, strict=True)]
    excess = sum(widths) + table_overhead(n) - total
    everything = ("fixed", "wrap", "key")
    for fits, floors in ((("wrap",), floor), (("key",), floor), (everything, [1] * n)):
        # the last round only when the screen is narrower than the minimums
        idx = [i for i, c in enumerate(cols) if c.fit in fits]
        while excess > 0:
            live = [i for i in idx if widths[i] > floors[i]]
            if not live:
                break
            widest = max(live, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
    return widths


def print_table(
    cols: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    console: Console | None = None,
) -> None:
    """A Rich table that fits the console: `key` cells shortened in the middle, line by line."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    con = console or Console()
    widths = fit_widths(cols, rows, con.width)
    if title and " " not in title and len(title) > con.width:
        title = shorten(title, con.width)  # one long key: shortened as key cells are
    # Text, not markup: a title holds data (a resource key) whose `[...]` is not a style.
    table = Table(title=Text(title) if title else None, show_lines=False, header_style="bold")
    for c, w in zip(cols, widths, strict=True):
        table.add_column(
            _styled(*_lines(c.header), c.sub_style or "dim"),
            width=w,
            no_wrap=c.fit != "wrap",
            overflow="fold" if c.fit == "wrap" else "ellipsis",
        )
    for r in rows:
        cells = []
        for c, w, v in zip(cols, widths, r, strict=True):
            first, rest = _lines(v)
            cells.append(_styled(_fit(first, c.fit, w), rest and _fit(rest, c.fit, w), c.sub_style))
        table.add_row(*cells)
    con.print(table)


def _fit(s: str, fit: Fit, width: int) -> str:
    """Cell text within `width`: key lines shortened, wrap text wrapped, fixed as it is."""
    if fit == "key":
        return "\n".join(shorten_parts(line, width) for line in s.split("\n"))
    return wrap_words(s, width) if fit == "wrap" else s


def _lines(s: str) -> tuple[str, str | None]:
    """A cell's first line and the others (None when it has one line)."""
    first, sep, rest = s.partition("\n")
    return first, rest if sep else None


def _styled(first: str, rest: str | None, sub_style: str | None) -> Text:
    """A cell: its first line (already wrapped, it may be several) plain, the other lines
    (`rest`, None for none) in `sub_style`."""
    from rich.text import Text

    out = Text(first)
    if rest is not None:
        out.append("\n" + rest, style=sub_style or "")
    return out
