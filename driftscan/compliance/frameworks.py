"""Framework views: each requirement's status in one scan, from its rules' findings and attestations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from driftscan.compliance.attestations import AttestationRecord
from driftscan.compliance.rules import Framework, RulePack
from driftscan.model import Finding

STATUSES = (
    "failed",
    "not_assessed",
    "attestation_expired",
    "attestation_missing",
    "attested",
    "passed",
)
# Display order: what fails or lacks evidence first (the report and `frameworks show` lead
# with these), then what holds.
_ORDER = {s: i for i, s in enumerate(STATUSES)}
_RESOURCE_ORDER = {"alarm": 0, "error": 1, "not_assessed": 2, "ok": 3, "skip": 4}


@dataclass(frozen=True)
class RequirementView:
    """One requirement's status in one scan and what is behind it."""

    id: str
    title: str
    status: str  # passed|failed|not_assessed|attested|attestation_missing|attestation_expired
    rules: list[str]
    resources: list[str]  # resource keys behind it (alarming ones first)
    attestation: dict[str, Any] | None  # owner, statement, evidence, sha256, date, expires, state
    # Why the status is what it is, in one line.
    reason: str = ""
    manual: bool = False
    # Findings behind it by status (alarm, ok, not_assessed, error, skip).
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameworkView:
    """A whole framework's requirements in one scan, with its automated share."""

    framework: str  # id (file stem)
    title: str
    version: str | None
    scan: int
    automated_share: float  # 0..1: requirements mapped to at least one rule / all
    requirements: list[RequirementView]
    source: str | None = None
    scan_date: date | None = None
    # False when the scan was never checked: every automated part is then not assessed.
    checked: bool = True
    providers: tuple[str, ...] = ()  # a provider-specific benchmark's providers (Framework)

    def counts(self) -> dict[str, int]:
        """Requirements per status, every status named (zero included), in display order."""
        out = dict.fromkeys(STATUSES, 0)
        for r in self.requirements:
            out[r.status] += 1
        return out

    def ordered(self) -> list[RequirementView]:
        """The requirements, failing or evidence-lacking first, then by id."""
        pos = {r.id: i for i, r in enumerate(self.requirements)}
        return sorted(self.requirements, key=lambda r: (_ORDER[r.status], pos[r.id]))

    def doc(self) -> dict[str, Any]:
        """The `frameworks show --format json` shape, in catalogue order."""
        return {
            "framework": self.framework,
            "scan": self.scan,
            "automated_share": round(self.automated_share, 4),
            "requirements": [
                {
                    "id": r.id,
                    "title": r.title,
                    "status": r.status,
                    "rules": r.rules,
                    "resources": r.resources,
                    "attestation": r.attestation,
                }
                for r in self.requirements
            ],
        }


def _attestation(
    fw: str, req: str, attestations: Sequence[AttestationRecord], on: date
) -> AttestationRecord | None:
    """The attestation that speaks for a requirement on day `on`: one in force (the latest
    expiry) before an expired one (the latest expiry), before one not yet in force."""
    mine = [a for a in attestations if a.framework == fw and a.requirement == req]
    if not mine:
        return None
    rank = {"attested": 0, "expired": 1, "not_yet_valid": 2}
    return sorted(mine, key=lambda a: (rank[a.state(on)], -a.expires.toordinal(),
                                       -a.attested_on.toordinal()))[0]  # fmt: skip


def requirement_view(
    fw: Framework,
    req: str,
    by_rule: dict[str, list[Finding]] | None,
    attestations: Sequence[AttestationRecord],
    on: date,
) -> RequirementView:
    """One requirement's status. Precedence: `failed` if any mapped rule alarms (a waived
    alarm does not fail it, as it does not fail `check`); else `not_assessed` if any mapped
    rule is not assessed or errored, or none of them evaluated anything (no verdict is no
    evidence); else the manual part's attestation state (attested, or attestation_missing /
    attestation_expired on the scan's date); else `passed`. `by_rule` None: never checked."""
    rules = list(fw.requirements.get(req, []))
    manual = req in fw.manual
    title = fw.titles.get(req, "")
    found = [f for rid in rules for f in (by_rule or {}).get(rid, [])]
    counts: dict[str, int] = {}
    for f in found:
        counts[f.status] = counts.get(f.status, 0) + 1
    ordered = sorted(found, key=lambda f: (_RESOURCE_ORDER.get(f.status, 9), f.resource))
    resources = list(dict.fromkeys(f.resource for f in ordered if f.status != "skip"))
    att = _attestation(fw.name, req, attestations, on)
    att_doc = att.doc(on) if att is not None else None

    def view(status: str, reason: str) -> RequirementView:
        return RequirementView(req, title, status, rules, resources, att_doc, reason, manual,
                               counts)  # fmt: skip

    if rules:
        if by_rule is None:
            return view("not_assessed", "the scan's controls were not evaluated")
        alarms = [f for f in found if f.status == "alarm" and f.waiver is None]
        if alarms:
            return view("failed", f"{_n(len(alarms), 'alarm')} from {_rules_of(alarms)}")
        unread = [f for f in found if f.status in ("not_assessed", "error")]
        if unread:
            return view(
                "not_assessed",
                f"{_n(len(unread), 'finding')} not assessed, from {_rules_of(unread)}",
            )
        silent = [rid for rid in rules if not any(f.status != "skip" for f in by_rule.get(rid, []))]
        if len(silent) == len(rules):
            return view("not_assessed", "its rules evaluated no resource in this scan")
    if manual:
        part = "manual part" if rules else "manual"
        if att is None:
            return view("attestation_missing", f"{part}: no attestation")
        state = att.state(on)
        if state == "expired":
            return view("attestation_expired", f"{part}: attestation expired on {att.expires}")
        if state == "not_yet_valid":
            return view(
                "attestation_missing",
                f"{part}: the only attestation is dated {att.attested_on}, after the scan",
            )
        lead = "rules passed; manual part attested" if rules else "attested"
        return view("attested", f"{lead} by {att.owner} until {att.expires}")
    waived = sum(1 for f in found if f.status == "alarm")
    return view(
        "passed", "every evaluated resource passed" + (f" ({waived} waived)" if waived else "")
    )


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _rules_of(fs: Sequence[Finding]) -> str:
    # A requirement over many rules names the first few; `rules` and the findings hold all.
    ids = sorted({f.rule for f in fs})
    more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
    return ", ".join(ids[:3]) + more


def framework_view(
    fw: Framework,
    scan_id: int,
    scan_date: date,
    findings: Sequence[Finding] | None,
    attestations: Sequence[AttestationRecord],
) -> FrameworkView:
    """Every requirement of `fw` in one scan (findings None: the scan was never checked)."""
    by_rule: dict[str, list[Finding]] | None = None
    if findings is not None:
        by_rule = {}
        for f in findings:
            by_rule.setdefault(f.rule, []).append(f)
    # Grouped once: a catalogue of hundreds of requirements against thousands of attestations.
    by_req: dict[str, list[AttestationRecord]] = {}
    for a in attestations:
        if a.framework == fw.name:
            by_req.setdefault(a.requirement, []).append(a)
    reqs = [requirement_view(fw, r, by_rule, by_req.get(r, []), scan_date) for r in fw.requirements]
    automated = sum(1 for r in fw.requirements.values() if r)
    return FrameworkView(
        framework=fw.name,
        title=fw.title,
        version=getattr(fw, "version", None),
        scan=scan_id,
        automated_share=automated / len(reqs) if reqs else 0.0,
        requirements=reqs,
        source=getattr(fw, "source", None),
        scan_date=scan_date,
        checked=findings is not None,
        providers=tuple(sorted(getattr(fw, "providers", ()))),
    )


def requirement_statuses(
    store: Any, pack: RulePack, framework_id: str, scan_id: int | None = None
) -> FrameworkView:
    """The view of one loaded framework for a stored scan (default: the latest), from the
    findings and attestations stored with it."""
    from driftscan.store import reads
    from driftscan.store.attestations import attestations_of_scan

    rec = store.scan(scan_id)
    fw = pack.framework(framework_id)
    findings = reads.findings_of_scan(store, rec.scan_id)
    atts = [AttestationRecord.from_row(r) for r in attestations_of_scan(store, rec.scan_id)]
    return framework_view(fw, rec.scan_id, rec.started_at.date(), findings, atts)


def framework_views(store: Any, pack: RulePack, scan_id: int | None = None) -> list[FrameworkView]:
    """The view of every loaded framework for one stored scan, by framework id."""
    return [requirement_statuses(store, pack, name, scan_id) for name in sorted(pack.frameworks)]
