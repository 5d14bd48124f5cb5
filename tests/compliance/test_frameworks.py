"""Framework views: each requirement's status (precedence, expiry at the scan date), the
catalogue loader's errors, and `driftscan frameworks list / validate / show`."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401  (registers the commands)
from driftscan.clikit import app
from driftscan.compliance import evaluate, load_dirs
from driftscan.compliance.attestations import AttestationRecord
from driftscan.compliance.frameworks import framework_view, requirement_statuses
from driftscan.compliance.rules import Framework, RulePack
from driftscan.errors import RuleError
from driftscan.model import Finding, FindingStatus, Slice, SourceRun
from driftscan.store import Store
from driftscan.store.attestations import write_attestations
from tests.compliance.conftest import ACCOUNT, T0, aws, config, write_rule

SCAN_DAY = T0.date()
BUCKETS = "SELECT key AS resource, CASE WHEN public THEN 'alarm' ELSE 'ok' END AS status, 'public=' || public AS reason FROM resources WHERE type = 'AWS::S3::Bucket'"
FRAMEWORK = """\
title: Test framework
version: 1.0
source: written for the tests
requirements:
  "1.1": {title: Buckets are private, rules: [r_bucket]}
  "1.2": {title: A written policy, manual: true}
  "1.3": {title: Buckets private and reviewed, rules: [r_bucket], manual: true}
  "2.1": {title: Hosts are hardened, rules: [r_other]}
"""


def make_pack(tmp_path: Path, framework: str = FRAMEWORK) -> RulePack:
    """Two rules and one framework file in a folder of their own."""
    rules = tmp_path / "rules"
    write_rule(rules, "r_bucket", BUCKETS, types=["AWS::S3::Bucket"])
    write_rule(rules, "r_other", BUCKETS.replace("S3::Bucket", "EC2::Instance"),
               types=["AWS::EC2::Instance"])  # fmt: skip
    (rules / "frameworks").mkdir(exist_ok=True)
    (rules / "frameworks" / "fw.yaml").write_text(framework)
    return load_dirs([rules])


def f(rule: str, resource: str, status: FindingStatus, waived: bool = False) -> Finding:
    return Finding(rule=rule, resource=resource, status=status, reason="r", severity="high",
                   waiver={"owner": "o"} if waived else None)  # fmt: skip


def att(req: str, on: date, until: date) -> AttestationRecord:
    return AttestationRecord("fw", req, "alice", "it holds", "e.pdf", "ab" * 32, on, until,
                             "driftscan.yaml", 3)  # fmt: skip


def statuses(fw: Framework, findings: list[Finding] | None,
             atts: list[AttestationRecord] = ()) -> dict[str, str]:  # type: ignore[assignment]  # fmt: skip
    view = framework_view(fw, 1, SCAN_DAY, findings, atts)
    return {r.id: r.status for r in view.requirements}


@pytest.fixture
def fw(tmp_path: Path) -> Framework:
    return make_pack(tmp_path).framework("fw")


IN_FORCE = (SCAN_DAY - timedelta(days=30), SCAN_DAY + timedelta(days=30))
OTHER_OK = [f("r_other", "i-1", "ok")]


class TestPrecedence:
    def test_alarm_fails_even_with_an_attestation(self, fw: Framework) -> None:
        """failed wins: a mapped rule alarms, whatever the manual part's attestation says."""
        got = statuses(fw, [f("r_bucket", "b1", "ok"), f("r_bucket", "b2", "alarm"), *OTHER_OK],
                       [att("1.3", *IN_FORCE)])  # fmt: skip
        assert got["1.1"] == got["1.3"] == "failed"

    def test_not_assessed_before_attestation(self, fw: Framework) -> None:
        """Any mapped rule not assessed (or errored) makes it not_assessed, before the manual part."""
        got = statuses(fw, [f("r_bucket", "b1", "ok"), f("r_bucket", "b2", "not_assessed"),
                            f("r_other", "rule:r_other", "error")], [att("1.3", *IN_FORCE)])  # fmt: skip
        assert (got["1.1"], got["1.3"], got["2.1"]) == ("not_assessed",) * 3

    def test_rules_that_evaluated_nothing_are_not_assessed(self, fw: Framework) -> None:
        """No finding at all (or only skips) is no evidence: not_assessed, never passed."""
        got = statuses(fw, [f("r_other", "types:r_other", "skip")])
        assert got["1.1"] == got["2.1"] == got["1.3"] == "not_assessed"

    def test_attestation_states_of_the_manual_part(self, fw: Framework) -> None:
        """Rules passed: the manual part decides; attested, expired or missing on the scan date."""
        ok = [f("r_bucket", "b1", "ok"), *OTHER_OK]
        assert statuses(fw, ok, [att("1.3", *IN_FORCE)])["1.3"] == "attested"
        assert statuses(fw, ok)["1.3"] == "attestation_missing"
        old = (SCAN_DAY - timedelta(days=400), SCAN_DAY - timedelta(days=1))
        assert statuses(fw, ok, [att("1.3", *old)])["1.3"] == "attestation_expired"

    def test_expiry_is_inclusive_of_the_scan_date(self, fw: Framework) -> None:
        """An attestation expiring on the scan's date still stands; one expiring the day
        before does not; one dated after the scan does not yet."""
        on = SCAN_DAY - timedelta(days=10)
        assert statuses(fw, [], [att("1.2", on, SCAN_DAY)])["1.2"] == "attested"
        assert statuses(fw, [], [att("1.2", on, SCAN_DAY - timedelta(days=1))])["1.2"] == (
            "attestation_expired"
        )
        later = SCAN_DAY + timedelta(days=1)
        assert statuses(fw, [], [att("1.2", later, later)])["1.2"] == "attestation_missing"

    def test_an_attestation_in_force_wins_over_an_expired_one(self, fw: Framework) -> None:
        """Of several attestations, one in force speaks for the requirement."""
        old = (SCAN_DAY - timedelta(days=400), SCAN_DAY - timedelta(days=35))
        view = framework_view(fw, 1, SCAN_DAY, [], [att("1.2", *old), att("1.2", *IN_FORCE)])
        r = next(r for r in view.requirements if r.id == "1.2")
        assert r.status == "attested" and r.attestation is not None
        assert r.attestation["expires"] == IN_FORCE[1].isoformat()

    def test_all_ok_passes_and_a_waived_alarm_does_not_fail(self, fw: Framework) -> None:
        """Every evaluated resource ok (a waived alarm counts as accepted) → passed."""
        got = statuses(fw, [f("r_bucket", "b1", "ok"), f("r_bucket", "b2", "alarm", waived=True),
                            *OTHER_OK])  # fmt: skip
        assert got["1.1"] == got["2.1"] == "passed"

    def test_never_checked_scan(self, fw: Framework) -> None:
        """A scan never checked: automated requirements not_assessed; manual ones still show
        their attestation state."""
        got = statuses(fw, None, [att("1.2", *IN_FORCE)])
        assert (got["1.1"], got["1.2"], got["1.3"]) == ("not_assessed", "attested", "not_assessed")

    def test_resources_lead_with_alarms_and_share_is_automated_over_all(
        self, fw: Framework
    ) -> None:
        """Resources behind a requirement list alarming ones first; the automated share is the
        requirements with at least one rule over all."""
        view = framework_view(fw, 1, SCAN_DAY,
                              [f("r_bucket", "a-ok", "ok"), f("r_bucket", "z-bad", "alarm")], [])  # fmt: skip
        r = next(r for r in view.requirements if r.id == "1.1")
        assert r.resources == ["z-bad", "a-ok"] and r.rules == ["r_bucket"]
        assert view.automated_share == 0.75 and (view.version, view.source) == (
            "1.0",
            "written for the tests",
        )
        assert next(x.status for x in view.ordered()) == "failed"


class TestLoader:
    def _err(self, tmp_path: Path, text: str) -> RuleError:
        with pytest.raises(RuleError) as exc:
            make_pack(tmp_path, text)
        return exc.value

    def test_unknown_rule_names_file_and_line(self, tmp_path: Path) -> None:
        """A requirement mapping an unknown rule id: error at its line."""
        e = self._err(tmp_path, "requirements:\n  '1.1': {title: t, rules: [r_bucket]}\n"
                                "  '1.2':\n    title: t\n    rules: [nope]\n")  # fmt: skip
        assert e.file is not None and e.file.endswith("fw.yaml") and e.line == 5
        assert "nope" in str(e)

    def test_neither_rules_nor_manual(self, tmp_path: Path) -> None:
        """A requirement with neither rules nor manual: true is an error at its line."""
        e = self._err(tmp_path, "requirements:\n  '1.1': {title: t, rules: [r_bucket]}\n"
                                "  '1.2': {title: t}\n")  # fmt: skip
        assert e.line == 3 and "manual" in str(e)

    def test_duplicate_requirement_id(self, tmp_path: Path) -> None:
        """The same requirement id twice in one file: an error naming the second one's line."""
        e = self._err(tmp_path, "requirements:\n  '1.1': {title: a, rules: [r_bucket]}\n"
                                "  '1.1': {title: b, manual: true}\n")  # fmt: skip
        assert e.line == 3 and "duplicate key '1.1'" in str(e)

    def test_providers_are_a_list_of_names(self, tmp_path: Path) -> None:
        """`providers:` names the providers a benchmark is about; anything but a list of names
        is an error at its line. The view carries them, sorted."""
        e = self._err(tmp_path, "title: t\nproviders: aws\nrequirements:\n"
                                "  '1.1': {title: t, rules: [r_bucket]}\n")  # fmt: skip
        assert e.line == 2 and "providers" in str(e)
        pack = make_pack(tmp_path, "providers: [gcp, aws]\nrequirements:\n"
                                   "  '1.1': {title: t, rules: [r_bucket]}\n")  # fmt: skip
        assert pack.frameworks["fw"].providers == {"aws", "gcp"}
        view = framework_view(pack.frameworks["fw"], 1, SCAN_DAY, [], [])
        assert view.providers == ("aws", "gcp")


# -- through the store and the CLI --------------------------------------------------------


def scan_buckets(store: Store, *, public: bool) -> int:
    run = SourceRun("aws-prod", "aws")
    run.resources.append(aws("AWS::S3::Bucket", "b", public=public))
    run.slices.append(Slice("aws-prod", "aws", f"{ACCOUNT}/eu-west-1/s3", "ok", account=ACCOUNT,
                            region="eu-west-1", types=["AWS::S3::Bucket", "AWS::EC2::Instance"]))  # fmt: skip
    run.finish()
    return store.write_scan([run], started_at=T0, finished_at=T0, tool_version="t").scan_id


def setup_cli(tmp_path: Path, *, public: bool, attested: bool = True) -> Path:
    make_pack(tmp_path)
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": "s.duckdb", "rules": ["./rules"]}))
    with Store(tmp_path / "s.duckdb") as st:
        n = scan_buckets(st, public=public)
        if attested:
            rows = [att("1.2", *IN_FORCE).row(), att("1.3", *IN_FORCE).row()]
            write_attestations(st, n, rows)
    return cfg


def cli(*args: str, columns: int = 80) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})
    return res.exit_code, res.stdout


class TestFromTheStore:
    def test_statuses_from_stored_findings_and_attestations(self, tmp_path: Path) -> None:
        """requirement_statuses reads the scan's findings and the attestations sealed with it."""
        pack = make_pack(tmp_path)
        with Store(tmp_path / "s.duckdb") as st:
            n = scan_buckets(st, public=False)
            write_attestations(st, n, [att("1.3", *IN_FORCE).row()])
            evaluate(config(), st, pack=pack)
            view = requirement_statuses(st, pack, "fw", n)
        got = {r.id: r.status for r in view.requirements}
        # r_other's type was read and held nothing: 2.1 evaluated nothing.
        assert got == {"1.1": "passed", "1.2": "attestation_missing", "1.3": "attested",
                       "2.1": "not_assessed"}  # fmt: skip
        assert view.scan == n and view.scan_date == SCAN_DAY


class TestShowCommand:
    def test_json_shape(self, tmp_path: Path) -> None:
        """show --format json: exactly framework, scan, automated_share and requirements, each
        with id, title, status, rules, resources, attestation; a never-checked scan is checked
        first; an alarm exits 1 unless something lacks a verdict (3 wins)."""
        cfg = setup_cli(tmp_path, public=True)
        code, out = cli("frameworks", "show", "fw", "-c", str(cfg), "--format", "json")
        doc = json.loads(out)
        assert set(doc) == {"framework", "scan", "automated_share", "requirements"}
        assert (doc["framework"], doc["scan"], doc["automated_share"]) == ("fw", 1, 0.75)
        reqs = {r["id"]: r for r in doc["requirements"]}
        assert list(reqs) == ["1.1", "1.2", "1.3", "2.1"]
        assert all(set(r) == {"id", "title", "status", "rules", "resources", "attestation"}
                   for r in reqs.values())  # fmt: skip
        assert reqs["1.1"]["status"] == "failed" and reqs["1.1"]["resources"] == [
            f"arn:aws:test:eu-west-1:{ACCOUNT}:b"
        ]
        a = reqs["1.2"]["attestation"]
        assert reqs["1.2"]["status"] == "attested" and a["owner"] == "alice"
        assert a["sha256"] == "ab" * 32 and a["state"] == "attested"
        assert code == 3  # 2.1 evaluated nothing: not assessed wins over the alarm

    def test_exit_1_when_only_failing(self, tmp_path: Path) -> None:
        """Everything has a verdict and evidence, one requirement fails: exit 1."""
        text = FRAMEWORK.replace('  "2.1": {title: Hosts are hardened, rules: [r_other]}\n', "")
        make_pack(tmp_path, text)
        cfg = setup_cli(tmp_path, public=True)
        (tmp_path / "rules" / "frameworks" / "fw.yaml").write_text(text)
        code, _ = cli("frameworks", "show", "fw", "-c", str(cfg), "--format", "json")
        assert code == 1

    def test_csv(self, tmp_path: Path) -> None:
        """show --format csv: one row per requirement in catalogue order, the attestation spelled out."""
        cfg = setup_cli(tmp_path, public=False)
        code, out = cli("frameworks", "show", "fw", "-c", str(cfg), "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [r["id"] for r in rows] == ["1.1", "1.2", "1.3", "2.1"]
        assert list(rows[0]) == ["id", "status", "title", "rules", "resources", "attestation",
                                 "reason"]  # fmt: skip
        assert rows[0]["status"] == "passed" and rows[3]["status"] == "not_assessed"
        assert rows[1]["attestation"].startswith("attested: alice") and code == 3

    def test_table_at_80_columns_leads_with_failing(self, tmp_path: Path) -> None:
        """The terminal table fits 80 columns and lists failing, then evidence-lacking rows first."""
        cfg = setup_cli(tmp_path, public=True, attested=False)
        code, out = cli("frameworks", "show", "fw", "-c", str(cfg), "--format", "table")
        assert max(len(line) for line in out.splitlines()) <= 80
        order = [m.group(1) for m in re.finditer(r"^│ (\d\.\d)\s", out, re.M)]
        assert order == ["1.1", "1.3", "2.1", "1.2"]  # failed, failed, not assessed, missing
        assert "attestation_missing" in out and code == 3

    def test_pruned_scan_is_refused(self, tmp_path: Path) -> None:
        """A scan whose content retention dropped is not shown as if it had no findings."""
        cfg = setup_cli(tmp_path, public=False)
        with Store(tmp_path / "s.duckdb") as st:
            st.con.execute("UPDATE scan_ledger SET pruned = true")
        res = CliRunner().invoke(app, ["frameworks", "show", "fw", "-c", str(cfg)])
        assert res.exit_code == 2 and "pruned" in res.output

    def test_unknown_framework_is_a_usage_error(self, tmp_path: Path) -> None:
        """A typo in the framework id exits 2 and names the loaded ones."""
        cfg = setup_cli(tmp_path, public=False)
        res = CliRunner().invoke(app, ["frameworks", "show", "nope", "-c", str(cfg)])
        assert res.exit_code == 2 and "fw" in res.output


class TestListAndValidate:
    def test_list_json(self, tmp_path: Path) -> None:
        """list: each framework with its requirement, automated and manual counts."""
        cfg = setup_cli(tmp_path, public=False)
        code, out = cli("frameworks", "list", "-c", str(cfg), "--format", "json")
        [d] = json.loads(out)["frameworks"]
        assert (d["id"], d["version"], d["requirements"], d["automated"], d["manual"]) == (
            "fw", "1.0", 4, 3, 2)  # fmt: skip
        assert code == 0

    def test_validate_ok_and_error(self, tmp_path: Path) -> None:
        """validate: exit 0 with counts; an attestation of an unknown requirement exits 2
        naming file, line and key."""
        cfg = setup_cli(tmp_path, public=False)
        code, out = cli("frameworks", "validate", "-c", str(cfg))
        assert code == 0 and "1 frameworks, 4 requirements, 0 attestations" in out
        data = yaml.safe_load(cfg.read_text())
        data["attestations"] = [{"framework": "fw", "requirement": "9.9", "owner": "a",
                                 "statement": "s", "evidence": "https://x.example/e",
                                 "date": "2026-01-01", "expires": "2026-12-31"}]  # fmt: skip
        cfg.write_text(yaml.safe_dump(data, sort_keys=False))
        res = CliRunner().invoke(app, ["frameworks", "validate", "-c", str(cfg)])
        assert res.exit_code == 2
        assert re.search(r"driftscan\.yaml:\d+, key 'attestations\[0\]\.requirement'", res.output)


class TestReportSection:
    def test_html_and_pdf_sections_lead_with_failing(self, tmp_path: Path) -> None:
        """The report has a section per framework: failing and evidence-lacking requirements
        first, the attestation with its evidence's SHA-256; the PDF variant has the same rows."""
        from driftscan.report import build_report_data
        from driftscan.report.document import document
        from driftscan.report.formats import render_html

        pack = make_pack(tmp_path)
        cfg = config(reports={"dir": str(tmp_path / "out")})
        with Store(tmp_path / "s.duckdb") as st:
            n = scan_buckets(st, public=True)
            write_attestations(st, n, [att("1.2", *IN_FORCE).row()])
            evaluate(cfg, st, pack=pack)
            doc = document(build_report_data(cfg, st, pack=pack, verify_chain=False))
        for pdf in (False, True):
            html = render_html(doc, pdf=pdf, passing_limit=10)
            section = html[html.index('<section id="frameworks">') : html.index('id="controls"')]
            assert "Test framework" in section and "75 % automated" in section
            ids = re.findall(r"<b[^>]*>(\d\.\d)</b>", section)
            assert ids == ["1.1", "1.3", "2.1", "1.2"]  # failed, failed, not assessed, attested
            assert "ab" * 32 in section and "alice" in section
