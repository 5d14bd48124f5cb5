"""What the interchange formats (OSCAL, OCSF, SARIF, JUnit) share: requirement statuses, times, ids.

Every one of them renders from the report document alone, so, like report.json, identical
documents give byte-identical files: no clock, no random UUIDs, sorted everywhere.

Requirement statuses come from the document's `frameworks` (the framework views the report
data carries) when it has them. A document without them (a report written before framework
views existed, or a pack that could not be loaded) gets statuses derived here from the
mappings and the findings, with the same precedence: failed when a mapped rule alarms
(unwaived), else not_assessed when one is not assessed or errored, else, for a requirement no
rule maps (manual), attestation_missing (this derivation knows no attestations), else passed
when its rules evaluated something and not_assessed when they evaluated nothing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from driftscan.report.document import UNMAPPED, FindingDoc, ReportDocument

# Statuses of a requirement (design §6.6), and which of them leave it unmet.
REQUIREMENT_STATUSES = (
    "failed",
    "not_assessed",
    "attestation_missing",
    "attestation_expired",
    "attested",
    "passed",
)
UNMET = frozenset({"failed", "not_assessed", "attestation_missing", "attestation_expired"})

# Everything driftscan derives a UUIDv5 from lives under this one namespace.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:driftscan:report")


@dataclass(frozen=True, slots=True)
class RequirementStatus:
    """One requirement of a framework, its status, and what stands behind it."""

    id: str
    title: str
    status: str
    rules: tuple[str, ...]
    resources: tuple[str, ...] = ()
    attestation: Mapping[str, Any] | None = None
    # Why the status is what it is, when the view says; all resources, when more are behind it
    # than `resources` lists.
    reason: str = ""
    resources_total: int | None = None


@dataclass(frozen=True, slots=True)
class FrameworkStatus:
    """One framework's requirements with their statuses."""

    framework: str
    title: str
    version: str | None
    automated_share: float
    requirements: tuple[RequirementStatus, ...]
    # "views": read from the report's framework views; "derived": worked out here.
    origin: str = "views"
    index: dict[str, RequirementStatus] = field(default_factory=dict, compare=False)


def framework_statuses(doc: ReportDocument) -> list[FrameworkStatus]:
    """Every framework of the report with its requirements' statuses, by framework id."""
    views = _views(doc)
    out = views if views is not None else _derived(doc)
    for fw in out:
        fw.index.update({r.id: r for r in fw.requirements})
    return sorted(out, key=lambda f: f.framework)


def _views(doc: ReportDocument) -> list[FrameworkStatus] | None:
    """The document's framework views (FrameworkView as JSON), or None when it has none."""
    raw = cast("Mapping[str, Any]", doc).get("frameworks")
    if not isinstance(raw, list) or not raw:
        return None
    out = []
    for v in raw:
        if not isinstance(v, Mapping) or not isinstance(v.get("requirements"), list):
            return None
        reqs = []
        for r in v["requirements"]:
            status = str(r.get("status") or "not_assessed")
            reqs.append(
                RequirementStatus(
                    id=str(r["id"]),
                    title=str(r.get("title") or ""),
                    # An unknown word is never read as met.
                    status=status if status in REQUIREMENT_STATUSES else "not_assessed",
                    rules=tuple(sorted(str(x) for x in r.get("rules") or [])),
                    resources=tuple(str(x) for x in r.get("resources") or []),
                    attestation=att if isinstance(att := r.get("attestation"), Mapping) else None,
                    reason=str(r.get("reason") or ""),
                    resources_total=total
                    if isinstance(total := r.get("resources_total"), int)
                    else None,
                )
            )
        out.append(
            FrameworkStatus(
                framework=str(v["framework"]),
                title=str(v.get("title") or v["framework"]),
                version=None if v.get("version") in (None, "") else str(v["version"]),
                automated_share=float(v.get("automated_share") or 0.0),
                requirements=tuple(reqs),
            )
        )
    return out


def _derived(doc: ReportDocument) -> list[FrameworkStatus]:
    findings = doc["findings"]
    by_rule: dict[str, list[FindingDoc]] = {}
    for f in findings or []:
        by_rule.setdefault(f["rule"], []).append(f)
    grouped: dict[str, list[RequirementStatus]] = {}
    titles: dict[str, str] = {}
    for req in doc["requirements"]:
        if req["framework"] == UNMAPPED:
            continue
        fw = req["framework"]
        titles[fw] = req["framework_title"] or fw
        rows = [f for r in req["rules"] for f in by_rule.get(r, [])]
        grouped.setdefault(fw, []).append(
            RequirementStatus(
                id=req["requirement"],
                title=req["title"],
                status=_status(req["rules"], rows, evaluated=findings is not None),
                rules=tuple(req["rules"]),
                resources=tuple(_resources(rows)),
            )
        )
    out = []
    for fw, reqs in grouped.items():
        automated = sum(1 for r in reqs if r.rules)
        out.append(
            FrameworkStatus(
                framework=fw,
                title=titles[fw],
                version=None,
                automated_share=round(automated / len(reqs), 4) if reqs else 0.0,
                requirements=tuple(reqs),
                origin="derived",
            )
        )
    return out


def _status(rules: Iterable[str], rows: list[FindingDoc], *, evaluated: bool) -> str:
    if not list(rules):
        return "attestation_missing"
    if not evaluated:
        return "not_assessed"
    if any(f["status"] == "alarm" and f["waiver"] is None for f in rows):
        return "failed"
    if any(f["status"] in ("not_assessed", "error") for f in rows):
        return "not_assessed"
    # Rules that evaluated nothing, or only skipped, assessed nothing: never read as passed.
    if not any(f["status"] in ("ok", "alarm") for f in rows):
        return "not_assessed"
    return "passed"


def _resources(rows: list[FindingDoc]) -> list[str]:
    """Resource keys behind a requirement, failing and unassessed ones first."""
    rank = {"alarm": 0, "error": 1, "not_assessed": 1}
    best: dict[str, int] = {}
    for f in rows:
        r = rank.get(f["status"], 2)
        best[f["resource"]] = min(r, best.get(f["resource"], r))
    return sorted(best, key=lambda k: (best[k], k))


def rule_frameworks(doc: ReportDocument) -> dict[str, dict[str, list[str]]]:
    """Rule id → framework → the requirement ids it evidences, from the mappings."""
    out: dict[str, dict[str, set[str]]] = {}
    for req in doc["requirements"]:
        if req["framework"] == UNMAPPED:
            continue
        for rid in req["rules"]:
            out.setdefault(rid, {}).setdefault(req["framework"], set()).add(req["requirement"])
    return {
        rid: {fw: sorted(ids) for fw, ids in sorted(fws.items())}
        for rid, fws in sorted(out.items())
    }


# -- times, ids, text ----------------------------------------------------------------------------


def aware(iso: str | None) -> datetime | None:
    """An ISO time from the document as an aware datetime; the store records UTC, so a time
    without a zone is UTC."""
    if not iso:
        return None
    t = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def iso_utc(iso: str | None) -> str | None:
    """`2026-11-01T02:00:00Z`-style UTC time (seconds kept as recorded)."""
    t = aware(iso)
    return None if t is None else t.isoformat().replace("+00:00", "Z")


def epoch_ms(iso: str | None) -> int | None:
    """Milliseconds since the epoch, as OCSF's timestamp_t counts them."""
    t = aware(iso)
    return None if t is None else int(t.timestamp() * 1000)


def uuid5(*parts: object) -> str:
    """A version 5 UUID of `parts` (joined unambiguously): the same content, the same id."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in parts)))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_NOT_TOKEN = re.compile(r"[^A-Za-z0-9._-]")


def token(prefix: str, value: str) -> str:
    """An OSCAL token (letter-led; letters, digits, `.`, `-`, `_`): `req-1.3.1`. Characters a
    token may not hold become `_`, so any requirement id maps to one token."""
    return f"{prefix}-{_NOT_TOKEN.sub('_', value)}" if value else prefix


# XML 1.0 allows tab, newline, carriage return and these ranges; anything else (NUL, other
# control characters, lone surrogates) makes the document unparseable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """`value` as text an XML 1.0 document can hold: forbidden characters as `\\uXXXX`."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group(0)):04x}", str(value))


def one_line(value: object, *, empty: str = "(none)") -> str:
    """`value` as one line with no leading or trailing space (OSCAL titles and prop values)."""
    s = " ".join(str(value).split())
    return s or empty
