"""The built-in rule pack: each rule passes on a compliant estate and fails on a broken one."""

from __future__ import annotations

from datetime import date

from driftscan.store import Store
from tests.compliance.conftest import (
    ACCOUNT,
    PCI,
    aws,
    azure,
    by_resource,
    check,
    config,
    failed_slice,
    host,
    put_diff,
    statuses,
    write_scan,
)

EU = {"data_class": "eu-personal"}
PCI_TAG = {"pci": "true"}
SHA_A, SHA_B = "a" * 64, "b" * 64


class TestResidency:
    def test_aws_and_azure_outside_allowed_regions_alarm(self, store: Store) -> None:
        """A classified AWS bucket or Azure storage account outside its class's regions alarms."""
        write_scan(store, [
            aws("AWS::S3::Bucket", "eu-ok", region="eu-west-1", tags=EU),
            aws("AWS::S3::Bucket", "eu-bad", region="us-east-1", tags=EU),
            azure("Microsoft.Storage/storageAccounts", "euok", region="westeurope", tags=EU),
            azure("Microsoft.Storage/storageAccounts", "eubad", region="eastus", tags=EU),
            aws("AWS::S3::Bucket", "untagged", region="us-east-1"),
            aws("AWS::S3::Bucket", "other-class", region="us-east-1", tags={"data_class": "public"}),
        ])  # fmt: skip
        cfg = config(params={"residency": {"eu-personal": ["eu-west-1", "WestEurope"]}})
        got = {k.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: v
               for k, v in statuses(check(store, cfg), "data_residency_region").items()}  # fmt: skip
        assert got == {"eu-ok": "ok", "eu-bad": "alarm", "euok": "ok", "eubad": "alarm",
                       "other-class": "skip"}  # fmt: skip

    def test_classification_tag_is_a_parameter(self, store: Store) -> None:
        """param classification_tag names the tag that carries the class."""
        write_scan(store, [aws("AWS::S3::Bucket", "b", region="us-east-1", tags={"cls": "eu"})])
        cfg = config(params={"classification_tag": "cls", "residency": {"eu": ["eu-west-1"]}})
        f = next(iter(by_resource(check(store, cfg), "data_residency_region").values()))
        assert f.status == "alarm" and "allowed: eu-west-1" in f.reason


class TestPci:
    def test_storage_encrypted(self, store: Store) -> None:
        """In-scope storage without encryption alarms; unknown encryption is not assessed."""
        write_scan(store, [
            aws("AWS::S3::Bucket", "enc", tags=PCI_TAG, encrypted=True),
            aws("AWS::RDS::DBInstance", "plain", tags=PCI_TAG, encrypted=False),
            azure("Microsoft.Sql/servers/databases", "notde", tags=PCI_TAG, encrypted=False),
            azure("Microsoft.Storage/storageAccounts", "unknown", tags=PCI_TAG, encrypted=None),
            aws("AWS::S3::Bucket", "out-of-scope", encrypted=False),
        ])  # fmt: skip
        got = {k.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: v
               for k, v in statuses(check(store), "pci_storage_encrypted").items()}  # fmt: skip
        assert got == {"enc": "ok", "plain": "alarm", "notde": "alarm", "unknown": "not_assessed"}

    def test_storage_not_public(self, store: Store) -> None:
        """An in-scope public bucket or SQL server alarms; a private one passes."""
        write_scan(store, [
            aws("AWS::S3::Bucket", "private", tags=PCI_TAG, public=False),
            aws("AWS::S3::Bucket", "open", tags=PCI_TAG, public=True),
            azure("Microsoft.Sql/servers", "sqlpub", tags=PCI_TAG, public=True),
        ])  # fmt: skip
        got = {k.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: v
               for k, v in statuses(check(store), "pci_storage_not_public").items()}  # fmt: skip
        assert got == {"private": "ok", "open": "alarm", "sqlpub": "alarm"}

    def test_tls_min_version(self, store: Store) -> None:
        """Azure minimumTlsVersion / minimalTlsVersion below 1.2, or unset, alarms."""
        write_scan(store, [
            azure("Microsoft.Storage/storageAccounts", "tls12", tags=PCI_TAG,
                  properties={"minimumTlsVersion": "TLS1_2"}),
            azure("Microsoft.Storage/storageAccounts", "tls10", tags=PCI_TAG,
                  properties={"minimumTlsVersion": "TLS1_0"}),
            azure("Microsoft.Storage/storageAccounts", "unset", tags=PCI_TAG, properties={}),
            azure("Microsoft.Sql/servers", "sql12", tags=PCI_TAG, properties={"minimalTlsVersion": "1.2"}),
            azure("Microsoft.Sql/servers", "sqlnone", tags=PCI_TAG, properties={"minimalTlsVersion": "None"}),
            azure("Microsoft.Web/sites", "site", tags=PCI_TAG,
                  properties={"siteConfig": {"minTlsVersion": "1.1"}}),
        ])  # fmt: skip
        got = {k.rsplit("/", 1)[-1]: v
               for k, v in statuses(check(store), "pci_tls_min_version").items()}  # fmt: skip
        assert got == {"tls12": "ok", "tls10": "alarm", "unset": "alarm", "sql12": "ok",
                       "sqlnone": "alarm", "site": "alarm"}  # fmt: skip

    def test_no_open_ingress_on_security_groups_and_nsgs(self, store: Store) -> None:
        """0.0.0.0/0 ingress on an in-scope SG, or an Internet allow rule on an NSG, alarms."""
        rule = {"protocol": "tcp", "from_port": 22, "to_port": 22, "ipv6_cidrs": [], "groups": [],
                "prefix_lists": []}  # fmt: skip
        write_scan(store, [
            aws("AWS::EC2::SecurityGroup", "sg-open", tags=PCI_TAG,
                attrs={"ingress": [{**rule, "cidrs": ["0.0.0.0/0"]}]}),
            aws("AWS::EC2::SecurityGroup", "sg-closed", tags=PCI_TAG,
                attrs={"ingress": [{**rule, "cidrs": ["10.0.0.0/8"]}]}),
            azure("Microsoft.Network/networkSecurityGroups", "nsg-open", tags=PCI_TAG, properties={
                "securityRules": [{"name": "allow-ssh", "properties": {
                    "access": "Allow", "direction": "Inbound", "sourceAddressPrefix": "Internet",
                    "destinationPortRange": "22"}}]}),
            azure("Microsoft.Network/networkSecurityGroups", "nsg-deny", tags=PCI_TAG, properties={
                "securityRules": [{"name": "deny-all", "properties": {
                    "access": "Deny", "direction": "Inbound", "sourceAddressPrefix": "*"}}]}),
        ])  # fmt: skip
        res = check(store)
        got = {k.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: v
               for k, v in statuses(res, "pci_no_open_ingress").items()}  # fmt: skip
        assert got == {"sg-open": "alarm", "sg-closed": "ok", "nsg-open": "alarm", "nsg-deny": "ok"}
        nsg = next(f for k, f in by_resource(res, "pci_no_open_ingress").items() if "nsg-open" in k)
        assert "allow-ssh port 22" in nsg.reason and "1.3.1" in nsg.frameworks["pci-dss-4.0.1"]

    def test_kms_key_rotation(self, store: Store) -> None:
        """An in-scope customer-managed key without rotation alarms; asymmetric keys are skipped."""

        def key(name: str, rotation: bool | None, spec: str = "SYMMETRIC_DEFAULT") -> object:
            return aws("AWS::KMS::Key", name, tags=PCI_TAG, attrs={
                "key_state": "Enabled", "key_manager": "CUSTOMER", "customer_managed": True,
                "rotation_enabled": rotation, "key_spec": spec, "origin": "AWS_KMS"})  # fmt: skip

        write_scan(store, [key("rot", True), key("norot", False), key("rsa", None, "RSA_2048")])  # type: ignore[list-item]
        got = {
            k.rsplit(":", 1)[-1]: v
            for k, v in statuses(check(store), "pci_kms_key_rotation").items()
        }
        assert got == {"rot": "ok", "norot": "alarm", "rsa": "skip"}

    def test_scoped_rule_without_the_scope_is_skipped(self, store: Store) -> None:
        """A scoped rule whose scope is not configured reports one skip, never ok."""
        write_scan(store, [aws("AWS::S3::Bucket", "b", tags=PCI_TAG, encrypted=False)])
        got = statuses(check(store, config()), "pci_storage_encrypted")
        assert got == {"scope:pci": "skip"}


class TestDrift:
    def test_declared_but_never_read_is_not_assessed(self, store: Store) -> None:
        """A declared host that never answered gets a not_assessed verdict, never silence."""
        n = write_scan(store, [aws("AWS::S3::Bucket", "b")])
        put_diff(store, n, not_assessed=["ssh://web-03"])
        got = by_resource(check(store), "drift_declared_missing")
        assert got["ssh://web-03"].status == "not_assessed"
        assert "not read" in got["ssh://web-03"].reason

    def test_missing_unmanaged_and_changed(self, store: Store) -> None:
        """Drift rows become findings: missing everywhere, unmanaged and changed only in scope."""
        inscope = aws("AWS::S3::Bucket", "in", tags=PCI_TAG)
        outside = aws("AWS::S3::Bucket", "out")
        n = write_scan(store, [inscope, outside])
        put_diff(store, n, drift=[
            {"resource": "arn:aws:s3:::gone", "kind": "missing"},
            {"resource": inscope.key, "kind": "changed",
             "changes": [{"path": "versioning", "desired": "Enabled", "actual": "Suspended", "op": "eq"}]},
            {"resource": outside.key, "kind": "changed", "changes": [{"path": "x", "desired": 1, "actual": 2}]},
            {"resource": outside.key + "-z", "kind": "unmanaged"},
        ])  # fmt: skip
        res = check(store)
        assert statuses(res, "drift_declared_missing") == {
            "arn:aws:s3:::gone": "alarm",  # declared, gone
            inscope.key: "ok",  # declared (it drifted), present
            outside.key: "ok",
        }
        changed = by_resource(res, "drift_changed_in_scope")
        assert list(changed) == [inscope.key] and "versioning" in changed[inscope.key].reason
        assert statuses(res, "drift_unmanaged_in_scope") == {}

    def test_unmanaged_in_scope_alarms(self, store: Store) -> None:
        """An undeclared resource inside the pci scope alarms."""
        r = aws("AWS::S3::Bucket", "zombie", tags=PCI_TAG)
        n = write_scan(store, [r])
        put_diff(store, n, drift=[{"resource": r.key, "kind": "unmanaged"}])
        assert statuses(check(store), "drift_unmanaged_in_scope") == {r.key: "alarm"}

    def test_clean_diff_passes(self, store: Store) -> None:
        """A diffed scan without drift raises no drift findings."""
        n = write_scan(store, [aws("AWS::S3::Bucket", "b", tags=PCI_TAG)])
        put_diff(store, n)
        res = check(store, config(scopes=PCI, desired=[{"path": "desired/"}]))
        assert not [f for f in res.findings if f.rule.startswith("drift_")]

    def test_undiffed_scan_is_an_error_when_state_is_declared(self, store: Store) -> None:
        """With declared state configured but the scan not diffed, drift rules error (exit 3)."""
        write_scan(store, [aws("AWS::S3::Bucket", "b")])
        res = check(store, config(scopes=PCI, desired=[{"path": "desired/"}]))
        f = by_resource(res, "drift_declared_missing")["rule:drift_declared_missing"]
        assert f.status == "error" and "driftscan diff" in f.reason
        assert res.exit_code == 3


class TestHosts:
    def test_cert_expiry(self, store: Store) -> None:
        """A certificate under the warning period, expired or missing alarms; unreadable is not assessed."""
        ok = {"days_left": 200, "not_after": "2026-10-01T00:00:00+00:00"}
        write_scan(store, [
            host("good", certs={"/etc/ssl/a.pem": ok}),
            host("soon", certs={"/etc/ssl/a.pem": ok, "/etc/ssl/b.pem": {"days_left": 12, "not_after": "x"}}),
            host("gone", certs={"/etc/ssl/a.pem": {"error": "missing"}}),
            host("unread", certs={"/etc/ssl/a.pem": {"error": "parse: bad PEM"}}),
        ])  # fmt: skip
        res = check(store)
        assert statuses(res, "host_cert_expiry") == {
            "ssh://good": "ok",
            "ssh://soon": "alarm",
            "ssh://gone": "alarm",
            "ssh://unread": "not_assessed",
        }
        assert (
            "/etc/ssl/b.pem expires in 12 days"
            in by_resource(res, "host_cert_expiry")["ssh://soon"].reason
        )
        res = check(store, config(params={"cert_min_days": 5}))
        assert statuses(res, "host_cert_expiry")["ssh://soon"] == "ok"

    def test_clock_offset(self, store: Store) -> None:
        """A clock more than clock_max_offset_s away alarms; an unsampled clock is not assessed."""
        write_scan(store, [
            host("sync", clock={"offset_s": -0.4, "rtt_s": 0.01}),
            host("drift", clock={"offset_s": -42.5, "rtt_s": 0.01}),
            host("nosample", clock=None, not_assessed={"clock": "timeout"}),
        ])  # fmt: skip
        res = check(store)
        assert statuses(res, "host_clock_offset") == {
            "ssh://sync": "ok",
            "ssh://drift": "alarm",
            "ssh://nosample": "not_assessed",
        }
        assert "timeout" in by_resource(res, "host_clock_offset")["ssh://nosample"].reason

    def test_package_below_min_and_version_skew(self, store: Store) -> None:
        """packages_min is compared in Debian order; a declared package at two versions is skew."""
        write_scan(store, [
            host("web-01", packages={"openssl": "3.0.13-0ubuntu3.1", "nginx": "1.24.0-2"}),
            host("web-02", packages={"openssl": "3.0.13-0ubuntu3.1", "nginx": "1.24.0-2"}),
            host("web-03", packages={"openssl": "3.0.2-0ubuntu1.15", "nginx": "1.24.0-2"}),
            host("web-04", packages={"nginx": "1.24.0-2"}),
            host("web-05", packages=None, not_assessed={"packages": "timeout"}),
        ])  # fmt: skip
        n = store.scan().scan_id
        put_diff(store, n, attrs=[
            *[(f"ssh://web-0{i}", "packages.openssl", "min_version", "3.0.13") for i in range(1, 6)],
            ("ssh://web-01", "packages.nginx", "eq", "1.24.0-2"),
        ])  # fmt: skip
        res = check(store)
        assert statuses(res, "host_package_below_min") == {
            "ssh://web-01": "ok", "ssh://web-02": "ok", "ssh://web-03": "alarm",
            "ssh://web-04": "alarm", "ssh://web-05": "not_assessed"}  # fmt: skip
        assert "not installed" in by_resource(res, "host_package_below_min")["ssh://web-04"].reason
        skew = statuses(res, "host_package_version_skew")
        assert skew == {"ssh://web-01": "ok", "ssh://web-02": "ok", "ssh://web-03": "alarm",
                        "ssh://web-04": "ok"}  # fmt: skip
        reason = by_resource(res, "host_package_version_skew")["ssh://web-03"].reason
        assert "3.0.13-0ubuntu3.1 on 2" in reason and "3.0.2-0ubuntu1.15 on 1" in reason

    def test_file_hash(self, store: Store) -> None:
        """A file whose sha256 differs from the declared one, or is missing, alarms."""
        path = "/etc/nginx/nginx.conf"
        write_scan(store, [
            host("same", files={path: {"sha256": SHA_A, "mode": "0644"}}),
            host("diff", files={path: {"sha256": SHA_B, "mode": "0644"}}),
            host("gone", files={path: {"error": "missing"}}),
            host("unhashed", files={}),
        ])  # fmt: skip
        n = store.scan().scan_id
        put_diff(store, n, attrs=[(f"ssh://{h}", f"files.{path}.sha256", "eq", SHA_A)
                                  for h in ("same", "diff", "gone", "unhashed")])  # fmt: skip
        assert statuses(check(store), "host_file_hash") == {
            "ssh://same": "ok", "ssh://diff": "alarm", "ssh://gone": "alarm",
            "ssh://unhashed": "not_assessed"}  # fmt: skip

    def test_container_digest(self, store: Store) -> None:
        """A digest other than the declared one, a declared container not running, or an unpinned
        tag alarms; a matching or digest-pinned container passes."""
        d1, d2 = "sha256:" + SHA_A, "sha256:" + SHA_B
        write_scan(store, [
            host("match", containers={"payments": {"image": "reg/pay:2.3", "digest": d1}}),
            host("old", containers={"payments": {"image": "reg/pay:2.3", "digest": d2}}),
            host("absent", containers={}),
            host("tag", containers={"cache": {"image": "redis:7", "digest": d2}}),
            host("pinned", containers={"cache": {"image": f"redis@{d2}", "digest": d2}}),
        ])  # fmt: skip
        n = store.scan().scan_id
        put_diff(store, n, attrs=[(f"ssh://{h}", "containers.payments.digest", "eq", d1)
                                  for h in ("match", "old", "absent")])  # fmt: skip
        res = check(store)
        assert statuses(res, "host_container_digest") == {
            "ssh://match": "ok", "ssh://old": "alarm", "ssh://absent": "alarm", "ssh://tag": "alarm",
            "ssh://pinned": "ok"}  # fmt: skip
        assert "no digest pinned" in by_resource(res, "host_container_digest")["ssh://tag"].reason

    def test_machine_id_unique(self, store: Store) -> None:
        """Two hosts sharing a machine id both alarm, naming each other."""
        write_scan(store, [host("a", machine_id="m1"), host("b", machine_id="m1"), host("c")])
        res = check(store)
        assert statuses(res, "host_machine_id_unique") == {
            "ssh://a": "alarm",
            "ssh://b": "alarm",
            "ssh://c": "ok",
        }
        assert "shared with ssh://b" in by_resource(res, "host_machine_id_unique")["ssh://a"].reason


def _tg(name: str, targets: list[dict[str, object]]) -> object:
    return aws("AWS::ElasticLoadBalancingV2::TargetGroup", name, attrs={
        "protocol": "HTTP", "port": 80, "target_type": "instance", "targets": targets})  # fmt: skip


def _instance(iid: str, state: str = "running") -> object:
    return aws("AWS::EC2::Instance", iid, key=f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/{iid}",
               attrs={"instance_id": iid, "state": state})  # fmt: skip


class TestLoadBalancers:
    def test_unhealthy_target(self, store: Store) -> None:
        """A target group with an unhealthy target alarms; an all-healthy one passes."""
        write_scan(store, [
            _tg("tg-ok", [{"id": "i-1", "port": 80, "state": "healthy", "reason": None}]),
            _tg("tg-bad", [{"id": "i-1", "port": 80, "state": "healthy", "reason": None},
                           {"id": "i-2", "port": 80, "state": "unhealthy", "reason": "Target.Timeout"}]),
            _instance("i-1"), _instance("i-2"),
        ])  # type: ignore[list-item]  # fmt: skip
        res = check(store)
        got = {k.rsplit(":", 1)[-1]: v for k, v in statuses(res, "lb_target_unhealthy").items()}
        assert got == {"tg-ok": "ok", "tg-bad": "alarm"}

    def test_target_instance_gone(self, store: Store) -> None:
        """A target that is a stopped or vanished instance alarms."""
        write_scan(store, [
            _tg("tg-ok", [{"id": "i-1", "port": 80, "state": "healthy"}]),
            _tg("tg-stopped", [{"id": "i-2", "port": 80, "state": "unused"}]),
            _tg("tg-dead", [{"id": "i-9", "port": 80, "state": "unavailable"}]),
            _instance("i-1"), _instance("i-2", "stopped"),
        ])  # type: ignore[list-item]  # fmt: skip
        res = check(store)
        got = {k.rsplit(":", 1)[-1]: v for k, v in statuses(res, "lb_target_instance_gone").items()}
        assert got == {"tg-ok": "ok", "tg-stopped": "alarm", "tg-dead": "alarm"}
        assert "i-9 no longer exists" in next(
            f.reason
            for k, f in by_resource(res, "lb_target_instance_gone").items()
            if "tg-dead" in k
        )

    def test_instance_in_unread_slice_is_not_assessed(self, store: Store) -> None:
        """When the EC2 slice was not read, a missing target instance is not assessed, not gone."""
        write_scan(store, [_tg("tg", [{"id": "i-7", "port": 80, "state": "healthy"}])],  # type: ignore[list-item]
                   failed=[failed_slice("aws-prod", "ec2", account=ACCOUNT, region="eu-west-1",
                                        types=["AWS::EC2::Instance"])])  # fmt: skip
        assert set(statuses(check(store), "lb_target_instance_gone").values()) == {"not_assessed"}


class TestCoverageAndWaivers:
    def test_failed_slice_is_a_finding(self, store: Store) -> None:
        """Every failed slice is a not_assessed coverage finding with its reason."""
        write_scan(store, [host("web-01")], failed=[
            failed_slice("dc1", "ssh://web-02", reason="unreachable", detail="timed out", keys=["ssh://web-02"])])  # fmt: skip
        got = by_resource(check(store), "coverage_slice_not_assessed")
        assert (
            got["ssh://web-02"].status == "not_assessed"
            and "unreachable" in got["ssh://web-02"].reason
        )
        assert got["dc1/all"].status == "ok"

    def test_expired_waiver_is_reported(self, store: Store) -> None:
        """An expired waiver is itself an alarm; a current one is not."""
        write_scan(store, [aws("AWS::S3::Bucket", "b")])
        w = {
            "rule": "pci_storage_encrypted",
            "owner": "alice",
            "reason": "migration",
            "ticket": "SEC-1",
        }
        cfg = config(scopes=PCI, waivers=[{**w, "resource": "old", "expires": date(2026, 1, 1)},
                                          {**w, "resource": "new", "expires": date(2027, 1, 1)}])  # fmt: skip
        got = by_resource(check(store, cfg), "waiver_expired")
        assert (
            list(got) == ["old"]
            and "SEC-1" in got["old"].reason
            and "2026-01-01" in got["old"].reason
        )
