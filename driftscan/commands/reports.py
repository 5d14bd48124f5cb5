"""CLI commands: report (write an evidence pack), verify-report (check one), keygen (a signing key)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperOption

from driftscan.clikit import ConfigOpt, StoreOpt, WaitOpt, command, err, plain
from driftscan.errors import ExitCode
from driftscan.output import dumps

# The pipeline, config, store and report package (cryptography, the renderers' entry points)
# are imported by the commands that use them (start-up time).

# `keygen --out` default: the private key file, in the current directory.
DEFAULT_KEY_FILE = "driftscan-signing.pem"


class _ReportCommand(TyperCommand):
    """`report`, whose --format help names the registered formats: they are read from the
    package metadata only when that help is shown, not whenever the CLI starts."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from driftscan.report import renderer

        for param in self.params:
            if isinstance(param, TyperOption) and param.help:
                param.help = param.help.replace("{formats}", ",".join(renderer.names()))
        super().format_help(ctx, formatter)


def _formats(value: str | None) -> list[str] | None:
    if value is None:
        return None
    from driftscan.report import renderer

    out = [f.strip().lower() for f in value.split(",") if f.strip()]
    registered = renderer.names()
    bad = sorted(set(out) - set(registered))
    if bad or not out:
        what = f"unknown format {plain(', '.join(bad))}" if bad else "no format given"
        err.print(f"[red]error:[/red] {what}; choose from {', '.join(registered)}")
        raise typer.Exit(ExitCode.USAGE)
    return out


@contextmanager
def _printed_here(logger: str) -> Iterator[None]:
    """Keep `logger`'s records off stderr (Python's last-resort handler would print them):
    the command prints what they say itself, labelled, once."""
    quiet = logging.NullHandler()
    logging.getLogger(logger).addHandler(quiet)
    try:
        yield
    finally:
        logging.getLogger(logger).removeHandler(quiet)


@command(cls=_ReportCommand)
def report(
    scan: Annotated[
        int | None, typer.Option("--scan", help="Scan id [default: the latest]")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Comma-separated: {formats} [default: reports.formats]",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Reports folder [default: reports.dir]; each report is a new "
            "scan-NNNNNN folder inside it, chained through its ledger.jsonl",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
    wait: WaitOpt = 120.0,
) -> None:
    """Write the evidence report of a scan: HTML, PDF, JSON and CSV with a sealed manifest.

    The report states what was scanned, when, with which tool version, rule pack hash,
    parameters and chain head, and what could not be assessed. The folder is recorded in
    the store (opened for writing), so `verify` knows every report. The manifest is signed
    when reports.signing_key is set (`driftscan keygen`). For GRC tools, SIEMs,
    code scanning and CI: oscal (OSCAL assessment-results), ocsf (OCSF Compliance Finding
    lines), sarif (SARIF 2.1.0) and junit (JUnit XML).

    Example:  driftscan report --scan 42 --format html,pdf --out reports/out
    """
    from driftscan import pipeline
    from driftscan.config import Config, find_config, load_config
    from driftscan.errors import NoStore
    from driftscan.report.render import check_reports_root
    from driftscan.store import Store

    formats = _formats(fmt)
    cfg_path = find_config(str(config) if config else None)
    # With --store and no config file, report with the defaults rather than refuse.
    cfg = load_config(config) if (cfg_path.exists() or store is None) else Config()
    # Everything the command can find wrong is found before the store is opened: nothing is
    # created, checked or locked for a report that cannot be written.
    path = store or cfg.store_path
    if not path.exists():
        raise NoStore(f"{path}: no store here yet; run `driftscan scan` first")
    check_reports_root(out if out is not None else cfg.resolve(cfg.reports.dir))
    with Store(path, wait_s=wait) as st, _printed_here("driftscan.report.render"):
        res = pipeline.report(cfg, st, scan, formats, out, notify=err.print)
    for note in res.notes:  # what a killed earlier writer left, now cleared up
        err.print(f"[yellow]repaired:[/yellow] {plain(note)}", highlight=False)
    for name, why in sorted(res.not_written.items()):  # e.g. the PDF without Pango
        why = why.removeprefix(f"{name.upper()} not written: ")
        err.print(f"[yellow]not written:[/yellow] {name}: {plain(why)}", highlight=False)
    print(res.folder)
    for name in sorted(res.artifacts):
        err.print(f"  {name}", highlight=False)
    err.print(
        f"  manifest.json sha256 {res.manifest_sha256}"
        + (f" (signed by {res.key_id})" if res.signed else " (unsigned)"),
        highlight=False,
    )


@command("verify-report")
def verify_report(
    path: Annotated[Path, typer.Argument(help="A report folder, or a reports folder with ledger")],
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            help="Require a signature by this key (public key PEM, DER or raw Ed25519; for "
            "KMS, the key's public key)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Check a report's artifacts against its manifest, its signature and the reports chain.

    Says which key signed it ("signed by <key id>") or "unsigned"; --json carries it as
    `signed_by`. Exit 0 when intact, 1 naming every altered, missing or added file, 2 when
    PATH is not a report folder or a reports folder at all.

    Example:  driftscan verify-report reports/out/scan-000042 --key signing.pub.pem
    """
    from driftscan.report.manifest import check_report_path, signers, verify_report_dir

    check_report_path(path)  # not a report at all: a usage error (2), not BROKEN (1)
    problems = verify_report_dir(path, trusted_key=key)
    by = signers(path)
    keys = set(by.values())
    one = next(iter(keys)) if len(keys) == 1 else None  # every report signed by one key
    if as_json:
        doc = {
            "ok": not problems,
            "path": str(path),
            "problems": problems,
            "signed_by": one.key_id if one else None,
            "reports": [
                {
                    "folder": folder,
                    "signed_by": s.key_id if s else None,
                    "public_key_sha256": s.public_key_sha256 if s else None,
                }
                for folder, s in by.items()
            ],
        }
        print(dumps(doc))
        raise typer.Exit(ExitCode.FINDINGS if problems else ExitCode.OK)
    # A signature is only "signed by" once verified; before that, it is what the manifest claims.
    signed = "signed by" if not problems else "claims to be signed by"
    if len(keys) == 1:
        what = f"{signed} {one}" if one else "unsigned"
    elif by:
        what = "signed by more than one key, or partly unsigned"
    else:
        what = "no report could be read" if problems else "no reports yet"
    n = f" ({len(by)} reports)" if len(by) > 1 else ""
    if problems:
        print(f"BROKEN: {len(problems)} problem(s) in {path}{n}")
        for p in problems:
            print(f"  - {p}")
        print(f"  {what}")
    else:
        print(f"ok: {path}{n}, {what}")
    if len(keys) > 1:
        for folder, s in by.items():
            print(f"  {folder}: {f'{signed} {s}' if s else 'unsigned'}")
    raise typer.Exit(ExitCode.FINDINGS if problems else ExitCode.OK)


@command()
def keygen(
    out: Annotated[
        Path,
        typer.Option("--out", help="The private key file (0600); the public key goes beside it"),
    ] = Path(DEFAULT_KEY_FILE),
) -> None:
    """Write an Ed25519 key pair for signing report manifests (reports.signing_key).

    The private key (PEM, mode 0600) goes to --out and its public key to the same name with
    .pub.pem; give the public key to whoever verifies (`verify --key`). Never overwrites an
    existing file (exit 2).

    Example:  driftscan keygen --out /etc/driftscan/signing.pem
    """
    from driftscan.report.signing import keygen as signing_keygen

    try:
        private, public, key_id = signing_keygen(out)
    except FileExistsError as exc:
        err.print(f"[red]error:[/red] {plain(exc)}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    print(private)
    print(public)
    err.print(f"key id {key_id}; set reports.signing_key: {plain(private)}", highlight=False)
