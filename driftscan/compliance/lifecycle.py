"""Finding lifecycle across scans: new, persisting, resolved, regressed."""

from __future__ import annotations

from driftscan.compliance.rules import Rule
from driftscan.model import Finding
from driftscan.store.findings import Prior


def apply_lifecycle(
    scan_id: int,
    findings: list[Finding],
    prior: dict[tuple[str, str], Prior],
    ran_ok: set[str],
    rules: dict[str, Rule],
    unassessed: dict[str, str],
) -> list[Finding]:
    """Label each finding against the last ok/alarm verdict on the same (rule, resource).

    - alarm, last verdict alarm → persisting (first_seen_scan carried over)
    - alarm, alarmed at some point but not last time → regressed (a new episode starts)
    - alarm, never alarmed before → new
    - ok, last verdict alarm → resolved
    A not_assessed or error verdict neither resolves nor interrupts an episode: the next alarm
    is still persisting. An alarm that a rule which ran cleanly no longer reports at all is
    resolved, unless its resource could not be assessed this time (then it is not_assessed).
    """
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for f in findings:
        key = (f.rule, f.resource)
        seen.add(key)
        p = prior.get(key)
        was_alarm = p is not None and p.last_status == "alarm"
        if f.status == "alarm":
            if was_alarm and p is not None:
                f.lifecycle, f.first_seen_scan = "persisting", p.first_seen_scan or scan_id
            elif p is not None and p.ever_alarm:
                f.lifecycle, f.first_seen_scan = "regressed", scan_id
            else:
                f.lifecycle, f.first_seen_scan = "new", scan_id
        elif f.status == "ok" and was_alarm and p is not None:
            f.lifecycle, f.first_seen_scan = "resolved", p.first_seen_scan
        elif f.status in ("not_assessed", "error") and was_alarm and p is not None:
            f.first_seen_scan = p.first_seen_scan
        out.append(f)
    for (rule_id, resource), p in sorted(prior.items()):
        if (rule_id, resource) in seen or p.last_status != "alarm" or rule_id not in ran_ok:
            continue
        rule = rules[rule_id]
        gone = Finding(
            rule=rule_id,
            resource=resource,
            status="ok",
            reason="no longer reported by the rule",
            severity=rule.severity,
            frameworks=rule.frameworks,
            lifecycle="resolved",
            first_seen_scan=p.first_seen_scan,
        )
        if resource in unassessed:
            gone.status, gone.reason, gone.lifecycle = "not_assessed", unassessed[resource], None
        out.append(gone)
    return out
