"""CLI commands: the `desired` group (stats: what the declared state's Terraform types compare)."""

from __future__ import annotations

from typing import Any

import typer

from driftscan.clikit import ConfigOpt, FormatOpt, app, command, err, plain
from driftscan.errors import ExitCode
from driftscan.output import Col, Format, default_format, emit, print_table

desired_app = typer.Typer(
    name="desired",
    help="The declared state: what its Terraform states map onto, per type.",
    short_help="The declared state: what its Terraform states map onto, per type.",
    no_args_is_help=True,
)
app.add_typer(desired_app)
_COLUMNS = ["provider", "type", "mapped", "presence_only", "skipped"]
# At 80 columns the longest type names (aws_s3_bucket_server_side_encryption_configuration)
# fold rather than lose their middle; the type's prefix names its provider.
_TABLE = [Col("terraform type", "wrap", min=30), Col("mapped", "fixed"),
          Col("presence", "fixed"), Col("skipped", "fixed")]  # fmt: skip


@command("stats", group=desired_app)
def desired_stats(config: ConfigOpt = None, fmt: FormatOpt = None) -> None:
    """Per Terraform type of the configured states: instances mapped (compared attribute by
    attribute), presence only (a key, nothing compared) and skipped (not compared at all: no
    resource driftscan reads, or no key); the mapped share per provider, and the skipped types.

    Exit 0; 3 when a state of a glob could not be read (its instances are not counted).

    Example:  driftscan desired stats --format json
    """
    from driftscan.config import load_config
    from driftscan.desired import load_desired
    from driftscan.desired.terraform import TfLoad, provider_share, type_stats

    fmt = default_format(fmt)
    ds = load_desired(load_config(config))
    rows = type_stats(ds.terraform or TfLoad())
    share = provider_share(rows)
    skipped = sorted({r.tf_type for r in rows if r.skipped})
    failed = [str(e) for e in ds.failed]
    doc: dict[str, Any] = {
        "types": [
            {"type": r.tf_type, "provider": r.provider, "mapped": r.mapped,
             "presence_only": r.presence_only, "skipped": r.skipped}
            for r in rows
        ],
        "providers": share,
        "skipped_types": skipped,
        "failed": failed,
    }  # fmt: skip
    table = [[r.provider, r.tf_type, r.mapped, r.presence_only, r.skipped] for r in rows]
    title = "Terraform instances mapped: " + (
        ", ".join(
            f"{p} {v['mapped']}/{v['instances']} ({v['mapped_pct']}%)" for p, v in share.items()
        )
        or "none (no Terraform state configured)"
    )
    if fmt is Format.table:
        print_table(_TABLE, [[str(c) for c in r[1:]] for r in table], title=title)
        if skipped:
            err.print("Not compared (skipped): " + ", ".join(skipped))
        for f in failed:
            err.print(f"[yellow]state not read[/yellow]: {plain(f)}")
    else:
        emit(_COLUMNS, table, fmt, doc=doc)
    raise typer.Exit(ExitCode.INCOMPLETE if failed else ExitCode.OK)
