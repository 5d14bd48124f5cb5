"""Declared state: YAML files and folders and Terraform states, loaded into Declarations."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.compute as pc

from driftscan.config import Config
from driftscan.desired import terraform
from driftscan.desired.columns import DeclaredColumns, DeclaredTables
from driftscan.desired.columns import columns as to_columns
from driftscan.desired.declaration import (
    Check,
    Declaration,
    compare_versions,
    fingerprint_secrets,
    identity,
)
from driftscan.desired.yaml import load_file, yaml_files
from driftscan.errors import ConfigError
from driftscan.providers import DesiredInput, load_object, registry
from driftscan.redaction import Fingerprinter, load_fingerprinter


class DesiredSet:
    """Every declaration from the configured inputs, and what Terraform could only count.

    Loaders fill it as columns (`DeclaredTables`, Arrow in bounded batches); tests and small
    callers may give Declaration objects, which become columns when compared.
    """

    def __init__(
        self,
        declarations: list[Declaration] | None = None,
        presence_only: dict[str, int] | None = None,
        skipped: dict[str, int] | None = None,
        files: list[str] | None = None,
        *,
        columns: DeclaredTables | None = None,
    ) -> None:
        self._objects = declarations if declarations is not None else []
        self._columns = columns
        self.presence_only: dict[str, int] = presence_only or {}  # terraform type → instances
        self.skipped: dict[str, int] = skipped or {}  # terraform type → instances without a key
        self.files: list[str] = files or []
        # States of a glob that could not be read: what they declare is not assessed.
        self.failed: list[ConfigError] = []
        self.terraform: terraform.TfLoad | None = None  # per type counts (`desired stats`)

    def __len__(self) -> int:
        return len(self._columns) if self._columns is not None else len(self._objects)

    @property
    def declarations(self) -> list[Declaration]:
        """The declarations as objects (rebuilt from the columns of a loaded set: small sets)."""
        if self._columns is not None:
            return list(self._columns.declarations().values())
        return self._objects

    def tables(self) -> DeclaredTables:
        """The declarations as columns: a loaded set's own, else built from the objects."""
        if self._columns is not None:
            return self._columns
        return to_columns(self._objects)


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
    files: list[str] = []
    fp = fingerprint or load_fingerprinter(config.key_path, create=False)
    tf = terraform.TfLoad(fingerprint=fp)
    # Declarations go straight into columns, file by file: the objects of one file at a time.
    cols = DeclaredColumns(place=_host_places(config))
    base = config.base_dir
    for i, entry in enumerate(config.desired):
        if entry.path is not None:
            for f in yaml_files(config.resolve(entry.path), entry.path):
                shown = _display(f, base)
                files.append(shown)
                for d in load_file(f, shown):
                    cols.add_declaration(fingerprint_secrets(d, fp))
        elif entry.terraform is not None:
            key = f"desired[{i}].terraform"
            if entry.terraform.startswith("s3://"):
                files.append(entry.terraform)
                terraform.load(entry.terraform, None, key=key, profile=entry.profile,
                               endpoint_url=entry.endpoint_url, out=tf, display=_display_fn(base))  # fmt: skip
            else:
                terraform.load(entry.terraform, config.resolve(entry.terraform), key=key, out=tf,
                               display=_display_fn(base))  # fmt: skip
        elif (own := entry.provider_kind) is not None:
            kind, where = own
            p = registry()[kind]
            assert p.desired is not None  # the config admits only kinds with a loader
            loader = load_object(p.desired)
            read, decls = loader(
                DesiredInput(
                    key=f"desired[{i}].{kind}", configured=where, path=config.resolve(where),
                    display=_display_fn(base), fingerprint=fp,
                    sources=tuple(s for s in config.sources if s.type == kind), source=entry.source,
                )
            )  # fmt: skip
            files.extend(read)
            for d in decls:
                cols.add_declaration(fingerprint_secrets(d, fp, attributes=False))
    for d in tf.declarations:
        cols.add_declaration(d)  # their secrets were fingerprinted as the state was mapped
    tables = cols.finish()
    refuse_duplicates(tables)
    out = DesiredSet(
        presence_only=tf.presence_only, skipped=tf.skipped, files=files, columns=tables
    )
    out.failed, out.terraform = tf.failed, tf
    return out


def refuse_duplicates(tables: DeclaredTables) -> None:
    """A resource declared twice (by key, or by the same identity) is an error naming every
    place it is declared: which of two declarations is meant cannot be guessed."""
    decls = tables.decls
    ident = pc.coalesce(decls["key"], decls["label"])
    counts = pc.value_counts(ident)
    twice = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(twice) == 0:
        return
    rows = decls.filter(pc.is_in(ident, value_set=twice))
    where: dict[str, list[str]] = {}
    for k, label, src in zip(
        *(rows[c].to_pylist() for c in ("key", "label", "desired_source")), strict=True
    ):
        where.setdefault(str(k or label), []).append(str(src))
    listed = sorted(where)
    lines = [f"'{k}' is declared more than once: at {' and '.join(where[k])}" for k in listed[:100]]
    if len(listed) > 100:  # bounded: a generated file can repeat a million keys
        lines.append(f"... and {len(listed) - 100} more resources declared more than once")
    raise ConfigError(
        "the desired state declares a resource more than once; keep one declaration of each:"
        + "".join(f"\n  {line}" for line in lines)
    )


def _display_fn(base: Path) -> terraform.DisplayFn:
    return lambda p: _display(p, base)


def _host_places(config: Config) -> dict[tuple[str, str], tuple[str, str]]:
    # Keys a source's config already names (a host's slice is its source and site): knowing
    # the slice lets one unreachable host leave the other hosts' `missing` verdicts standing.
    where: dict[tuple[str, str], tuple[str, str]] = {}
    reg = registry()
    for src in config.sources:
        p = reg.get(src.type)
        if p is not None and p.locate is not None:
            for key, account, region in p.locate(src):
                where.setdefault((p.type, key), (account, region))
    return where


__all__ = [
    "Check",
    "Declaration",
    "DeclaredColumns",
    "DeclaredTables",
    "DesiredSet",
    "compare_versions",
    "identity",
    "load_desired",
]
