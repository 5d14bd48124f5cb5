"""Attestations of manual framework requirements: read, validated, evidence hashed (§6.6)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from driftscan.config import Attestation, Config
from driftscan.errors import ConfigError
from driftscan.inputs import open_regular
from driftscan.yamlsrc import Lines, describe_all, dotted, line_for, load_yaml

AttestationState = Literal["attested", "expired", "not_yet_valid"]

FOLDER = "attestations"
# Bounds on hostile input: an evidence file is hashed whole at every scan, and a folder of
# attestation files is read at every scan.
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
MAX_FILES = 1_000
MAX_ENTRIES = 10_000
# All evidence hashed in one scan: a file named by many attestations is hashed once.
MAX_TOTAL_EVIDENCE_BYTES = 1024 * 1024 * 1024
_CHUNK = 1024 * 1024

_ENTRIES: TypeAdapter[list[Attestation]] = TypeAdapter(list[Attestation])


@dataclass(frozen=True)
class AttestationRecord:
    """One attestation as sealed with a scan: what was stated, by whom, and the evidence's hash."""

    framework: str
    requirement: str
    owner: str
    statement: str
    evidence: str
    sha256: str | None  # of the local evidence file at scan time; None for a URL
    attested_on: date
    expires: date
    declared_in: str  # the file that names it (relative to the config's folder when inside it)
    line: int | None

    def state(self, on: date) -> AttestationState:
        """Whether the attestation stands on day `on` (a scan's date)."""
        if on < self.attested_on:
            return "not_yet_valid"
        return "attested" if on <= self.expires else "expired"

    def doc(self, on: date) -> dict[str, Any]:
        """The attestation as the framework views show it, with its state on day `on`."""
        return {
            "owner": self.owner,
            "statement": self.statement,
            "evidence": self.evidence,
            "sha256": self.sha256,
            "date": self.attested_on.isoformat(),
            "expires": self.expires.isoformat(),
            "declared_in": self.declared_in,
            "line": self.line,
            "state": self.state(on),
        }

    def row(self) -> dict[str, Any]:
        """The store's columns (driftscan.store attestation table)."""
        return {
            "framework": self.framework,
            "requirement": self.requirement,
            "owner": self.owner,
            "statement": self.statement,
            "evidence": self.evidence,
            "sha256": self.sha256,
            "attested_on": self.attested_on,
            "expires": self.expires,
            "declared_in": self.declared_in,
            "line": self.line,
        }

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> AttestationRecord:
        return cls(
            framework=str(r["framework"]),
            requirement=str(r["requirement"]),
            owner=str(r["owner"]),
            statement=str(r["statement"]),
            evidence=str(r["evidence"]),
            sha256=r.get("sha256"),
            attested_on=r["attested_on"],
            expires=r["expires"],
            declared_in=str(r["declared_in"]),
            line=r.get("line"),
        )


@dataclass(frozen=True)
class _Entry:
    spec: Attestation
    file: Path
    loc: tuple[str | int, ...]
    lines: Lines


def is_url(evidence: str) -> bool:
    return evidence.startswith("https://")


def attestation_files(config: Config) -> list[Path]:
    """The YAML files of the `attestations/` folder beside the config, sorted."""
    folder = config.base_dir / FOLDER
    if not folder.is_dir():
        return []
    # Not only regular files: a device or pipe there is refused when read, never skipped.
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.is_dir())
    if len(files) > MAX_FILES:
        raise ConfigError(f"more than {MAX_FILES} attestation files; refusing", file=str(folder))
    return files


def _config_lines(config: Config) -> Lines:
    if not config.attestations or not config.file or not Path(config.file).is_file():
        return {}
    return load_yaml(config.file)[1]


def _entries(config: Config) -> list[_Entry]:
    cfg_file = Path(config.file) if config.file else config.base_dir / "driftscan.yaml"
    lines = _config_lines(config)
    out = [
        _Entry(a, cfg_file, ("attestations", i), lines) for i, a in enumerate(config.attestations)
    ]
    for path in attestation_files(config):
        data, flines = load_yaml(path)
        f = str(path)
        if not isinstance(data, dict) or set(data) != {"attestations"}:
            raise ConfigError(
                "an attestation file holds one key, `attestations:` (a list)", file=f, line=1
            )
        items = data["attestations"]
        if not isinstance(items, list):
            raise ConfigError(
                "expected a list of attestations",
                file=f,
                line=flines.get(("attestations",)),
                key="attestations",
            )
        try:
            specs = _ENTRIES.validate_python(items)
        except ValidationError as exc:
            loc, msg = describe_all(exc, items)[0]
            full = ("attestations", *loc)
            raise ConfigError(msg, file=f, line=line_for(flines, full), key=dotted(full)) from None
        out.extend(_Entry(a, path, ("attestations", i), flines) for i, a in enumerate(specs))
        if len(out) > MAX_ENTRIES:
            raise ConfigError(f"more than {MAX_ENTRIES:,} attestations; refusing", file=f)
    return out


def _error(e: _Entry, key: str, message: str) -> ConfigError:
    loc = (*e.loc, key)
    return ConfigError(message, file=str(e.file), line=line_for(e.lines, loc), key=dotted(loc))


def _display(path: Path, base: Path) -> str:
    # Relative to the config's folder where it lies inside it: the same store reads the same on
    # another machine's checkout.
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def hash_evidence(path: Path) -> str:
    """SHA-256 of a regular file under MAX_EVIDENCE_BYTES (OSError / ValueError otherwise)."""
    with open_regular(path, MAX_EVIDENCE_BYTES) as fh:
        h = hashlib.sha256()
        read = 0
        while chunk := fh.read(_CHUNK):
            read += len(chunk)
            if read > MAX_EVIDENCE_BYTES:  # grew while being read
                raise ValueError(f"grew beyond {MAX_EVIDENCE_BYTES:,} bytes while being hashed")
            h.update(chunk)
    return h.hexdigest()


def load_attestations(
    config: Config, frameworks: dict[str, Any], *, hash_files: bool = True
) -> list[AttestationRecord]:
    """Every attestation of the config and its `attestations/` folder, checked against the
    loaded frameworks (name → compliance.rules.Framework), local evidence hashed.

    Raises ConfigError naming file, line and key: an unknown framework or requirement, a
    requirement attested twice with the same date, an evidence file that is missing, not a
    regular file or too large.
    """
    out: list[AttestationRecord] = []
    hashed: dict[Path, str] = {}
    total = 0
    seen: dict[tuple[str, str, date], str] = {}
    for e in _entries(config):
        a = e.spec
        fw = frameworks.get(a.framework)
        if fw is None:
            known = ", ".join(sorted(frameworks)) or "none"
            raise _error(e, "framework", f"unknown framework '{a.framework}' (loaded: {known})")
        if a.requirement not in fw.requirements:
            raise _error(
                e, "requirement", f"framework {a.framework} has no requirement '{a.requirement}'"
            )
        where = f"{e.file}:{line_for(e.lines, e.loc)}"
        dup = seen.get((a.framework, a.requirement, a.attested_on))
        if dup is not None:
            raise _error(
                e,
                "requirement",
                f"{a.framework} {a.requirement} is attested twice on {a.attested_on} "
                f"(also at {dup})",
            )
        seen[(a.framework, a.requirement, a.attested_on)] = where
        digest: str | None = None
        if not is_url(a.evidence) and hash_files:
            path = Path(os.path.expanduser(a.evidence))
            if not path.is_absolute():
                path = e.file.parent / path  # relative to the file that names it
            try:
                key = path.resolve()
                digest = hashed.get(key)
                if digest is None:
                    total += path.stat().st_size
                    if total > MAX_TOTAL_EVIDENCE_BYTES:
                        raise ValueError(
                            f"takes the evidence of one scan past {MAX_TOTAL_EVIDENCE_BYTES:,} bytes"
                        )
                    digest = hashed[key] = hash_evidence(path)
            except FileNotFoundError:
                raise _error(e, "evidence", f"evidence file {path} does not exist") from None
            except (OSError, ValueError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise _error(e, "evidence", f"evidence file {path} {why}") from None
        out.append(
            AttestationRecord(
                framework=a.framework,
                requirement=a.requirement,
                owner=a.owner,
                statement=a.statement,
                evidence=a.evidence,
                sha256=digest,
                attested_on=a.attested_on,
                expires=a.expires,
                declared_in=_display(e.file, config.base_dir),
                line=line_for(e.lines, e.loc),
            )
        )
    out.sort(key=lambda r: (r.framework, r.requirement, r.attested_on, r.declared_in))
    return out


def configured(config: Config) -> bool:
    """Whether the config or its folder declares any attestation (cheap: no file is read)."""
    return bool(config.attestations) or bool(attestation_files(config))
