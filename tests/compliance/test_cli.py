"""The check, findings and rules commands through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401  (registers the commands)
from driftscan.assets import rules_dir
from driftscan.clikit import app
from driftscan.compliance import load_dirs
from driftscan.store import Store
from tests.compliance.conftest import ACCOUNT, aws, failed_slice, write_rule, write_scan

runner = CliRunner()
# Every fact the bucket rules read, so the one bucket is assessed by each of them.
BUCKET_ATTRS = {
    "tls_only": True,
    "versioning": "Enabled",
    "mfa_delete": "Enabled",
    "public_access_block": dict.fromkeys(
        ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], True
    ),
}


def setup(tmp_path: Path, *, public: bool, failed: bool = False, **extra: object) -> Path:
    """A driftscan.yaml with the pci scope and a store holding one scan of one bucket."""
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": "store.duckdb", "scopes": {"pci": {"tags": {"pci": "true"}}},
                                   **extra}))  # fmt: skip
    with Store(tmp_path / "store.duckdb") as st:
        write_scan(st, [aws("AWS::S3::Bucket", "b", tags={"pci": "true"}, public=public, encrypted=True,
                               attrs=BUCKET_ATTRS)],
                   failed=[failed_slice("aws-prod", "us", account=ACCOUNT, region="us-east-1")] if failed else None)  # fmt: skip
    return cfg


def run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout


class TestCheck:
    def test_json_shape_and_alarm_exit(self, tmp_path: Path) -> None:
        """check prints the §3.4 findings JSON and exits 1 on an unwaived alarm."""
        cfg = setup(tmp_path, public=True)
        code, out = run("check", "-c", str(cfg), "--format", "json")
        doc = json.loads(out)
        assert code == 1 and doc["scan"] == 1 and set(doc) == {"scan", "findings", "evaluated"}
        f = next(f for f in doc["findings"] if f["rule"] == "pci_storage_not_public")
        assert set(f) == {"rule", "resource", "status", "reason", "severity", "frameworks",
                          "lifecycle", "waiver"}  # fmt: skip
        assert (f["status"], f["lifecycle"], f["frameworks"]["pci-dss-4.0.1"]) == (
            "alarm",
            "new",
            ["1.4.4"],
        )
        assert doc["findings"] == sorted(doc["findings"], key=lambda d: (d["rule"], d["resource"]))

    def test_clean_scan_exits_0_and_output_is_stable(self, tmp_path: Path) -> None:
        """A clean complete scan exits 0, and re-checking it prints identical JSON."""
        cfg = setup(tmp_path, public=False)
        first = run("check", "-c", str(cfg), "--format", "json")
        assert first[0] == 0
        assert run("check", "-c", str(cfg), "--format", "json") == first

    def test_incomplete_scan_exits_3_over_alarms(self, tmp_path: Path) -> None:
        """An incomplete scan exits 3 even when there are alarms too."""
        cfg = setup(tmp_path, public=True, failed=True)
        code, out = run("check", "-c", str(cfg), "--format", "json")
        assert code == 3
        assert any(f["status"] == "not_assessed" for f in json.loads(out)["findings"])

    def test_framework_option(self, tmp_path: Path) -> None:
        """check --framework evaluates only that framework's rules; an unknown one exits 2."""
        cfg = setup(tmp_path, public=True)
        code, out = run(
            "check", "-c", str(cfg), "--framework", "data-residency", "--format", "json"
        )
        mapped = load_dirs([rules_dir()]).frameworks["data-residency"].requirements.values()
        assert "azure_web_https_only" not in {rid for ids in mapped for rid in ids}
        assert code == 0 and {f["rule"] for f in json.loads(out)["findings"]} <= {
            rid for ids in mapped for rid in ids
        }
        assert run("check", "-c", str(cfg), "--framework", "sox")[0] == 2

    def test_bad_rule_folder_exits_2(self, tmp_path: Path) -> None:
        """A rule file error is a configuration error: exit 2."""
        write_rule(tmp_path / "mine", "r1", "SELECT 1", severity="urgent")
        cfg = setup(tmp_path, public=False, rules=["builtin", "mine"])
        assert run("check", "-c", str(cfg))[0] == 2


class TestFindings:
    def test_filters_and_lifecycle(self, tmp_path: Path) -> None:
        """findings lists stored findings filtered by status, rule and framework, with lifecycle."""
        cfg = setup(tmp_path, public=True)
        run("check", "-c", str(cfg))
        code, out = run("findings", "-c", str(cfg), "--status", "alarm", "--format", "json")
        doc = json.loads(out)
        assert code == 1 and [f["rule"] for f in doc["findings"]] == ["pci_storage_not_public"]
        assert doc["findings"][0]["lifecycle"] == "new"
        code, out = run(
            "findings", "-c", str(cfg), "--framework", "data-residency", "--format", "json"
        )
        assert code == 0 and all(
            "data-residency" in f["frameworks"] for f in json.loads(out)["findings"]
        )
        code, out = run(
            "findings", "-c", str(cfg), "--rule", "pci_storage_encrypted", "--format", "csv"
        )
        assert code == 0 and out.splitlines()[0].startswith("rule,resource,status")

    def test_no_findings_yet_exits_2(self, tmp_path: Path) -> None:
        """findings before any check says so and exits 2."""
        cfg = setup(tmp_path, public=True)
        assert run("findings", "-c", str(cfg))[0] == 2


class TestRulesCommands:
    def test_list(self, tmp_path: Path) -> None:
        """rules list shows every rule with its frameworks and the pack hash."""
        cfg = setup(tmp_path, public=False)
        code, out = run("rules", "list", "-c", str(cfg), "--format", "json")
        doc = json.loads(out)
        assert code == 0 and len(doc["rules_hash"]) == 64
        clock = next(r for r in doc["rules"] if r["id"] == "host_clock_offset")
        assert "10.6.1" in clock["frameworks"]["pci-dss-4.0.1"]
        assert clock["types"] == ["host"]

    @pytest.mark.parametrize("broken", [False, True])
    def test_validate(self, tmp_path: Path, broken: bool) -> None:
        """rules validate exits 0 for a valid pack and 2, naming file and line, for bad SQL."""
        write_rule(tmp_path / "mine", "r1", "SELECT key AS resource, 'ok' AS status,\n"
                   + ("nope" if broken else "'x'") + " AS reason FROM resources")  # fmt: skip
        cfg = setup(tmp_path, public=False, rules=["builtin", "mine"])
        res = runner.invoke(app, ["rules", "validate", "-c", str(cfg)])
        assert res.exit_code == (2 if broken else 0)
        if broken:
            assert "r1.yaml:" in res.stderr and "nope" in res.stderr

    def test_validate_names_a_scope_the_config_lacks(self, tmp_path: Path) -> None:
        """A misspelt scope passed validation and turned the rule into a quiet skip."""
        write_rule(tmp_path / "mine", "r1", "SELECT key AS resource, 'ok' AS status, 'x' AS "
                   "reason FROM resources", scope="pcii")  # fmt: skip
        cfg = setup(tmp_path, public=False, rules=["builtin", "mine"])
        res = runner.invoke(app, ["rules", "validate", "-c", str(cfg)])
        assert res.exit_code == 0, res.output
        notes = [ln for ln in res.stderr.splitlines() if ln.startswith("note:")]
        assert notes == [
            "note: scope 'pcii' is not in the config's `scopes:` (configured: pci), so 1 rule "
            "will skip: r1"
        ]


class TestCommandsBringStagesUpToDate:
    """Design §6.3: check diffs a never-diffed scan; report checks a never-checked one."""

    KEY = f"arn:aws:test:eu-west-1:{ACCOUNT}:b"

    def declared(self, tmp_path: Path, **attrs: object) -> Path:
        (tmp_path / "desired.yaml").write_text(
            yaml.safe_dump({"resources": [{"key": self.KEY, "encrypted": True, **attrs}]})
        )
        return setup(tmp_path, public=False, desired=[{"path": "desired.yaml"}])

    def test_check_diffs_first(self, tmp_path: Path) -> None:
        """A scan never diffed is diffed by check: drift rules give verdicts, not `error` (so
        the exit code is not 3), and stderr says what it did."""
        cfg = self.declared(tmp_path)
        res = runner.invoke(app, ["check", "-c", str(cfg), "--format", "json"])
        assert "never diffed" in res.stderr and "diffing it first" in res.stderr
        doc = json.loads(res.stdout)
        drift_rules = [f for f in doc["findings"] if f["rule"].startswith("drift_")]
        assert drift_rules and all(f["status"] != "error" for f in drift_rules)
        assert res.exit_code == 0, res.stdout
        # Recorded like a diff of its own: a second check does not diff again.
        again = runner.invoke(app, ["check", "-c", str(cfg), "--format", "json"])
        assert "never diffed" not in again.stderr and again.exit_code == 0
        code, out = run("diff", "-c", str(cfg), "--format", "json")
        assert code == 0 and json.loads(out)["scan"] == 1

    def test_without_desired_state_check_does_not_diff(self, tmp_path: Path) -> None:
        cfg = setup(tmp_path, public=True)
        res = runner.invoke(app, ["check", "-c", str(cfg), "--format", "json"])
        assert res.exit_code == 1 and "diff" not in res.stderr

    def test_report_checks_first(self, tmp_path: Path) -> None:
        """`scan && report` gives a whole evidence pack: findings evaluated, drift diffed."""
        cfg = self.declared(tmp_path)
        out = tmp_path / "out"
        res = runner.invoke(app, ["report", "-c", str(cfg), "--out", str(out), "--format", "json"])
        assert res.exit_code == 0, res.stdout + res.stderr
        assert "never checked" in res.stderr and "never diffed" in res.stderr
        [folder] = [p for p in out.iterdir() if p.is_dir()]
        doc = json.loads((folder / "report.json").read_text())
        assert doc["findings"] is not None and doc["drift"] is not None
        assert any(f["rule"] == "pci_storage_not_public" for f in doc["findings"])
        code, listed = run("findings", "-c", str(cfg), "--format", "json")
        assert code == 0 and json.loads(listed)["scan"] == 1
