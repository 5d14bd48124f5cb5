"""Terminal tables: keys shortened in the middle, widths that fit the console."""

from __future__ import annotations

import io

from rich.console import Console

from driftscan.output import Col, fit_widths, print_table, shorten, table_overhead

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
