"""Declared state: YAML files and folders and Terraform states, loaded into Declarations."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from driftscan.config import Config
from driftscan.desired import terraform
from driftscan.desired.declaration import (
    Check,
    Declaration,
    Leaves,
    compare_versions,
    flatten,
    identity,
)
from driftscan.desired.yaml import load_file, yaml_files
from driftscan.providers import registry
from driftscan.redaction import Fingerprinter, load_fingerprinter


@dataclass
class DesiredSet:
    """Every declaration from the configured inputs, and what Terraform could only count."""

    declarations: list[Declaration] = field(default_factory=list)
    presence_only: dict[str, int] = field(default_factory=dict)  # terraform type → instances
    skipped: dict[str, int] = field(
        default_factory=dict
    )  # terraform type → instances without a key
    files: list[str] = field(default_factory=list)
    _leaves: Leaves | None = field(default=None, init=False, repr=False, compare=False)

    def leaves(self) -> Leaves:
        """The declared documents flattened into leaves, once: load_desired does it at load,
        while each parsed document is at hand, so the diff starts from columns."""
        if self._leaves is None or len(self._leaves.counts) != len(self.declarations):
            self._leaves = flatten(d.declared for d in self.declarations)
        return self._leaves


def _display(path: Path, base: Path) -> str:
    """A path as shown in errors and `desired_source`: relative to the config's folder if inside."""
    try:
        rel = os.path.relpath(path, base)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def load_desired(config: Config, fingerprint: Fingerprinter | None = None) -> DesiredSet:
    """Load every `desired:` entry of the config; errors name file, line and key. Declared
    secrets are fingerprinted with the store's key (`fingerprint`, else loaded from config)."""
    out = DesiredSet()
    fp = fingerprint or load_fingerprinter(config.key_path, create=False)
    tf = terraform.TfLoad(fingerprint=fp)
    base = config.base_dir
    for i, entry in enumerate(config.desired):
        if entry.path is not None:
            for f in yaml_files(config.resolve(entry.path), entry.path):
                shown = _display(f, base)
                out.files.append(shown)
                out.declarations.extend(load_file(f, shown))
        elif entry.terraform is not None:
            key = f"desired[{i}].terraform"
            if entry.terraform.startswith("s3://"):
                out.files.append(entry.terraform)
                terraform.load(entry.terraform, None, key=key, profile=entry.profile,
                               endpoint_url=entry.endpoint_url, out=tf, display=_display_fn(base))  # fmt: skip
            else:
                terraform.load(entry.terraform, config.resolve(entry.terraform), key=key, out=tf,
                               display=_display_fn(base))  # fmt: skip
    out.declarations.extend(tf.declarations)
    out.presence_only, out.skipped = tf.presence_only, tf.skipped
    _place_hosts(config, out.declarations)
    out.leaves()
    return out


def _display_fn(base: Path) -> terraform.DisplayFn:
    return lambda p: _display(p, base)


def _place_hosts(config: Config, decls: list[Declaration]) -> None:
    # Keys a source's config already names (a host's slice is its source and site): knowing
    # the slice lets one unreachable host leave the other hosts' `missing` verdicts standing.
    where: dict[tuple[str, str], tuple[str, str]] = {}
    reg = registry()
    for src in config.sources:
        p = reg.get(src.type)
        if p is not None and p.locate is not None:
            for key, account, region in p.locate(src):
                where.setdefault((p.type, key), (account, region))
    if not where:
        return
    for d in decls:
        placed = where.get((d.provider or "", d.key or ""))
        if placed is not None:
            d.account, d.region = placed


__all__ = ["Check", "Declaration", "DesiredSet", "compare_versions", "identity", "load_desired"]
