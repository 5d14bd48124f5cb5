"""Helpers for compliance tests: synthetic estates written straight into a real store."""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from driftscan.assets import rules_dir
from driftscan.compliance import CheckResult, RulePack, evaluate, load_dirs
from driftscan.config import Config
from driftscan.model import Finding, Resource, Slice, SourceRun
from driftscan.store import Store
from driftscan.store.drift import record

ACCOUNT = "111122223333"
SUB = "00000000-0000-0000-0000-000000000001"
T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)

PROVIDER_SOURCE = {"aws": "aws-prod", "azure": "azure-prod", "ssh": "dc1"}


def aws(
    type_: str,
    name: str,
    *,
    region: str = "eu-west-1",
    tags: dict[str, str] | None = None,
    attrs: dict[str, Any] | None = None,
    encrypted: bool | None = None,
    public: bool | None = None,
    key: str | None = None,
) -> Resource:
    """An AWS resource the way the AWS collector records it."""
    return Resource(
        key=key or f"arn:aws:test:{region}:{ACCOUNT}:{name}", provider="aws", source="aws-prod",
        account=ACCOUNT, region=region, type=type_, name=name, tags=tags or {},
        attrs=attrs or {}, encrypted=encrypted, public=public,
    )  # fmt: skip


def azure(
    type_: str,
    name: str,
    *,
    region: str = "westeurope",
    tags: dict[str, str] | None = None,
    properties: dict[str, Any] | None = None,
    encrypted: bool | None = None,
    public: bool | None = None,
) -> Resource:
    """An Azure resource the way the Azure collector records it (ARM properties under attrs)."""
    provider_type = type_.split("/", 1)
    rid = f"/subscriptions/{SUB}/resourcegroups/rg/providers/{provider_type[0]}/{provider_type[1]}/{name}"
    return Resource(
        key=rid.lower(), provider="azure", source="azure-prod", account=SUB, region=region,
        type=type_.lower(), name=name, tags=tags or {},
        attrs={"resourceGroup": "rg", "properties": properties or {}},
        encrypted=encrypted, public=public,
    )  # fmt: skip


def host(name: str, *, site: str = "dc1", **attrs: Any) -> Resource:
    """An SSH host with the attribute names the SSH collector produces."""
    base: dict[str, Any] = {
        "clock": {"offset_s": 0.01, "rtt_s": 0.002}, "machine_id": f"mid-{name}",
        "packages": {}, "services": {}, "ports": [], "containers": {}, "files": {}, "certs": {},
        "not_assessed": {},
    }  # fmt: skip
    base.update(attrs)
    return Resource(key=f"ssh://{name}", provider="ssh", source="dc1", account="dc1",
                    region=site, type="host", name=name, attrs=base)  # fmt: skip


def write_scan(
    store: Store,
    resources: list[Resource],
    *,
    failed: list[Slice] | None = None,
    day: int = 0,
    sources: tuple[str, ...] = (),
) -> int:
    """Write one scan: every resource in an ok slice of its source, plus the failed slices."""
    runs: dict[str, SourceRun] = {}
    by_source: dict[str, list[Resource]] = defaultdict(list)
    for r in resources:
        by_source[r.source].append(r)
    prov = {v: k for k, v in PROVIDER_SOURCE.items()}
    for src in sorted({*by_source, *sources, *(s.source for s in failed or [])}):
        run = SourceRun(src, prov.get(src, "aws"))  # type: ignore[arg-type]
        mine = [r for r in by_source.get(src, []) if not any(_covers(s, r) for s in failed or [])]
        run.resources.extend(mine)
        run.slices.append(Slice(src, run.provider, "all", "ok", types=[], resources=len(mine)))
        run.slices.extend(s for s in failed or [] if s.source == src)
        run.finish()
        runs[src] = run
    at = T0 + timedelta(days=day)
    return store.write_scan(list(runs.values()), started_at=at, finished_at=at,
                            tool_version="test").scan_id  # fmt: skip


def _covers(s: Slice, r: Resource) -> bool:
    return (
        s.source == r.source
        and (s.account is None or s.account == r.account)
        and (s.region is None or s.region == r.region)
        and (not s.types or r.type in s.types)
        and (not s.keys or r.key in s.keys)
    )


def failed_slice(
    source: str, name: str, *, reason: str = "denied", detail: str = "AccessDenied", **cover: Any
) -> Slice:
    """A slice that could not be read."""
    prov = {v: k for k, v in PROVIDER_SOURCE.items()}.get(source, "aws")
    return Slice(source, prov, name, "failed", reason=reason, detail=detail, **cover)  # type: ignore[arg-type]


def put_diff(
    store: Store,
    scan_id: int,
    *,
    drift: list[dict[str, Any]] = (),  # type: ignore[assignment]
    attrs: list[tuple[str, str, str, Any]] = (),  # type: ignore[assignment]
    not_assessed: list[str] = (),  # type: ignore[assignment]
) -> None:
    """Record a diff of scan_id through the drift engine's own writer (no engine run):
    drift rows {resource, type, provider, kind, changes}, declared (key, path, op, value)."""
    # unmanaged resources are declared nowhere, so only the others get a desired source
    drift_rows = [
        {
            "provider": "aws",
            **({} if d["kind"] == "unmanaged" else {"desired_source": "desired/a.yaml:3"}),
            **d,
        }
        for d in drift
    ]
    record(store, scan_id, drift=drift_rows, attrs=attrs, not_assessed=not_assessed)


def config(**data: Any) -> Config:
    """A Config built in memory (validated as if read from driftscan.yaml)."""
    return Config.model_validate({"base_dir": Path("."), **data})


PCI = {"pci": {"tags": {"pci": "true"}}}


@functools.cache
def builtin_pack() -> RulePack:
    """The built-in pack, parsed once per test session (YAML parsing dominates a check)."""
    return load_dirs([rules_dir()])


def check(store: Store, cfg: Config | None = None, **kw: Any) -> CheckResult:
    """Evaluate the built-in pack (default config: the pci scope by tag) for a scan."""
    kw.setdefault("pack", builtin_pack())
    return evaluate(cfg or config(scopes=PCI), store, **kw)


def by_resource(result: CheckResult, rule: str) -> dict[str, Finding]:
    """One rule's findings keyed by resource."""
    return {f.resource: f for f in result.findings if f.rule == rule}


def statuses(result: CheckResult, rule: str) -> dict[str, str]:
    return {k: f.status for k, f in by_resource(result, rule).items()}


def write_rule(folder: Path, rule_id: str, query: str, **fields: Any) -> Path:
    """Write one user rule file (block-scalar query) into folder and return its path."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    doc = {"id": rule_id, "title": f"{rule_id} title", "severity": "high",
           "description": "d", "risk": "r", "remediation": "fix", **fields}  # fmt: skip
    text = (
        yaml.safe_dump(doc, sort_keys=False)
        + "query: |\n"
        + "".join(f"  {line}\n" for line in query.strip().splitlines())
    )
    path = folder / f"{rule_id}.yaml"
    path.write_text(text)
    return path
