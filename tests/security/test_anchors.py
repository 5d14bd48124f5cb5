"""Anchors outside the store (S3 Object Lock via moto, a local file), KMS-signed manifests, keygen."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from typer.testing import CliRunner, Result

from driftscan.cli import app
from driftscan.report.manifest import MANIFEST, signed_bytes
from driftscan.sandbox.aws import ENV, MotoServer, start_moto
from driftscan.store import Store
from tests.conftest import make_resources, make_run, write

REGION = "us-east-1"


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    """A moto server on 127.0.0.1 with dummy credentials and nothing from the host's AWS config."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        for name, value in ENV.items():
            mp.setenv(name, value)
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/driftscan-tests/config")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftscan-tests/credentials")
        server = start_moto()
        try:
            yield server
        finally:
            server.stop()


def _client(moto: MotoServer, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=moto.endpoint_url)


def _locked_bucket(moto: MotoServer, name: str) -> str:
    _client(moto, "s3").create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, **extra: Any) -> Path:
    """A config whose one source is an SSH host that refuses connections: every scan is sealed
    (incomplete, exit 3) within a second, with nothing else to start."""
    known = tmp_path / "known_hosts"
    known.touch()
    doc = {
        "store": str(tmp_path / "s.duckdb"),
        "sources": [{"name": "dc", "type": "ssh", "user": "scanner", "known_hosts": str(known),
                     "timeout_s": 5, "hosts": [{"name": "h1", "address": "127.0.0.1",
                                               "port": _closed_port()}]}],
        **extra,
    }  # fmt: skip
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    return cfg


def _scan(cfg: Path) -> Result:
    res = cli("scan", "-c", str(cfg), "-q")
    assert res.exit_code == 3, res.output  # the host is unreachable: sealed, incomplete
    return res


def _s3_anchor(moto: MotoServer, bucket: str, **kw: Any) -> dict[str, Any]:
    return {"anchor": {"s3": f"s3://{bucket}/driftscan/prod", "endpoint_url": moto.endpoint_url,
                       "region": REGION, "retention_days": 30, **kw}}  # fmt: skip


def test_s3_anchors_are_under_compliance_object_lock(moto: MotoServer, tmp_path: Path) -> None:
    """Each scan's chain head becomes one S3 object locked in COMPLIANCE mode for retention_days."""
    bucket = _locked_bucket(moto, "anchors-locked")
    cfg = _config(tmp_path, evidence=_s3_anchor(moto, bucket))
    _scan(cfg)
    _scan(cfg)
    s3 = _client(moto, "s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["driftscan/prod/scan-000001.json", "driftscan/prod/scan-000002.json"]
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        chains = {r.scan_id: r.chain_hash for r in st.scans()}
    for n, key in enumerate(keys, start=1):
        # head_object, not get_object_retention: moto's server answers that one with a 500.
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        until = head["ObjectLockRetainUntilDate"]
        assert timedelta(days=29) < until - datetime.now(UTC) <= timedelta(days=30)
        with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
            s3.delete_object(Bucket=bucket, Key=key, VersionId=head["VersionId"])
        body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert body["scan"] == n and body["chain_hash"] == chains[n]
    assert cli("verify", "-c", str(cfg)).exit_code == 0


def test_a_rewritten_history_is_named_from_the_s3_anchor(moto: MotoServer, tmp_path: Path) -> None:
    """Deleting the store (heads file too) and rescanning gives a clean new chain; the anchors
    name the first scan whose chain head differs."""
    bucket = _locked_bucket(moto, "anchors-rewrite")
    cfg = _config(tmp_path, evidence=_s3_anchor(moto, bucket))
    for _ in range(3):
        _scan(cfg)
    for p in tmp_path.glob("s.duckdb*"):
        p.unlink()
    _scan(cfg)
    _scan(cfg)
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        assert st.verify().ok  # a fresh, self-consistent store
    res = cli("verify", "-c", str(cfg), "--format", "json")
    assert res.exit_code == 1
    problems = json.loads(res.stdout)["problems"]
    assert problems[0].startswith("scan 1: chain head differs from its anchor s3://")
    assert "history rewritten" in problems[0]
    assert any("scan 3 is anchored in s3://" in p and "missing from the store" in p
               for p in problems)  # fmt: skip


def test_a_failed_anchor_write_keeps_the_scan_and_verify_names_it(
    moto: MotoServer, tmp_path: Path
) -> None:
    """An anchor that cannot be written (no such bucket) warns, keeps the scan, and verify names
    the unanchored scan with the reason."""
    cfg = _config(tmp_path, evidence=_s3_anchor(moto, "no-such-bucket"))
    res = _scan(cfg)
    assert "not anchored in s3://no-such-bucket/driftscan/prod" in res.output
    with Store(tmp_path / "s.duckdb", read_only=True) as st:
        assert [r.scan_id for r in st.scans()] == [1]
    res = cli("verify", "-c", str(cfg))
    assert res.exit_code == 1
    assert "scan 1 has no anchor in s3://no-such-bucket/driftscan/prod (anchoring failed:" in (
        res.stdout
    )


def test_file_anchor_names_deleted_newest_scans(tmp_path: Path) -> None:
    """A local anchor file gets one JSON line per scan and names scans deleted from the store,
    even when the heads file beside the store was deleted as well; `verify --store` without a
    config reads the anchor the store recorded."""
    anchor = tmp_path / "anchors" / "chain.jsonl"
    cfg = _config(tmp_path, evidence={"anchor": {"file": str(anchor)}})
    for _ in range(3):
        _scan(cfg)
    lines = [json.loads(line) for line in anchor.read_text().splitlines()]
    assert [d["scan"] for d in lines] == [1, 2, 3]
    store = tmp_path / "s.duckdb"
    with Store(store) as st:
        assert lines[-1]["chain_hash"] == st.scan().chain_hash
        tables = [r[0] for r in st.con.execute(
            "select table_name from information_schema.columns where column_name = 'scan_id' "
            "and table_name in (select table_name from information_schema.tables "
            "where table_type = 'BASE TABLE') and table_name <> 'anchor_run'"
        ).fetchall()]  # fmt: skip
        for t in tables:
            st.con.execute(f"delete from {t} where scan_id = 3")
    (tmp_path / "s.duckdb.heads").unlink()
    res = cli("verify", "--store", str(store))
    assert res.exit_code == 1
    assert f"scan 3 is anchored in {anchor} but missing from the store (newest scans deleted?)" in (
        res.stdout
    )


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "manifest_alg"),
    [
        ("ECC_NIST_P256", None, "ecdsa-p256-sha256"),
        ("RSA_2048", None, "rsa-pkcs1v15-sha256"),
        ("RSA_2048", "RSASSA_PSS_SHA_256", "rsa-pss-sha256"),
    ],
)
def test_kms_signed_manifest_verifies_with_cryptography(
    moto: MotoServer, tmp_path: Path, key_spec: str, algorithm: str | None, manifest_alg: str
) -> None:
    """A manifest signed by a KMS asymmetric key verifies against the key's public half with
    `cryptography`, and through verify-report --key; an edit breaks it."""
    kms = _client(moto, "kms")
    arn = kms.create_key(KeySpec=key_spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=arn)["PublicKey"])
    pem = tmp_path / "kms.pub.pem"
    pem.write_bytes(public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    reports: dict[str, Any] = {"signing_kms_key": arn, "kms_endpoint_url": moto.endpoint_url,
                               "kms_region": REGION, "formats": ["json"]}  # fmt: skip
    if algorithm:
        reports["kms_algorithm"] = algorithm
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text(yaml.safe_dump({"store": str(tmp_path / "s.duckdb"), "reports": reports}))
    with Store(tmp_path / "s.duckdb") as st:
        write(st, [make_run(make_resources(3))])
    res = cli("report", "-c", str(cfg), "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    folder = Path(res.stdout.strip().splitlines()[0])
    manifest = json.loads((folder / MANIFEST).read_text())
    sig = manifest["signature"]
    assert sig["algorithm"] == manifest_alg and sig["key_id"] == arn
    value = base64.b64decode(sig["value"])
    digest = __import__("hashlib").sha256(signed_bytes(manifest)).hexdigest()
    message = f"driftscan-manifest sha256:{digest}".encode()
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(value, message, ec.ECDSA(hashes.SHA256()))
    elif algorithm == "RSASSA_PSS_SHA_256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
        public.verify(value, message, pss, hashes.SHA256())  # type: ignore[union-attr, call-arg]
    else:
        public.verify(value, message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    assert cli("verify-report", str(folder), "--key", str(pem)).exit_code == 0
    assert cli("verify", "-c", str(cfg), "--key", str(pem)).exit_code == 0
    # Whatever the summary said, an edit to it breaks the signature.
    manifest["summary"]["failing"] = int(manifest["summary"].get("failing") or 0) + 1
    (folder / MANIFEST).write_text(json.dumps(manifest))
    res = cli("verify-report", str(folder), "--key", str(pem))
    assert res.exit_code == 1 and "signature does not match" in res.stdout


def test_keygen_writes_a_0600_key_pair_and_never_overwrites(tmp_path: Path) -> None:
    """keygen writes the private key with mode 0600 and its public key beside it, and refuses
    (exit 2) to overwrite either."""
    out = tmp_path / "keys" / "signing.pem"
    out.parent.mkdir()
    res = cli("keygen", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    public = tmp_path / "keys" / "signing.pub.pem"
    key = serialization.load_pem_private_key(out.read_bytes(), password=None)
    assert serialization.load_pem_public_key(public.read_bytes()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    before = out.read_bytes()
    again = cli("keygen", "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    assert out.read_bytes() == before
    out.unlink()
    assert cli("keygen", "--out", str(out)).exit_code == 2  # the public key is still there
    assert not out.exists()
