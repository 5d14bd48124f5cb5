"""Render one HTML file to PDF with WeasyPrint, in its own process so its memory is returned.

Usage: python -m driftscan.report.pdf_worker IN.html OUT.pdf

The worker dies with the process that started it (named by $DRIFTSCAN_PDF_PARENT): a killed
`driftscan run` leaves no renderer behind. Exit 74 when the disk refuses the PDF, with the
errno's name (ENOSPC, EDQUOT, EIO) as the last line on stderr. Exit 69 (sysexits'
EX_UNAVAILABLE) when WeasyPrint cannot be loaded, because it is not installed or because the
system libraries it loads at import (Pango, through cffi's dlopen) are missing, with one line
saying how to get it as the last line on stderr: the report is then written without its PDF.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import warnings
from typing import Any

from driftscan.errors import ExitCode

PARENT_ENV = "DRIFTSCAN_PDF_PARENT"
EXIT_DISK = int(ExitCode.IOERR)
EXIT_UNAVAILABLE = 69
NO_WEASYPRINT = "PDF not written: WeasyPrint is not installed (pip install 'driftscan[pdf]')"
NO_PANGO = (
    "PDF not written: WeasyPrint needs Pango "
    "(apt-get install libpango-1.0-0 / dnf install pango / brew install pango)"
)
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None) -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux), and exit at once if
    the parent died before that was asked (this process was re-parented in the meantime)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        raise SystemExit(f"pdf_worker: the process that started it ({parent}) has gone")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # The report is self-contained; any external reference is a bug, never a network call.
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher

        return dict(default_url_fetcher(url))
    raise ValueError(f"external resource refused: {url[:80]}")


class Unavailable(Exception):
    """WeasyPrint cannot be loaded here; the message says how to get it."""


def render(html_path: str, pdf_path: str) -> None:
    warnings.simplefilter("ignore")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        from weasyprint import HTML
    except ImportError:
        raise Unavailable(NO_WEASYPRINT) from None
    except OSError as exc:
        # cffi's dlopen of a missing library: "cannot load library 'libpango-1.0-0': ...".
        raise Unavailable(NO_PANGO) from exc

    HTML(filename=html_path, url_fetcher=_no_fetch).write_pdf(pdf_path)


def main(argv: list[str]) -> int:
    parent = os.environ.get(PARENT_ENV, "")
    die_with_parent(int(parent) if parent.isdigit() else None)
    if len(argv) != 2:
        print("usage: python -m driftscan.report.pdf_worker IN.html OUT.pdf", file=sys.stderr)
        return 2
    try:
        render(argv[0], argv[1])
    except Unavailable as exc:
        print(exc, file=sys.stderr)
        return EXIT_UNAVAILABLE
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
            raise
        print(f"{argv[1]}: {exc.strerror}\n{errno.errorcode[exc.errno]}", file=sys.stderr)
        return EXIT_DISK
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
