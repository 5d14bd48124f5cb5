"""Evaluate the rule pack for one scan: run each rule's SQL, apply coverage, waivers, lifecycle."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from driftscan.compliance.lifecycle import apply_lifecycle
from driftscan.compliance.rules import Rule, RulePack, load_pack
from driftscan.config import Config, Waiver
from driftscan.errors import ExitCode, RuleError, RuleQueryError
from driftscan.model import Finding, FindingStatus, ScanStatus
from driftscan.providers import registry
from driftscan.store import Store
from driftscan.store import findings as fstore
from driftscan.store import rule_context as rc
from driftscan.store import rule_types as rt

STATUSES: tuple[FindingStatus, ...] = ("ok", "alarm", "error", "skip", "not_assessed")
# When a rule returns one resource twice, the worse verdict is kept.
_RANK = {"alarm": 4, "error": 3, "not_assessed": 2, "skip": 1, "ok": 0}
_CONTRACT = ("resource", "status", "reason")


@dataclass
class CheckResult:
    """The findings of one evaluation of one scan, and what they mean for the exit code."""

    scan_id: int
    scan_status: ScanStatus
    rules_hash: str
    findings: list[Finding]
    rules: list[str] = field(default_factory=list)
    framework: str | None = None
    missing_views: list[str] = field(default_factory=list)
    # Per rule, how many resources of which type it gave a verdict on (saved evaluations).
    evaluated: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, status: FindingStatus, *, waived: bool | None = None) -> int:
        return sum(
            1
            for f in self.findings
            if f.status == status and (waived is None or (f.waiver is not None) == waived)
        )

    @property
    def exit_code(self) -> ExitCode:
        """§3.3: 3 when anything could not be assessed or the scan is incomplete (wins over 1);
        1 for alarms that no waiver covers; 0 otherwise. Waived alarms stay alarms in the
        output but do not fail the run."""
        if self.scan_status != "complete" or any(
            f.status in ("not_assessed", "error") for f in self.findings
        ):
            return ExitCode.INCOMPLETE
        if any(f.status == "alarm" and f.waiver is None for f in self.findings):
            return ExitCode.FINDINGS
        return ExitCode.OK

    def doc(self) -> dict[str, Any]:
        """The findings JSON of design §3.4, in stable order."""
        return {
            "scan": self.scan_id,
            "findings": [finding_doc(f) for f in self.findings],
            "evaluated": self.evaluated,
        }


def finding_doc(f: Finding) -> dict[str, Any]:
    """One finding in the §3.4 JSON shape."""
    return {
        "rule": f.rule,
        "resource": f.resource,
        "status": f.status,
        "reason": f.reason,
        "severity": f.severity,
        "frameworks": f.frameworks,
        "lifecycle": f.lifecycle,
        "waiver": f.waiver,
    }


def scope_defs(config: Config) -> list[rc.ScopeDef]:
    """The configured scopes as plain data; each provider's dimensions from the registry."""
    dims = registry().scope_dimensions()
    return [
        rc.ScopeDef(
            name, dict(s.tags), list(s.regions), list(s.types),
            [rc.ScopeMatch(p, d.columns, s.values(d.name), d.fold_case, d.attrs) for p, d in dims],
        )
        for name, s in sorted(config.scopes.items())
    ]  # fmt: skip


def waiver_rows(config: Config) -> list[rc.WaiverRow]:
    return [
        rc.WaiverRow(w.rule, w.resource, w.owner, w.reason, w.ticket, w.expires)
        for w in config.waivers
    ]


def prepare(
    store: Store, config: Config, pack: RulePack, scan_id: int, *, validating: bool = False
) -> list[str]:
    """Create the per-scan context rules read; returns the per-scan views this store lacks."""
    return rc.prepare_context(
        store,
        scan_id,
        params=pack.params(dict(config.params)),
        scopes=scope_defs(config),
        waivers=waiver_rows(config),
        require_diff=bool(config.desired) and not validating,
    )


def sql_line(rule: Rule, line: int | None) -> int | None:
    """The file line of a line within a rule's SQL (block scalars start on the next line)."""
    if rule.query_line is None:
        return None
    if line is None:
        return rule.query_line
    return rule.query_line + line if "\n" in rule.spec.query.strip() else rule.query_line


def validate_sql(store: Store, config: Config, pack: RulePack) -> list[RuleError]:
    """Prepare every rule's SQL against the store's views; one RuleError per rule that fails."""
    scan_id = _latest(store)
    errors: list[RuleError] = []
    prepare(store, config, pack, scan_id, validating=True)
    try:
        sandbox = _sandbox(store, config)
    finally:
        rc.drop_context(store)
    with sandbox:
        for rule in pack.select():
            try:
                cols = sandbox.columns(rule.spec.query)
            except RuleQueryError as exc:
                errors.append(RuleError(exc.message, file=rule.file, line=sql_line(rule, exc.line)))
                continue
            lacking = [c for c in _CONTRACT if c not in cols]
            if lacking:
                errors.append(
                    RuleError(
                        f"the query must return columns resource, status, reason; "
                        f"missing {', '.join(lacking)}",
                        file=rule.file,
                        line=rule.query_line,
                    )
                )
    return errors


def _sandbox(store: Store, config: Config) -> rc.RuleSandbox:
    """The connection rules run on: a copy of the prepared context that cannot touch the store."""
    return rc.RuleSandbox(store, timeout_s=config.rules_timeout_s, memory_mb=config.rules_memory_mb)


def _latest(store: Store) -> int:
    scans = store.scans(limit=1)
    return scans[0].scan_id if scans else 0


def evaluate(
    config: Config,
    store: Store,
    *,
    pack: RulePack | None = None,
    scan_id: int | None = None,
    framework: str | None = None,
    rules: list[str] | None = None,
    save: bool = True,
) -> CheckResult:
    """Evaluate the rules (all, a framework's, or those named) for one scan (default latest),
    store the findings with their lifecycle, and return them sorted by rule and resource."""
    pack = pack or load_pack(config)
    selected = pack.select(framework, rules)
    record = store.scan(scan_id)
    n = record.scan_id
    missing = prepare(store, config, pack, n)
    try:
        sandbox = _sandbox(store, config)
        unassessed = rc.unassessed(store)
        prior = fstore.prior_state(store, n)
    finally:
        rc.drop_context(store)
    found: list[Finding] = []
    ran_ok: set[str] = set()
    cover = rt.coverage(store, n)
    present: list[set[tuple[str, str]]] = []

    def scan_types() -> set[tuple[str, str]]:
        if not present:
            present.append(rt.scan_types(store, n))
        return present[0]

    # A declared state that could not be read leaves the drift the rules read incomplete: each
    # rule over the drift views says so (not assessed), so the gap never reads as clean.
    unread_states = rc.declared_failures(store, n)
    with sandbox:
        for rule in selected:
            unread = types_not_read(rule, cover, scan_types)
            if unread is not None:
                found.append(unread)
                continue
            if unread_states and any(v in rule.spec.query for v in rc.FROM_DIFF):
                found.extend(_unread_state(rule, file, error) for file, error in unread_states)
            out = _run(sandbox, config, rule, missing)
            if out is not None:
                found.extend(out)
                if not any(f.status == "error" for f in out):
                    ran_ok.add(rule.id)
    scan_day = record.started_at.date()
    found = [_waive(f, config.waivers, scan_day) for f in found]
    by_id = {r.id: r for r in selected}
    final = apply_lifecycle(n, found, prior, ran_ok, by_id, unassessed)
    final.sort(key=lambda f: (f.rule, f.resource))
    evaluated: dict[str, dict[str, int]] = {}
    if save:
        fstore.write_findings(
            store,
            n,
            [_row(f) for f in final],
            rules=[r.id for r in selected],
            rules_hash=pack.hash,
            evaluated_at=datetime.now(UTC),
        )
        ids = {r.id for r in selected}
        evaluated = {k: v for k, v in rt.evaluated_types(store, n).items() if k in ids}
    return CheckResult(
        n, record.status, pack.hash, final, [r.id for r in selected], framework, missing,
        evaluated,
    )  # fmt: skip


def _unread_state(rule: Rule, file: str, error: str) -> Finding:
    return Finding(
        rule=rule.id,
        resource=f"desired:{file}",
        status="not_assessed",
        reason=f"declared state {file} could not be read ({error}): its declarations were "
        "not compared",
        severity=rule.severity,
        frameworks=rule.frameworks,
    )


def _matches(pattern: str, typ: str) -> bool:
    return fnmatch.fnmatchcase(typ.lower(), pattern.lower())


def types_not_read(
    rule: Rule, cover: dict[str, Any], scan_types: Callable[[], set[tuple[str, str]]]
) -> Finding | None:
    """A rule's declared `types:` against the scan's slices: None when a slice that was read
    covered one of them (the rule runs); else one finding, resource `types:<rule id>`:
    `not_assessed` when a source that reads such types is in the scan (its slices failed or
    none of them lists the types), `skip` when no source of the scan is of a kind that has
    them (an AWS rule in a scan of hosts). Types match ignoring case, as glob patterns."""
    pats = rule.spec.types
    if not pats:
        return None
    reg = registry()

    def owners(p: str) -> set[str]:
        return {x.type for x in reg if x.owns_type is not None and x.owns_type(p)}

    def covers(sl: dict[str, Any], p: str) -> bool:
        if sl["types"]:
            return any(_matches(p, t) for t in sl["types"])
        prov = reg.get(sl["provider"])
        if prov is not None and prov.owns_type is not None:
            return bool(prov.owns_type(p))
        # A provider that cannot say which types are its own: only what its slices returned.
        return any(pv == sl["provider"] and _matches(p, t) for pv, t in scan_types())

    failed: list[dict[str, Any]] = []
    for sl in cover["slices"]:
        if any(covers(sl, p) for p in pats):
            if sl["status"] == "ok":
                return None
            failed.append(sl)
    named = ", ".join(pats)

    def finding(status: FindingStatus, reason: str) -> Finding:
        return Finding(rule=rule.id, resource=f"types:{rule.id}", status=status, reason=reason,
                       severity=rule.severity, frameworks=rule.frameworks)  # fmt: skip

    if failed:
        first = failed[0]
        why = f"{first['reason']}: {first['name']}" if first["reason"] else first["name"]
        more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
        return finding("not_assessed", f"no slice with its types ({named}) was read ({why}{more})")
    kinds = set(cover["providers"])
    if any(owners(p) & kinds for p in pats):
        return finding("not_assessed", f"no slice of this scan read its types ({named})")
    return finding("skip", f"no source of this scan reads its types ({named})")


def _run(
    sandbox: rc.RuleSandbox, config: Config, rule: Rule, missing: list[str]
) -> list[Finding] | None:
    def one(resource: str, status: FindingStatus, reason: str, evidence: dict[str, Any]) -> Finding:
        return Finding(
            rule=rule.id,
            resource=resource,
            status=status,
            reason=reason,
            severity=rule.severity,
            frameworks=rule.frameworks,
            evidence=evidence,
        )

    scope = rule.spec.scope
    if scope is not None and scope not in config.scopes:
        return [one(f"scope:{scope}", "skip", f"scope '{scope}' is not configured", {})]
    try:
        rows = sandbox.run(rule.spec.query, scope)
    except RuleQueryError as exc:
        needs = [v for v in missing if v in rule.spec.query]
        why = (
            f" ({', '.join(needs)}: scan not diffed against the declared state; "
            "run `driftscan diff` first)"
            if needs
            else ""
        )
        return [one(f"rule:{rule.id}", "error", f"rule failed: {exc.message}{why}", {})]
    if rows and any(c not in rows[0] for c in _CONTRACT):
        return [one(f"rule:{rule.id}", "error", "rule returned no resource/status/reason", {})]
    best: dict[str, Finding] = {}
    for row in rows:
        resource, status, reason = row["resource"], row["status"], row["reason"]
        na = row["_unassessed"]
        evidence = {k: v for k, v in row.items() if k not in (*_CONTRACT, "_unassessed")}
        if resource is None or status not in STATUSES:
            f = one(
                f"rule:{rule.id}",
                "error",
                f"rule returned an invalid row (resource {resource!r}, status {status!r})",
                {},
            )
        elif na is not None:
            # Never green by omission: a verdict on state that could not be read is no verdict.
            f = one(str(resource), "not_assessed", str(na), evidence)
        else:
            f = one(
                str(resource),
                cast(FindingStatus, status),
                "" if reason is None else str(reason),
                evidence,
            )
        prev = best.get(f.resource)
        if prev is None or (_RANK[f.status], prev.reason) > (_RANK[prev.status], f.reason):
            best[f.resource] = f
    return list(best.values())


def waiver_matches(w: Waiver, rule: str, resource: str) -> bool:
    """A waiver names a rule id and a resource key (glob patterns allowed; the keys of a
    case-insensitive provider ignore case)."""
    if w.rule != rule and not fnmatch.fnmatchcase(rule, w.rule):
        return False
    if w.resource == resource or fnmatch.fnmatchcase(resource, w.resource):
        return True
    p = registry().get(registry().identity(resource).provider)
    return (
        p is not None
        and p.case_insensitive
        and fnmatch.fnmatchcase(resource.lower(), w.resource.lower())
    )


def _waive(f: Finding, waivers: list[Waiver], today: date) -> Finding:
    # Only alarms are waived; an expired waiver stops applying (and waiver_expired reports it).
    if f.status != "alarm":
        return f
    for w in waivers:
        if w.expires >= today and waiver_matches(w, f.rule, f.resource):
            f.waiver = {
                "owner": w.owner,
                "reason": w.reason,
                "ticket": w.ticket,
                "expires": w.expires.isoformat(),
            }
            break
    return f


def _row(f: Finding) -> dict[str, Any]:
    return {
        **finding_doc(f),
        "evidence": f.evidence,
        "first_seen_scan": f.first_seen_scan,
    }
