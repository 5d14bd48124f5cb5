"""The demo estate: moto, the ARM emulator, fixture hosts and providers' own parts, seeded with the incidents driftscan exists to catch."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from driftscan.sandbox.arm import SUB_PROD, ArmEmulator, demo_estate, resource_id
from driftscan.sandbox.aws import ACCOUNT, ENV, AwsSandbox
from driftscan.sandbox.hosts import Container, Fleet, HostProfile

NGINX_CONF = (
    "worker_processes auto;\nevents { worker_connections 1024; }\nhttp { server_tokens off; }\n"
)
NGINX_HOTFIX = NGINX_CONF.replace(
    "server_tokens off;", "server_tokens off; client_max_body_size 0;"
)
POLICY_TODAY = json.dumps({"version": "2026-11-28", "block": ["cardholder-export"], "log": "all"})
POLICY_YESTERDAY = json.dumps({"version": "2026-11-27", "block": [], "log": "errors"})
PAYMENTS_IMAGE = "registry.example/payments:2.3"
DIGEST_DECLARED = "sha256:" + hashlib.sha256(b"payments 2.3 build 118").hexdigest()
DIGEST_RUNNING = "sha256:" + hashlib.sha256(b"payments 2.3 build 97").hexdigest()
CERT = "/etc/ssl/certs/payments.pem"
FILES = ["/etc/nginx/nginx.conf", "/etc/driftscan-agent/policy.json"]
BASE_PACKAGES = {
    "openssl": "3.0.13-1~deb12u1",
    "openssh-server": "1:9.2p1-2+deb12u3",
    "curl": "7.88.1-10",
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Incident:
    """One seeded problem, the rule expected to find it, and the resource it names."""

    what: str
    rule: str
    resource: str


@dataclass
class DemoPart:
    """A plugged-in provider's share of the demo (Provider.demo): its running sandbox, the
    config it adds, the incidents it seeded, and how to stop it."""

    sources: list[dict[str, Any]]
    stop: Callable[[], None]
    incidents: list[Incident] = field(default_factory=list)
    # `desired:` entries, and `params:` merged into the demo's (a dict value is merged per key,
    # so a part adds its own residency classes beside the others).
    desired: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    # Environment a driftscan process needs to reach the sandbox (tokens the config names).
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class DemoEstate:
    """Everything the demo started, the files it wrote, and the incidents it seeded."""

    workdir: Path
    aws: AwsSandbox
    arm: ArmEmulator
    fleet: Fleet
    config: Path
    incidents: list[Incident] = field(default_factory=list)
    change: Callable[[], str] = field(default=lambda: "")
    parts: list[DemoPart] = field(default_factory=list)

    def stop(self) -> None:
        stops = [p.stop for p in self.parts] + [self.fleet.stop, self.arm.stop, self.aws.stop]
        for stop in stops:
            try:
                stop()
            except Exception:
                continue


def _start_parts(workdir: Path) -> list[DemoPart]:
    """Start the demo part of every registered provider that offers one (Provider.demo)."""
    from driftscan.providers import load_object, registry

    parts: list[DemoPart] = []
    try:
        for provider in registry():
            if provider.demo is not None:
                parts.append(load_object(provider.demo)(workdir / provider.type))
    except BaseException:
        for part in parts:
            part.stop()
        raise
    return parts


def _merge_params(base: dict[str, Any], parts: list[DemoPart]) -> dict[str, Any]:
    out = dict(base)
    for part in parts:
        for k, v in part.params.items():
            out[k] = {**out[k], **v} if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _closed_port() -> int:
    # Bound and released at once: nothing listens there, so a connection is refused.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _host_profiles() -> list[HostProfile]:
    def host(name: str, **kw: Any) -> HostProfile:
        packages = {**BASE_PACKAGES, **kw.pop("packages", {})}
        files = {"/etc/nginx/nginx.conf": NGINX_CONF, **kw.pop("files", {})}
        certs = kw.pop("certs", {CERT: 200})
        return HostProfile(name=name, packages=packages, files=files, certs=certs, **kw)

    nginx = {"nginx": "1.24.0-2"}
    return [
        host("web-01", packages=nginx, services={"nginx": "running"}, certs={CERT: 3}),
        # A manual hot-fix to nginx.conf, and the old nginx: half of a rollout.
        host(
            "web-02",
            packages={"nginx": "1.22.1-9"},
            services={"nginx": "running"},
            files={"/etc/nginx/nginx.conf": NGINX_HOTFIX},
        ),
        host("app-01", containers={"payments": Container(PAYMENTS_IMAGE, DIGEST_RUNNING)}),
        host("agent-01", files={"/etc/driftscan-agent/policy.json": POLICY_YESTERDAY}),
        host("db-01", clock_skew_s=12.0),
    ]


def _aws_incidents(aws: AwsSandbox) -> tuple[list[Incident], set[str]]:
    """Seed the AWS incidents; return them and the keys that must stay undeclared."""
    from driftscan.sandbox.awsestate.base import client

    url = aws.moto.endpoint_url
    east = "us-east-1"
    s3 = client("s3", url, east)
    s3.create_bucket(Bucket="acme-eu-customers")
    s3.put_bucket_tagging(
        Bucket="acme-eu-customers",
        Tagging={
            "TagSet": [
                {"Key": "data_class", "Value": "eu-personal"},
                {"Key": "owner", "Value": "crm"},
            ]
        },
    )
    incidents = [Incident("EU personal data in a US region (AWS)", "data_residency_region",
                          "arn:aws:s3:::acme-eu-customers")]  # fmt: skip
    aws.estate.add("AWS::S3::Bucket", "arn:aws:s3:::acme-eu-customers")

    ec2 = client("ec2", url, east)
    elb = client("elbv2", url, east)
    web = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [f"web-{east}"]}])
    template = web["Reservations"][0]["Instances"][0]
    tg = elb.describe_target_groups(Names=["web-tg-0"])["TargetGroups"][0]

    def launch(name: str, tags: dict[str, str]) -> str:
        inst = ec2.run_instances(
            ImageId=template["ImageId"], MinCount=1, MaxCount=1, InstanceType="t3.micro",
            SubnetId=template["SubnetId"],
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "Name", "Value": name}, *({"Key": k, "Value": v} for k, v in tags.items())]}],
        )["Instances"][0]  # fmt: skip
        return str(inst["InstanceId"])

    # The load balancer still sends traffic to a node that was stopped.
    old = launch("web-old", {"owner": "web"})
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": old, "Port": 80}])
    ec2.stop_instances(InstanceIds=[old])
    aws.estate.add("AWS::EC2::Instance", f"arn:aws:ec2:{east}:{ACCOUNT}:instance/{old}")
    incidents.append(Incident("load-balancer target pointing at a stopped instance",
                              "lb_target_instance_gone", tg["TargetGroupArn"]))  # fmt: skip
    # Left behind by a rollback: runs, carries the PCI tag, declared nowhere.
    zombie = launch("payments-canary-rollback", {"pci": "true", "owner": "payments"})
    zombie_key = f"arn:aws:ec2:{east}:{ACCOUNT}:instance/{zombie}"
    incidents.append(
        Incident("unmanaged instance left after a rollback", "drift_unmanaged_in_scope", zombie_key)
    )
    # The estate's region-0 HTTPS listener serves a certificate whose rotation was missed: it
    # expired overnight (driftscan/sandbox/awsestate/network.py tags it).
    acm = client("acm", url, east)
    for cert in acm.list_certificates()["CertificateSummaryList"]:
        tags = acm.list_tags_for_certificate(CertificateArn=cert["CertificateArn"])["Tags"]
        if {"Key": "incident", "Value": "certificate-expired-overnight"} in tags:
            incidents.append(Incident("a certificate rotation that expired overnight",
                                      "acm_certificate_expiry", cert["CertificateArn"]))  # fmt: skip
    return incidents, {zombie_key}


def _azure_ids(arm: ArmEmulator) -> list[str]:
    keys = [res.id.lower() for res in arm.resources.values()]
    keys += [g["id"].lower() for groups in arm.groups.values() for g in groups]
    return sorted(keys)


def _desired(
    aws: AwsSandbox, arm: ArmEmulator, undeclared: set[str], sql_id: str
) -> dict[str, Any]:
    """What the platform team declared: every seeded resource, with a few attributes pinned."""
    resources: list[dict[str, Any]] = []
    for keys in aws.estate.keys.values():
        resources += [{"key": k} for k in sorted(keys) if k not in undeclared]
    for k in _azure_ids(arm):
        decl: dict[str, Any] = {"key": k}
        if k == sql_id:
            decl["properties.minimalTlsVersion"] = "1.2"
            decl["properties.publicNetworkAccess"] = "Enabled"
        resources.append(decl)
    web = {"packages_min": {"openssl": "3.0.13", "nginx": "1.22"},
           "files": {"/etc/nginx/nginx.conf": {"sha256": _sha(NGINX_CONF)}},
           "services": {"nginx": "running"}, "certs": {CERT: {"min_days_left": 30}}}  # fmt: skip
    hosts = [
        {"name": "web-01", **web},
        {"name": "web-02", **web},
        {"name": "app-01", "packages_min": {"openssl": "3.0.13"},
         "containers": {"payments": {"image": PAYMENTS_IMAGE, "digest": DIGEST_DECLARED}}},
        {"name": "agent-01", "packages_min": {"openssl": "3.0.13"},
         "files": {"/etc/driftscan-agent/policy.json": {"sha256": _sha(POLICY_TODAY)}}},
        {"name": "db-01", "packages_min": {"openssl": "3.0.13"}},
        {"name": "web-03", **web},
    ]  # fmt: skip
    return {"resources": resources, "hosts": hosts}


# The manual PCI DSS requirements the demo attests: one in force, with an evidence file the
# demo writes beside the config (hashed at scan time), and one whose attestation lapsed.
ATTESTED = ("pci-dss-4.0.1", "12.1.1")
EXPIRED = ("pci-dss-4.0.1", "12.10.2")
POLICY_EVIDENCE = "evidence/information-security-policy.md"


def _attestations(workdir: Path) -> list[dict[str, Any]]:
    """The demo's attestations, dated from today so one stays in force and one has expired."""
    from datetime import date, timedelta

    evidence = workdir / POLICY_EVIDENCE
    evidence.parent.mkdir(parents=True, exist_ok=True)
    evidence.write_text(
        "# ACME Payments information security policy (sandbox)\n\n"
        "Approved by the security committee; published on the intranet; read and acknowledged "
        "by every member of staff at onboarding and yearly.\n"
    )
    today = date.today()
    return [
        {"framework": ATTESTED[0], "requirement": ATTESTED[1], "owner": "security-team",
         "statement": "The information security policy is approved, published and acknowledged "
                      "by all staff.", "evidence": POLICY_EVIDENCE,
         "date": (today - timedelta(days=30)).isoformat(),
         "expires": (today + timedelta(days=335)).isoformat()},
        {"framework": EXPIRED[0], "requirement": EXPIRED[1], "owner": "incident-response",
         "statement": "The incident response plan was reviewed and tested in a tabletop exercise.",
         "evidence": "https://wiki.acme.example/security/ir-tabletop",
         "date": (today - timedelta(days=400)).isoformat(),
         "expires": (today - timedelta(days=35)).isoformat()},
    ]  # fmt: skip


def start(workdir: Path, reports_dir: Path) -> DemoEstate:
    """Start the sandbox estate, seed the incidents and write driftscan.yaml + desired state."""
    workdir.mkdir(parents=True, exist_ok=True)
    aws = AwsSandbox()
    arm: ArmEmulator | None = None
    fleet: Fleet | None = None
    parts: list[DemoPart] = []
    try:
        incidents, undeclared = _aws_incidents(aws)
        parts = _start_parts(workdir)
        arm = ArmEmulator(demo_estate(), ca_dir=workdir / "arm-ca").start()
        fleet = Fleet(_host_profiles(), workdir=workdir / "fleet").start()
        sql_id = resource_id(
            SUB_PROD, "rg-payments", "Microsoft.Sql/servers", "acme-payments-sql"
        ).lower()
        eu_storage = resource_id(
            SUB_PROD, "rg-data", "Microsoft.Storage/storageAccounts", "acmeeucustomers"
        )
        incidents += [
            Incident("EU personal data in a US region (Azure)", "data_residency_region", eu_storage.lower()),
            Incident("a config file on one host diverged from its declaration", "host_file_hash", "ssh://web-02"),
            Incident("an agent host holding yesterday's policy file", "host_file_hash", "ssh://agent-01"),
            Incident("an image tag whose running digest differs from the declared one",
                     "host_container_digest", "ssh://app-01"),
            Incident("a manual change to an Azure resource", "drift_changed_in_scope", sql_id),
            Incident("a host whose clock drifts", "host_clock_offset", "ssh://db-01"),
            Incident("two versions of one service across the fleet", "host_package_version_skew", "ssh://web-02"),
            Incident("a certificate expiring in 3 days", "host_cert_expiry", "ssh://web-01"),
            Incident("one unreachable host", "coverage_slice_not_assessed", "dc1/web-03"),
        ]  # fmt: skip
        desired_path = workdir / "desired.yaml"
        desired_path.write_text(
            yaml.safe_dump(_desired(aws, arm, undeclared, sql_id), sort_keys=False)
        )
        from driftscan.providers.ssh.source import SshHost

        ssh = fleet.source("dc1", files=FILES, certs=[CERT], timeout_s=5,
                           extra_hosts=[SshHost(name="web-03", address="127.0.0.1", port=_closed_port(), site="dc1")])  # fmt: skip
        config = {
            "organisation": "ACME Payments (sandbox)",
            "store": str(workdir / "driftscan.duckdb"),
            "sources": [
                aws.source("aws-sandbox", concurrency=16),
                {"name": "azure-sandbox", "type": "azure", "subscriptions": ["all"], "credential": "token_env",
                 "endpoint": arm.url, "ca_bundle": arm.ca_path, "keyvault_domain": arm.keyvault_domain},
                {**ssh.model_dump(mode="json"), "type": "ssh"},
                *(src for part in parts for src in part.sources),
            ],
            "desired": [{"path": str(desired_path)}, *(d for part in parts for d in part.desired)],
            "ignore": [{"type": "AWS::EC2::Instance", "path": "launch_time"}],
            "params": _merge_params({
                "classification_tag": "data_class",
                "residency": {"eu-personal": ["eu-west-1", "eu-central-1", "westeurope", "northeurope"]},
            }, parts),
            "scopes": {"pci": {"tags": {"pci": "true"}}},
            "attestations": _attestations(workdir),
            "reports": {"dir": str(reports_dir), "formats": ["html", "pdf", "json", "csv"]},
        }  # fmt: skip
        config_path = workdir / "driftscan.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))

        def manual_change() -> str:
            # Someone lowers the payments SQL server's minimum TLS version in the portal.
            assert arm is not None
            arm.resources[sql_id].doc["properties"]["minimalTlsVersion"] = "1.0"
            return (
                f"{sql_id}: properties.minimalTlsVersion 1.2 → 1.0 (a manual change in the portal)"
            )

        incidents += [inc for part in parts for inc in part.incidents]
        return DemoEstate(workdir, aws, arm, fleet, config_path, incidents, manual_change, parts)
    except BaseException:
        for part in parts:
            part.stop()
        for thing in (fleet, arm, aws):
            if thing is not None:
                thing.stop()
        raise


def environment(estate: DemoEstate) -> dict[str, str]:
    """Environment variables a driftscan process needs to scan the demo estate."""
    env = {**ENV, "AZURE_ACCESS_TOKEN": estate.arm.token}
    for part in estate.parts:
        env.update(part.env)
    return env


@dataclass
class DemoResult:
    """The two runs, the change between them, and which seeded incidents were found."""

    first: Any
    second: Any
    change: str
    found: list[tuple[Incident, str | None]]  # (incident, the finding's reason or None)
    config: Path

    @property
    def all_found(self) -> bool:
        return all(reason is not None for _, reason in self.found)


# In the reports folder: the report folders the demo wrote there, so the next demo can take
# them away again and nothing else.
DEMO_MARKER = ".driftscan-demo.json"


def _demo_folders(workdir: Path, reports_dir: Path) -> set[str] | None:
    """The report folders an earlier demo left in `reports_dir`; None if it holds others."""
    from driftscan.report.manifest import read_ledger

    listed = {e.folder for e in read_ledger(reports_dir)}
    marker = reports_dir / DEMO_MARKER
    if marker.is_file():
        ours = set(json.loads(marker.read_text(encoding="utf-8")))
    else:
        # A demo from before the marker: its summary names a report in this folder.
        summary = workdir / "summary.json"
        report = json.loads(summary.read_text()).get("report") if summary.is_file() else None
        ours = (
            listed if report and Path(report).parent.resolve() == reports_dir.resolve() else set()
        )
    return listed if listed <= ours else None


def clear_previous(workdir: Path, reports_dir: Path) -> None:
    """Start clean: the earlier demo's store, state and reports go, so its seals and ledger
    never meet the new scans' (which `driftscan verify` would rightly call a mismatch).

    Reports the demo did not write are never touched: then it stops with a ConfigError.
    """
    import shutil

    from driftscan.errors import ConfigError
    from driftscan.report.manifest import LEDGER

    folders = _demo_folders(workdir, reports_dir)
    if folders is None:
        raise ConfigError(
            f"{reports_dir} holds reports the demo did not write; "
            "give the demo a folder of its own with --out"
        )
    for name in folders:
        shutil.rmtree(reports_dir / name, ignore_errors=True)
    for name in (LEDGER, DEMO_MARKER):
        (reports_dir / name).unlink(missing_ok=True)
    for old in workdir.glob("driftscan.duckdb*"):
        old.unlink()


def run_demo(
    workdir: Path, reports_dir: Path, *, progress: Callable[[str], None] = lambda m: None
) -> DemoResult:
    """Start the estate, run twice with a manual change in between, and match the incidents."""
    import os

    from driftscan import pipeline
    from driftscan.config import load_config
    from driftscan.store import Store

    clear_previous(workdir, reports_dir)
    progress(
        "starting the sandbox estate: moto server, HTTPS ARM emulator, SSH fixture hosts, "
        "and the providers' own sandboxes"
    )
    estate = start(workdir, reports_dir)
    saved = {k: os.environ.get(k) for k in environment(estate)}
    os.environ.update(environment(estate))
    try:
        cfg = load_config(estate.config)
        with Store(cfg.store_path) as store:
            progress("run 1: scan, diff, check, report")
            # The first run's report is the "before" picture: HTML, JSON and CSV. The PDF
            # (the slowest format by far) is made of the run the reader opens, the second.
            formats = [f for f in cfg.reports.formats if f != "pdf"]
            before = cfg.model_copy(
                update={"reports": cfg.reports.model_copy(update={"formats": formats})}
            )
            first = pipeline.run(before, store)
            change = estate.change()
            progress(f"between the runs: {change}")
            progress("run 2: scan, diff, check, report")
            second = pipeline.run(cfg, store)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        estate.stop()
    found: list[tuple[Incident, str | None]] = []
    findings = second.check.findings if second.check else []
    for inc in estate.incidents:
        hit = next(
            (f for f in findings
             if f.rule == inc.rule and f.resource == inc.resource and f.status in ("alarm", "not_assessed")),
            None,
        )  # fmt: skip
        found.append((inc, hit.reason if hit else None))
    result = DemoResult(first, second, change, found, estate.config)
    summary = {
        "incidents": [
            {"what": i.what, "rule": i.rule, "resource": i.resource, "finding": r} for i, r in found
        ],
        "change": change,
        "scans": [first.scan.record.scan_id, second.scan.record.scan_id],
        "status": second.scan.record.status,
        "exit_code": second.exit_code,
        "not_assessed": [
            {"source": s.source, "slice": s.name, "reason": s.reason}
            for r in second.scan.runs
            for s in r.slices
            if s.status == "failed"
        ],
        "report": str(second.report.folder) if second.report else None,
        "config": str(estate.config),
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    from driftscan.report.manifest import read_ledger

    if reports_dir.is_dir():
        written = sorted({e.folder for e in read_ledger(reports_dir)})
        (reports_dir / DEMO_MARKER).write_text(json.dumps(written) + "\n", encoding="utf-8")
    return result
