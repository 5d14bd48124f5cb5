"""Terminal tables: keys shortened in the middle, widths that fit the console."""

from __future__ import annotations

import io
import json
import math
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import isodate
from rich.console import Console

from driftscan.output import (
    Col,
    blob_text,
    csv_safe,
    dumps,
    fit_widths,
    iso_duration,
    print_table,
    shorten,
    shorten_parts,
    table_overhead,
    wrap_words,
)

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg-0/8c8851e93da58fcc"


class TestShorten:
    def test_middle_ellipsis_keeps_both_ends(self) -> None:
        """A long key keeps its head and tail around one ellipsis, at exactly the width asked."""
        out = shorten(ARN, 30)
        assert len(out) == 30 and out.count("…") == 1
        head, tail = out.split("…")
        assert ARN.startswith(head) and ARN.endswith(tail) and len(tail) >= len(head)

    def test_short_keys_are_untouched(self) -> None:
        """A key that fits is returned as it is."""
        assert shorten("ssh://web-01", 12) == "ssh://web-01"


class TestFitWidths:
    COLS = (Col("kind", "fixed"), Col("resource", "key", min=20), Col("reason", "wrap", min=12))

    def test_natural_widths_when_they_fit(self) -> None:
        """A table narrower than the console keeps every column at its natural width."""
        rows = [["changed", "ssh://web-01", "short"]]
        assert fit_widths(self.COLS, rows, 80) == [7, 12, 6]

    def test_wrap_columns_give_way_before_keys(self) -> None:
        """Too wide: the wrapping column shrinks to its minimum before the key column shrinks."""
        rows = [["changed", ARN, "a reason " * 20]]
        widths = fit_widths(self.COLS, rows, 80)
        assert sum(widths) + table_overhead(3) == 80
        assert widths[0] == 7 and widths[2] == 12 and widths[1] == 80 - 7 - 12 - table_overhead(3)

    def test_rendered_table_fits_and_shortens(self) -> None:
        """print_table at 80 columns: no line over 80, the ARN shortened in the middle on one line."""
        buf = io.StringIO()
        rows = [["changed", f"{ARN}\nAWS::ElasticLoadBalancingV2::TargetGroup", "x " * 80]]
        print_table(self.COLS, rows, console=Console(file=buf, width=80))
        lines = buf.getvalue().splitlines()
        assert max(len(line) for line in lines) <= 80
        assert ARN not in buf.getvalue()
        assert any("arn:aws:elas" in line and "…" in line and "8c8851e93da58fcc" in line
                   for line in lines)  # fmt: skip


class TestWrapWords:
    def test_long_words_break_after_a_separator(self) -> None:
        """A path or rule id wider than its column breaks after a dot or underscore, not mid-name."""
        assert wrap_words("properties.minimalTlsVersion", 24) == "properties.\nminimalTlsVersion"
        out = wrap_words("4 alarms from ec2_default_sg_restricts_all", 24).split("\n")
        assert out == ["4 alarms from ec2_", "default_sg_restricts_all"]

    def test_a_piece_without_separator_is_cut_at_the_width(self) -> None:
        assert wrap_words("sha256:" + "ab" * 10, 10).split("\n") == [
            "sha256:", "ababababab", "ababababab"]  # fmt: skip
        assert wrap_words("ab" * 10, 8).split("\n") == ["abababab", "abababab", "abab"]

    def test_a_path_breaks_at_its_slash_before_a_dot(self) -> None:
        """`nginx.conf` stays whole: a `/` that fills half the line wins over a later `.`."""
        assert wrap_words("files./etc/nginx/nginx.conf.sha256", 24).split("\n") == [
            "files./etc/nginx/", "nginx.conf.sha256"]  # fmt: skip

    def test_a_hyphen_is_the_last_resort(self) -> None:
        """`us-east-1` stays whole when a dot fits; a time does not start on a line's end."""
        assert wrap_words("pay.us-east-1.acme.example", 14).split("\n") == [
            "pay.us-east-1.", "acme.example"]  # fmt: skip
        out = wrap_words("expires in 5 days (2026-12-10T09:01:06+00:00)", 24).split("\n")
        assert out[0] == "expires in 5 days"

    def test_indent_is_kept_on_every_line(self) -> None:
        out = wrap_words("path\n  registry.example/ledger:1.4@sha256:dc12", 20).split("\n")
        assert out == ["path", "  registry.example/", "  ledger:1.4@sha256:", "  dc12"]

    def test_random_text_fits_and_keeps_every_character(self) -> None:
        """Whatever the text, no line is wider than asked and only spaces are dropped."""
        rng = random.Random(7)
        alphabet = "abcdefghij._/-:, "
        for _ in range(500):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120)))
            width = rng.randrange(1, 30)
            out = wrap_words(text, width)
            assert all(len(line) <= width for line in out.split("\n")), (text, width)
            assert out.replace("\n", "").replace(" ", "") == text.replace(" ", "")

    def test_rendered_wrap_column_breaks_paths_at_dots(self) -> None:
        """print_table at 80 columns: a diff path wider than its column breaks after a dot."""
        buf = io.StringIO()
        cols = (Col("kind", "fixed"), Col("resource", "key", min=36), Col("path", "wrap", min=24))
        rows = [["changed", ARN, "properties.minimalTlsVersion\n  1.2 → 1.0"]]
        print_table(cols, rows, console=Console(file=buf, width=80))
        text = buf.getvalue()
        assert "minimalTlsVersion" in text and "  1.2 → 1.0" in text
        assert any(line.rstrip(" │").endswith("properties.") for line in text.splitlines())

    def test_one_line_cell_gets_no_extra_line(self) -> None:
        """A wrap cell of one line renders as one line (no empty second line beneath it)."""
        buf = io.StringIO()
        print_table((Col("a", "fixed"), Col("b", "wrap")), [["x", "short"]],
                    console=Console(file=buf, width=80))  # fmt: skip
        assert len(buf.getvalue().splitlines()) == 5  # top, header, rule, the row, bottom


class TestDumps:
    def test_same_bytes_as_the_standard_library_for_ordinary_documents(self) -> None:
        """Sorted keys, two-space indent, unescaped text: what json.dumps wrote, byte for byte."""
        rng = random.Random(11)

        def value(depth: int) -> Any:
            kind = rng.randrange(8 if depth < 3 else 5)
            if kind == 0:
                return rng.randrange(-(2**63), 2**63)
            if kind == 1:
                return round(rng.uniform(-1e6, 1e6), rng.randrange(0, 5))
            if kind == 2:
                return "".join(rng.choice('ab é→"\\\n\t') for _ in range(rng.randrange(6)))
            if kind == 3:
                return rng.choice([True, False, None])
            if kind == 4:
                return []
            if kind in (5, 6):
                return {f"k{rng.randrange(50)}é": value(depth + 1) for _ in range(rng.randrange(4))}
            return [value(depth + 1) for _ in range(rng.randrange(4))]

        for _ in range(300):
            doc = {"d": value(0), "when": datetime(2026, 12, 4, 1, 2, 3, 45, tzinfo=UTC),
                   "day": date(2026, 12, 4), "dec": Decimal("1.50")}  # fmt: skip
            std = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False,
                             default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))  # fmt: skip
            assert dumps(doc) == std

    def test_what_orjson_refuses_still_serialises(self) -> None:
        """An integer beyond 64 bits (a DuckDB HUGEINT) keeps its exact value."""
        assert json.loads(dumps({"n": 2**70, "m": -(2**65)})) == {"n": 2**70, "m": -(2**65)}

    def test_nan_is_null_not_invalid_json(self) -> None:
        def refuse(name: str) -> None:
            raise AssertionError(f"{name} in output")

        out = json.loads(dumps({"x": math.nan, "y": math.inf}), parse_constant=refuse)
        assert out == {"x": None, "y": None}

    def test_fallback_keeps_nan_null_and_surrogates_writable(self) -> None:
        """Beside a 64-bit overflow (the standard library's path) NaN is still null, and a lone
        surrogate stays an escape, so the text encodes as UTF-8."""
        text = dumps({"h": 2**70, "n": math.nan, "l": [math.inf], "s": "a\ud800b", "e": "é"})
        text.encode("utf-8")
        assert '"e": "é"' in text

        def refuse(name: str) -> None:
            raise AssertionError(f"{name} in output")

        back = json.loads(text, parse_constant=refuse)
        assert back == {"h": 2**70, "n": None, "l": [None], "s": "a\ud800b", "e": "é"}


class TestCsvSafe:
    def test_numbers_stay_numbers_and_text_that_looks_like_a_formula_is_quoted(self) -> None:
        assert [csv_safe(v) for v in (-5, -1.5, Decimal("-3.00"), 0)] == [
            "-5",
            "-1.5",
            "-3.00",
            "0",
        ]
        assert [csv_safe(v) for v in ("-1+2", "=cmd()", "@x", "+1")] == [
            "'-1+2", "'=cmd()", "'@x", "'+1"]  # fmt: skip
        assert csv_safe(True) == "True"

    def test_times_keep_fraction_and_offset(self) -> None:
        t = datetime(2020, 1, 1, 5, 0, 0, 500000, tzinfo=UTC)
        assert csv_safe(t) == "2020-01-01T05:00:00.500000+00:00"
        assert csv_safe(datetime(2020, 1, 1, 10, 0, 0, 123456)) == "2020-01-01T10:00:00.123456"


class TestShortenParts:
    def test_separators_survive_and_the_place_keeps_its_tail(self) -> None:
        """`type · declared in` cut to fit keeps ` · ` and the file's line, not a cut mid-way."""
        out = shorten_parts("microsoft.sql/servers · desired.yaml:158", 37)
        assert len(out) == 37 and out.endswith(" · desired.yaml:158") and "…" in out
        out = shorten_parts("apps/Deployment · kubernetes/manifests/payments.yaml:42 (doc 2)", 34)
        assert out.startswith("apps/Deployment · …") and out.endswith(":42 (doc 2)")
        assert len(out) <= 34

    def test_random_lines_fit(self) -> None:
        rng = random.Random(3)
        for _ in range(300):
            parts = ["".join(rng.choice("abc/.:") for _ in range(rng.randrange(1, 40)))
                     for _ in range(rng.randrange(1, 4))]  # fmt: skip
            line, width = " · ".join(parts), rng.randrange(1, 60)
            out = shorten_parts(line, width)
            assert len(out) <= width and (out == line) == (len(line) <= width)


def test_a_one_line_cell_that_wraps_keeps_one_style() -> None:
    """Only a cell's own later lines take its sub-style: a one-line reason wrapped over three
    terminal lines is plain on all three (it was dimmed from its second line)."""
    buf = io.StringIO()
    con = Console(file=buf, width=40, force_terminal=True, color_system="standard")
    cols = (Col("status", "fixed"), Col("reason\nlifecycle", "wrap", min=12, sub_style="dim"))
    print_table(cols, [["alarm", "public reachability was not reported for this resource"]],
                console=con)  # fmt: skip
    body = buf.getvalue().split("┡", 1)[1]
    assert "reported" in body and "\x1b[2m" not in body
    buf.truncate(0)
    buf.seek(0)
    print_table(cols, [["alarm", "short\npersisting"]], console=con)
    assert "\x1b[2mpersisting" in buf.getvalue()


class TestIntervalsAndBlobs:
    def test_random_intervals_read_back_from_iso_8601(self) -> None:
        rnd = random.Random(13)
        spans = [timedelta(0), timedelta(microseconds=-1), timedelta(days=-61, seconds=50400)]
        spans += [timedelta(microseconds=rnd.randint(-(10**14), 10**14)) for _ in range(2000)]
        spans += [timedelta(seconds=rnd.randint(-(10**6), 10**6)) for _ in range(500)]
        for span in spans:
            text = iso_duration(span)
            assert isodate.parse_duration(text) == span, (span, text)
            assert dumps(span) == json.dumps(text)

    def test_random_blobs_read_back_by_duckdb(self) -> None:
        rnd = random.Random(13)
        blobs = [
            b"",
            b"\\",
            bytes(range(256)),
            *(rnd.randbytes(rnd.randint(1, 40)) for _ in range(300)),
        ]
        con = duckdb.connect()
        for blob in blobs:
            text = blob_text(blob)
            assert text.isprintable() and text.isascii()
            assert con.execute("select ?::BLOB", [text]).fetchone() == (blob,)
            assert con.execute("select ?::BLOB::VARCHAR", [text]).fetchone() == (text,)
