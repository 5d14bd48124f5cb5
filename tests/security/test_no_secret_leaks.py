"""No secret leaves through an error, a log, a report or a guessable fingerprint."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pypdf
import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.collect.base import CollectContext
from driftscan.model import Resource, SourceRun
from driftscan.redaction import (
    Fingerprinter,
    is_secret_name,
    load_fingerprinter,
    safe_detail,
)
from driftscan.sandbox.aws import ENV, MotoServer, start_moto
from driftscan.store import Store

CANARY = "canary-db-pass-7f3e9d"


@pytest.fixture
def moto_nul(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A moto server of our own whose one EC2 instance has a NUL byte in one tag and a secret
    in another: DescribeInstances then answers XML that botocore cannot parse."""
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/driftscan-tests/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftscan-tests/credentials")
    server = start_moto()
    try:
        ec2 = boto3.client("ec2", endpoint_url=server.endpoint_url, region_name="us-east-1")
        image = ec2.describe_images()["Images"][0]["ImageId"]
        inst = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
        ec2.create_tags(
            Resources=[inst["InstanceId"]],
            Tags=[{"Key": "note", "Value": "a\x00b"}, {"Key": "db_password", "Value": CANARY}],
        )
        yield server
    finally:
        server.stop()


def _store_text(path: Path) -> str:
    """Every text value of every table of the store, as one string."""
    out = []
    with Store(path, read_only=True) as st:
        tables = st.rows(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        )
        for t in tables:
            name = t["table_name"]
            cols = st.rows(f'DESCRIBE "{name}"')
            text_cols = [c["column_name"] for c in cols if "VARCHAR" in c["column_type"]
                         or c["column_type"] == "JSON"]  # fmt: skip
            for c in text_cols:
                for (v,) in st.query(f'SELECT "{c}"::VARCHAR FROM "{name}"')[1]:
                    out.append(str(v))
    return "\n".join(out)


def test_parse_failure_leaks_nothing_anywhere(tmp_path: Path, moto_nul: MotoServer) -> None:
    """After `run` over an unparseable response holding a secret tag, no table, log line or
    report file holds the secret, and the slice says what failed in under 500 characters."""
    store = tmp_path / "s.duckdb"
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "store": str(store),
                "sources": [
                    {
                        "name": "aws",
                        "type": "aws",
                        "regions": ["us-east-1"],
                        "endpoint_url": moto_nul.endpoint_url,
                        "max_attempts": 1,
                    }
                ],
                "reports": {
                    "dir": str(tmp_path / "reports"),
                    "formats": ["html", "pdf", "json", "csv"],
                },
            }
        )
    )
    log = tmp_path / "run.jsonl"
    res = CliRunner().invoke(app, ["run", "-c", str(cfg), "--log-file", str(log), "-q"])
    assert res.exit_code == 3, res.output
    assert CANARY not in res.output
    with Store(store, read_only=True) as st:
        failed = st.slices(1, failed_only=True)
    ec2 = [s for s in failed if s["name"].endswith("/ec2")]
    assert ec2 and all(len(s["detail"]) <= 500 for s in failed)
    assert "DescribeInstances" in ec2[0]["detail"] and "parsed" in ec2[0]["detail"]
    assert CANARY not in _store_text(store)
    assert CANARY not in log.read_text()
    files = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert any(p.suffix == ".pdf" for p in files)
    for p in files:
        if p.suffix == ".pdf":
            text = "\n".join(pg.extract_text() or "" for pg in pypdf.PdfReader(p).pages)
        else:
            text = p.read_text(encoding="utf-8", errors="replace")
        assert CANARY not in text, p.name
    assert CANARY.encode() not in store.read_bytes()


class TestSafeDetail:
    def test_bounded(self) -> None:
        """A megabyte of error text is cut to at most 500 characters."""
        assert len(safe_detail("x" * 1_000_000) or "") <= 500

    @pytest.mark.parametrize(
        "text",
        [
            "<Key>db_password</Key><Value>SECRET1</Value>",
            '{"client_secret": "SECRET1"}',
            "api_key=SECRET1 and more",
            "Authorization: SECRET1",
        ],
    )
    def test_secret_pairs_redacted(self, text: str) -> None:
        """Values of secret-looking names in error text are redacted, whatever the syntax."""
        out = safe_detail(text) or ""
        assert "SECRET1" not in out and "[redacted]" in out

    def test_an_exception_name_is_not_a_secret_name(self) -> None:
        """botocore's `NoCredentialsError: Unable to locate credentials` keeps its message: a
        name ending in Error describes a failure, it holds no secret."""
        text = "cannot read AWS account: GetCallerIdentity: NoCredentialsError: Unable to locate credentials"
        assert safe_detail(text) == text
        assert "[redacted]" in (safe_detail("credentials: SECRET1") or "")

    def test_control_characters_go(self) -> None:
        """NUL and other control bytes never reach the store or a log line."""
        assert "\x00" not in (safe_detail("a\x00b\x1b[31m") or "")


class TestSecretNames:
    @pytest.mark.parametrize(
        "name",
        ["db_password", "DB_PASS", "passphrase", "pin", "PIN", "authToken", "x-auth",
         "credentials", "private_key", "privateKey", "api-key", "apiKey", "KEY", "secret",
         "clientSecret", "dbpassword", "customData", "sas_token"],
    )  # fmt: skip
    def test_secret(self, name: str) -> None:
        """Names that hold secrets are recognised, in any case or separator style."""
        assert is_secret_name(name)

    @pytest.mark.parametrize(
        "name",
        ["owner", "data_class", "kms_key_id", "KmsKeyId", "keySource", "public_key",
         "author", "spinner", "keyboard", "token_expiry", "auth_type", "monkey",
         "files./etc/app/secret.conf.sha256", "privateEndpointConnections", "pinned"],
    )  # fmt: skip
    def test_not_secret(self, name: str) -> None:
        """Names that describe a secret, or merely contain the letters, are left alone."""
        assert not is_secret_name(name)


class TestKeyedFingerprints:
    def test_pin_and_dictionary_word_are_not_recoverable(self, tmp_path: Path) -> None:
        """A 6-digit PIN and a dictionary password cannot be found from their stored
        fingerprints by hashing guesses, as they could from a plain SHA-256."""
        fp = load_fingerprinter(tmp_path / "s.key", env={})
        pin, word = "480213", "sunshine1"
        stored = {fp(pin), fp(word)}
        guesses = [f"{i:06d}" for i in range(1_000_000)] + ["password", "sunshine1", "hunter2"]
        plain = {"sha256:" + hashlib.sha256(g.encode()).hexdigest() for g in guesses}
        digests = {s.rsplit(":", 1)[1] for s in stored}
        assert not digests & {p.split(":", 1)[1] for p in plain}
        # With the key (and only with it) the same guesses match.
        assert {fp(pin), fp(word)} <= {fp(g) for g in ("480213", "sunshine1")}

    def test_key_file_is_private(self, tmp_path: Path) -> None:
        """The key file is created 0600; one that others can read is refused."""
        path = tmp_path / "s.key"
        load_fingerprinter(path, env={})
        assert (path.stat().st_mode & 0o777) == 0o600
        os.chmod(path, 0o644)
        with pytest.raises(Exception, match="chmod 600"):
            load_fingerprinter(path, env={})

    def test_sha256_looking_value_is_fingerprinted(self) -> None:
        """A secret tag whose value merely starts with `sha256:` is not kept in clear."""
        fp = Fingerprinter(b"k" * 32)
        ctx = CollectContext(SourceRun("s", "aws"), fingerprint=fp)
        ctx.add(Resource("k", "aws", "s", "a", "r", "T", "n",
                         tags={"db_password": "sha256:hunter3", "pin": "1234"}))  # fmt: skip
        tags = ctx.run.resources[0].tags
        assert tags == {"db_password": fp("sha256:hunter3"), "pin": fp("1234")}
        assert "hunter3" not in json.dumps(tags)

    def test_rotation_is_recorded(self, tmp_path: Path) -> None:
        """Each scan records the id of the key its secrets were fingerprinted with."""
        key = tmp_path / "s.duckdb.key"
        kh = tmp_path / "known_hosts"
        kh.write_text("")
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(
            f"store: {tmp_path / 's.duckdb'}\nsources:\n"
            f"  - {{name: dc1, type: ssh, user: u, known_hosts: {kh}, hosts: []}}\n"
        )
        runner = CliRunner()
        runner.invoke(app, ["scan", "-c", str(cfg), "-q"])
        first = load_fingerprinter(key, env={}).key_id
        key.unlink()
        runner.invoke(app, ["scan", "-c", str(cfg), "-q"])
        second = load_fingerprinter(key, env={}).key_id
        assert first != second
        with Store(tmp_path / "s.duckdb", read_only=True) as st:
            ids = st.query("SELECT scan_id, key_id FROM fingerprint_key ORDER BY 1")[1]
        assert ids == [(1, first), (2, second)]


LAMBDA_STATE = {
    "version": 4,
    "terraform_version": "1.7.5",
    "serial": 1,
    "lineage": "rotation-test",
    "outputs": {},
    "resources": [
        {
            "mode": "managed",
            "type": "aws_lambda_function",
            "name": "payments",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [
                {
                    "schema_version": 0,
                    "attributes": {
                        "arn": "arn:aws:lambda:eu-west-1:111122223333:function:payments",
                        "function_name": "payments",
                        "environment": [{"variables": {"API_TOKEN": "tok-rotation-canary"}}],
                    },
                }
            ],
        }
    ],
}


class TestRotation:
    def _scan(self, store: Store, cfg_key: Path, token: str, memory: int = 128) -> None:
        from datetime import UTC, datetime

        fp = load_fingerprinter(cfg_key, env={})
        run = SourceRun("aws", "aws")
        run.resources.append(
            Resource(
                "arn:aws:lambda:eu-west-1:111122223333:function:payments", "aws", "aws",
                "111122223333", "eu-west-1", "AWS::Lambda::Function", "payments",
                attrs={"environment": {"API_TOKEN": fp(token)}, "memory_mb": memory},
            )
        )  # fmt: skip
        from driftscan.model import Slice

        run.slices.append(Slice("aws", "aws", "111122223333/eu-west-1/lambda", "ok",
                                account="111122223333", region="eu-west-1",
                                types=["AWS::Lambda::Function"], resources=1))  # fmt: skip
        now = datetime.now(UTC)
        store.write_scan([run], started_at=now, finished_at=now, tool_version="t", key_id=fp.key_id)

    def test_rotation_is_neither_drift_nor_a_change(self, tmp_path: Path) -> None:
        """After a key rotation the same secret is no drift against its declaration, and the
        delta between the scans shows the real change only, counting the re-keyed value."""
        from driftscan import pipeline
        from driftscan.config import load_config
        from driftscan.drift import between

        (tmp_path / "tf.tfstate").write_text(json.dumps(LAMBDA_STATE))
        cfg_path = tmp_path / "driftscan.yaml"
        cfg_path.write_text(
            f"store: {tmp_path / 's.duckdb'}\ndesired:\n  - terraform: tf.tfstate\n"
        )
        cfg = load_config(cfg_path)
        with Store(cfg.store_path) as store:
            self._scan(store, cfg.key_path, "tok-rotation-canary")
            first = pipeline.diff(cfg, store, 1)
            cfg.key_path.unlink()  # rotate
            self._scan(store, cfg.key_path, "tok-rotation-canary", memory=256)
            second = pipeline.diff(cfg, store, 2)
            delta = between(store, 2, 1)
        for result in (first, second):
            paths = [c["path"] for d in result.drifts for c in d.changes]
            assert not [p for p in paths if "environment" in p], paths
        assert [c["path"] for d in delta.changes for c in d["changes"]] == ["memory_mb"]
        assert delta.rekeyed == 1


URL_SECRET = "eyJhbGciOiJSUzI1NiJ9.SUPERSECRETTOKEN1234567890"


@pytest.fixture
def aws_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's static AWS credentials, and no AWS config or credentials file of the host."""
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/driftscan-tests/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftscan-tests/credentials")


@pytest.mark.usefixtures("aws_offline")
def test_url_credentials_leak_nowhere(tmp_path: Path) -> None:
    """Credentials in configured endpoint URLs (a kubeconfig's `server:`, an AWS source's and an
    S3 anchor's `endpoint_url`) are in no scan output, table, log line or report file, while
    the identity and details still name the user and the endpoint."""
    # Port 1 on the loopback refuses at once: every source and the anchor fail unreachable.
    endpoint = f"https://admin:{URL_SECRET}@127.0.0.1:1"
    kc = tmp_path / "kc"
    kc.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
                "clusters": [{"name": "k", "cluster": {"server": endpoint}}],
                "users": [{"name": "u", "user": {"token": "x"}}],
            }
        )
    )
    store = tmp_path / "s.duckdb"
    cfg = tmp_path / "driftscan.yaml"
    aws_endpoint = f"http://AKIAEXAMPLE:{URL_SECRET}@127.0.0.1:1"
    cfg.write_text(
        yaml.safe_dump(
            {
                "store": str(store),
                "sources": [
                    {"name": "k8s", "type": "kubernetes", "kubeconfig": str(kc), "max_attempts": 1},
                    {"name": "aws", "type": "aws", "regions": ["us-east-1"],
                     "endpoint_url": aws_endpoint, "max_attempts": 1},
                ],
                "evidence": {"anchor": {"s3": "s3://anchors/driftscan", "region": "us-east-1",
                                        "endpoint_url": aws_endpoint}},
                "reports": {"dir": str(tmp_path / "reports"), "formats": ["html", "json", "csv"]},
            }
        )
    )  # fmt: skip
    cli = CliRunner()
    scanned = cli.invoke(app, ["scan", "-c", str(cfg), "--format", "json"])
    assert scanned.exit_code == 3, scanned.output
    assert URL_SECRET not in scanned.output
    identity = {s["source"]: s["identity"] for s in json.loads(scanned.stdout)["sources"]}
    assert identity["k8s"].endswith("at https://admin:[redacted]@127.0.0.1:1")

    log = tmp_path / "run.jsonl"
    ran = cli.invoke(app, ["run", "-c", str(cfg), "--log-file", str(log), "-q"])
    assert ran.exit_code == 3, ran.output
    assert URL_SECRET not in ran.output
    assert "anchor.failed" in log.read_text() and URL_SECRET not in log.read_text()
    out = tmp_path / "rep"
    reported = cli.invoke(app, ["report", "-c", str(cfg), "--out", str(out),
                                "--format", "json,csv,html"])  # fmt: skip
    assert reported.exit_code == 0, reported.output

    for view in ("slices", "source_runs"):
        got = cli.invoke(
            app, ["query", "-c", str(cfg), f"select * from {view}", "--format", "json"]
        )
        assert got.exit_code == 0, got.output
        assert got.stdout.strip().startswith("[") and URL_SECRET not in got.stdout, view
    details = " ".join(
        r["detail"] or ""
        for r in json.loads(cli.invoke(app, ["query", "-c", str(cfg), "select detail from slices",
                                             "--format", "json"]).stdout)
    )  # fmt: skip
    assert "API server https://admin:[redacted]@127.0.0.1:1" in details
    assert "http://AKIAEXAMPLE:[redacted]@127.0.0.1:1" in details
    assert URL_SECRET not in _store_text(store)
    assert URL_SECRET.encode() not in store.read_bytes()
    files = [p for d in (out, tmp_path / "reports") for p in d.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".html", ".json", ".csv"}
    for p in files:
        assert URL_SECRET not in p.read_text(encoding="utf-8", errors="replace"), p.name


@pytest.mark.usefixtures("aws_offline")
def test_an_error_quoting_an_endpoint_masks_its_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that fails on an endpoint with credentials in its URL (a Terraform state in
    S3 behind an unreachable `endpoint_url`) prints the error with the password masked."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "store": str(tmp_path / "s.duckdb"),
                "sources": [],
                "desired": [{"terraform": "s3://states/prod.tfstate",
                             "endpoint_url": f"http://AKIAEXAMPLE:{URL_SECRET}@127.0.0.1:1"}],
            }
        )
    )  # fmt: skip
    res = CliRunner().invoke(app, ["desired", "stats", "-c", str(cfg)])
    assert res.exit_code == 2, res.output
    assert "http://AKIAEXAMPLE:[redacted]@127.0.0.1:1" in res.stderr
    assert URL_SECRET not in res.output
