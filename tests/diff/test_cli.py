"""`driftscan diff` through the CLI: the §3.4 JSON shape, stable bytes, exit codes and bad input."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write
from tests.diff.conftest import host, host_run

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke the CLI in-process."""
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """A folder with the declared-state fixtures, a store and a driftscan.yaml naming them."""
    shutil.copytree(DATA / "desired", tmp_path / "desired")
    shutil.copytree(DATA / "desired_tf", tmp_path / "tf")
    shutil.copytree(DATA / "desired_bad", tmp_path / "bad")

    def make(*desired: dict[str, Any], **extra: Any) -> Path:
        doc = {"store": "store.duckdb", "desired": list(desired), **extra}
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(yaml.safe_dump(doc))
        return cfg

    return make


def _scan(
    tmp_path: Path,
    *,
    failed: tuple[str, ...] = (),
    change: dict[int, dict[str, object]] | None = None,
) -> None:
    with Store(tmp_path / "store.duckdb") as st:
        write(
            st,
            [make_run(make_resources(3, change=change), failed_regions=failed), host_run([host()])],
        )


class TestOutput:
    def test_json_has_the_design_shape(
        self, tmp_path: Path, project: Callable[..., Path], cli: Callable[..., Result]
    ) -> None:
        """JSON output is {scan, changes: [{resource, type, provider, kind, desired_source, changes}], coverage}."""
        _scan(tmp_path, change={0: {"versioning": "Suspended"}})
        cfg = project({"path": "desired/"})
        res = cli("diff", "-c", str(cfg), "--format", "json")
        assert res.exit_code == 1, res.output
        doc = json.loads(res.stdout)
        assert set(doc) == {"scan", "changes", "coverage"} and doc["scan"] == 1
        first = doc["changes"][0]
        assert set(first) == {"resource", "type", "provider", "kind", "desired_source", "changes"}
        assert first == {
            "resource": "arn:aws:s3:::bucket-000000", "type": "AWS::S3::Bucket", "provider": "aws",
            "kind": "changed", "desired_source": "desired/cloud.yaml:3",
            "changes": [{"path": "versioning", "desired": "Enabled", "actual": "Suspended"}],
        }  # fmt: skip
        # the host and the bucket declared by identity match; everything live is declared
        assert [(c["resource"], c["kind"]) for c in doc["changes"]] == [
            ("arn:aws:s3:::bucket-000000", "changed")
        ]
        assert doc["coverage"]["managed_pct"] == 100.0 and doc["coverage"]["declared"] == 4

    def test_output_is_byte_identical_for_identical_inputs(
        self, tmp_path: Path, project: Callable[..., Path], cli: Callable[..., Result]
    ) -> None:
        """Running the same diff twice prints the same bytes, in JSON and CSV."""
        _scan(tmp_path, change={1: {"versioning": "Off"}})
        cfg = project({"path": "desired/"}, {"terraform": "tf/envs/*/terraform.tfstate"})
        for fmt in ("json", "csv"):
            a, b = (cli("diff", "-c", str(cfg), "--format", fmt) for _ in range(2))
            assert a.exit_code == b.exit_code == 1
            assert a.stdout == b.stdout and a.stdout
        header = cli("diff", "-c", str(cfg), "--format", "csv").stdout.splitlines()[0]
        assert header == "kind,resource,type,provider,desired_source,path,desired,actual"

    def test_clean_is_zero_and_incomplete_takes_precedence(
        self, tmp_path: Path, project: Callable[..., Path], cli: Callable[..., Result]
    ) -> None:
        """No drift exits 0; an incomplete scan exits 3 even though drift was found."""
        _scan(tmp_path)
        clean = tmp_path / "clean.yaml"
        clean.write_text(
            "resources:\n"
            + "".join(f"  - key: arn:aws:s3:::bucket-{i:06d}\n" for i in range(3))
            + "hosts:\n  - {name: web-01, services: {nginx: running}}\n"
        )
        cfg = project({"path": "clean.yaml"})
        assert cli("diff", "-c", str(cfg), "--format", "json").exit_code == 0
        with Store(tmp_path / "store.duckdb") as st:
            write(st, [make_run(make_resources(3, change={0: {"versioning": "Off"}}), failed_regions=("eu-west-1",)),
                       host_run([host()])])  # fmt: skip
        cfg = project({"path": "desired/"})
        res = cli("diff", "-c", str(cfg), "--format", "json")
        assert res.exit_code == 3
        assert json.loads(res.stdout)["coverage"]["scan_status"] == "incomplete"

    def test_against_lists_changes_between_scans(
        self, tmp_path: Path, project: Callable[..., Path], cli: Callable[..., Result]
    ) -> None:
        """--against M lists what appeared, disappeared and changed since scan M."""
        _scan(tmp_path)
        with Store(tmp_path / "store.duckdb") as st:
            write(
                st,
                [
                    make_run(make_resources(2, change={0: {"versioning": "Off"}})),
                    host_run([host()]),
                ],
            )
        cfg = project({"path": "desired/"})
        res = cli("diff", "-c", str(cfg), "--against", "1", "--format", "json")
        assert res.exit_code == 1, res.output
        doc = json.loads(res.stdout)
        assert (doc["scan"], doc["against"]) == (2, 1)
        assert [(c["resource"][-6:], c["kind"]) for c in doc["changes"]] == [
            ("000000", "changed"),
            ("000002", "disappeared"),
        ]
        assert doc["changes"][0]["changes"] == [
            {"path": "versioning", "old": "Enabled", "new": "Off"}
        ]


class TestBadInput:
    @pytest.mark.parametrize(
        ("entry", "where", "key"),
        [
            (
                {"path": "bad/unknown_host_key.yaml"},
                "bad/unknown_host_key.yaml:4",
                "hosts[0].pakages_min",
            ),
            ({"path": "bad/no_identity.yaml"}, "bad/no_identity.yaml:3", "resources[1]"),
            ({"terraform": "tf/truncated.tfstate"}, "tf/truncated.tfstate:34", None),
            ({"terraform": "tf/v2.tfstate"}, "tf/v2.tfstate:2", "version"),
            ({"terraform": "tf/unknown_key.tfstate"}, "tf/unknown_key.tfstate:9", "workspace"),
        ],
    )
    def test_malformed_declared_state_exits_2_naming_file_line_and_key(
        self, tmp_path: Path, project: Callable[..., Path], cli: Callable[..., Result],
        entry: dict[str, str], where: str, key: str | None,
    ) -> None:  # fmt: skip
        """Malformed YAML or Terraform state exits 2 with a message naming file, line and key."""
        _scan(tmp_path)
        res = cli("diff", "-c", str(project(entry)), "--format", "json")
        assert res.exit_code == 2
        msg = " ".join(res.output.split())
        assert where in msg
        if key:
            assert f"key '{key}'" in msg

    def test_no_store_exits_2(
        self, project: Callable[..., Path], cli: Callable[..., Result]
    ) -> None:
        """Diffing before any scan exits 2 and says to scan first."""
        res = cli("diff", "-c", str(project({"path": "desired/"})))
        assert res.exit_code == 2 and "no store here yet" in " ".join(res.output.split())
