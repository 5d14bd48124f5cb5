"""Render one HTML file to PDF with WeasyPrint, in its own process so its memory is returned.

Usage: python -m driftscan.report.pdf_worker IN.html OUT.pdf
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # The report is self-contained; any external reference is a bug, never a network call.
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher

        return dict(default_url_fetcher(url))
    raise ValueError(f"external resource refused: {url[:80]}")


def render(html_path: str, pdf_path: str) -> None:
    warnings.simplefilter("ignore")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        from weasyprint import HTML
    except ImportError:
        raise SystemExit("PDF output needs WeasyPrint: pip install 'driftscan[pdf]'") from None

    HTML(filename=html_path, url_fetcher=_no_fetch).write_pdf(pdf_path)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m driftscan.report.pdf_worker IN.html OUT.pdf", file=sys.stderr)
        return 2
    render(argv[0], argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
