"""Declared secrets: fingerprinted when loaded, with the store's key, where the live side fingerprints them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.collect.base import CollectContext
from driftscan.config import load_config
from driftscan.model import Resource, SourceRun
from driftscan.providers.azure.secrets import redact
from driftscan.providers.gcp.facets import INSTANCE, redact_document
from driftscan.providers.kubernetes.keys import key as k8s_key
from driftscan.providers.kubernetes.normalise import document
from driftscan.redaction import Fingerprinter, load_fingerprinter
from driftscan.store import Store
from tests.conftest import write

A = "111122223333"
LAMBDA = f"arn:aws:lambda:us-east-1:{A}:function:payments"
DB = f"arn:aws:rds:us-east-1:{A}:db:payments-db"
SUB = "/subscriptions/11111111-1111-4111-8111-111111111111"
SITE = f"{SUB}/resourcegroups/rg-pay/providers/microsoft.web/sites/pay-api"
GROUP = f"{SUB}/resourcegroups/rg-pay"
VM = "//compute.googleapis.com/projects/pay-prod/zones/us-central1-a/instances/vm-1"
SECRET = k8s_key("k8s-test", "pay", "Secret", "db")
SETTINGS = k8s_key("k8s-test", "pay", "ConfigMap", "settings")

# The live values; a "changed" run declares each with this suffix.
ENV_TOKEN = "sk_live_ENVTOKEN0001"
TAG_TOKEN = "TAGTOKEN0002"
CONN = "Server=x;Password=CONNPASS0003"
APP_PASSWORD = "APPPASS0004"
SCRIPT = "#!/bin/sh\nexport TOKEN=SCRIPT0005\n"
KMS_KEY = "projects/pay-prod/locations/global/keyRings/r/cryptoKeys/k"
K8S_PASSWORD = "czNjcjN0LUs4UzAwMDY="  # base64, as a Secret's data holds it
TF_TAG_KEY = "TFTAGKEY0007"
TF_ENV_TOKEN = "TFENVTOKEN0008"
TF_GROUP_PASSWORD = "TFGROUPPASS0009"
LABEL_TOKEN = "LABELTOKEN0010"
SECRETS = (ENV_TOKEN, TAG_TOKEN, CONN, APP_PASSWORD, SCRIPT, K8S_PASSWORD, TF_TAG_KEY,
           TF_ENV_TOKEN, TF_GROUP_PASSWORD, LABEL_TOKEN, "ENVTOKEN", "TAGTOKEN", "CONNPASS",
           "APPPASS", "SCRIPT0005", "czNjcjN0", "TFTAGKEY", "TFENVTOKEN", "TFGROUPPASS",
           "LABELTOKEN")  # fmt: skip


def _run(source: str, provider: str, fp: Fingerprinter, *resources: Resource) -> SourceRun:
    """A source run whose resources pass the collectors' shared cleaning (tags redacted)."""
    run = SourceRun(source, provider)
    ctx = CollectContext(run, fingerprint=fp)
    for r in resources:
        ctx.add(r)
        ctx.slice_ok(r.key, resources=1, account=r.account, region=r.region, types=[r.type])
    run.finish()
    return run


def _live(fp: Fingerprinter) -> list[SourceRun]:
    """One resource per provider, its secrets stored as that provider's collector stores them."""
    fn = Resource(LAMBDA, "aws", "aws-test", A, "us-east-1", "AWS::Lambda::Function", "payments",
                  tags={"api_token": TAG_TOKEN, "team": "pay"},
                  attrs={"runtime": "python3.12",  # the collector's `_function`
                         "environment": {"API_TOKEN": fp(ENV_TOKEN), "LOG_LEVEL": fp("info")}})  # fmt: skip
    db = Resource(DB, "aws", "aws-test", A, "us-east-1", "AWS::RDS::DBInstance", "payments-db",
                  tags={"api_key": TF_TAG_KEY, "env": "prod"}, attrs={"engine": "postgres"})  # fmt: skip
    tf_fn = Resource(LAMBDA.replace("payments", "ledger"), "aws", "aws-test", A, "us-east-1",
                     "AWS::Lambda::Function", "ledger",
                     attrs={"environment": {"API_TOKEN": fp(TF_ENV_TOKEN)}})  # fmt: skip
    props = {"httpsOnly": True, "connectionString": CONN,
             "connectionStrings": [{"name": "db", "type": "SQLAzure", "connectionString": CONN}]}  # fmt: skip
    extras = {"appSettings": {"DB_PASSWORD": APP_PASSWORD, "MODE": "prod"}}
    site = Resource(SITE.lower(), "azure", "azure-test", SUB.rsplit("/", 1)[1], "westeurope",
                    "microsoft.web/sites", "pay-api",  # as the collector's `_build` redacts
                    attrs={"properties": redact(props, fp), **redact(extras, fp, keep=frozenset())})  # fmt: skip
    group = Resource(GROUP.lower(), "azure", "azure-test", SUB.rsplit("/", 1)[1], "westeurope",
                     "microsoft.resources/subscriptions/resourcegroups", "rg-pay",
                     tags={"db_password": TF_GROUP_PASSWORD, "env": "prod"})  # fmt: skip
    doc = {"name": "vm-1", "disks": [{"diskEncryptionKey": {"kmsKeyName": KMS_KEY}}],
           "metadata": {"items": [{"key": "startup-script", "value": SCRIPT},
                                  {"key": "enable-oslogin", "value": "TRUE"}]}}  # fmt: skip
    vm = Resource(VM, "gcp", "gcp-test", "pay-prod", "us-central1", INSTANCE, "vm-1",
                  attrs={"resource": redact_document(INSTANCE, doc, fp)})  # fmt: skip
    obj = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {},
           "data": {"password": K8S_PASSWORD}}  # fmt: skip
    secret = Resource(SECRET, "kubernetes", "k8s-test", "k8s-test", "k8s-test", "Secret", "pay/db",
                      attrs=document(obj, "Secret", fp))  # fmt: skip
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": {"LOG_LEVEL": "info"}}
    settings = Resource(SETTINGS, "kubernetes", "k8s-test", "k8s-test", "k8s-test", "ConfigMap",
                        "pay/settings", tags={"api-token": LABEL_TOKEN},  # labels are tags
                        attrs=document(cm, "ConfigMap", fp))  # fmt: skip
    return [
        _run("aws-test", "aws", fp, fn, db, tf_fn),
        _run("azure-test", "azure", fp, site, group),
        _run("gcp-test", "gcp", fp, vm),
        _run("k8s-test", "kubernetes", fp, secret, settings),
    ]


def _yaml(suffix: str) -> dict[str, Any]:
    """Declarations of the live secrets, in clear; each with `suffix` appended."""

    def s(v: str) -> str:
        return v + suffix

    return {"resources": [
        {"key": LAMBDA, "runtime": "python3.12", "tags": {"api_token": s(TAG_TOKEN), "team": "pay"},
         "environment": {"API_TOKEN": s(ENV_TOKEN), "LOG_LEVEL": "info"}},
        {"key": SITE, "properties": {"httpsOnly": True, "connectionString": s(CONN), "connectionStrings": [
            {"name": "db", "type": "SQLAzure", "connectionString": s(CONN)}]},
         "appSettings": {"DB_PASSWORD": s(APP_PASSWORD), "MODE": "prod"}},
        {"key": VM, "resource": {"disks": [{"diskEncryptionKey": {"kmsKeyName": KMS_KEY}}],
                                 "metadata": {"items": [{"key": "startup-script", "value": s(SCRIPT)},
                                                        {"key": "enable-oslogin", "value": "TRUE"}]}}},
        {"key": SECRET, "data": {"password": s(K8S_PASSWORD)}},
    ]}  # fmt: skip


def _manifest(suffix: str) -> str:
    """A manifest of the ConfigMap, its secret-looking label in clear."""
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "settings", "namespace": "pay", "labels": {"api-token": LABEL_TOKEN + suffix}},
        "data": {"LOG_LEVEL": "info"}})  # fmt: skip


def _state(suffix: str) -> dict[str, Any]:
    """A Terraform state of the RDS instance, a Lambda and a resource group, secrets in clear."""
    aws, az = ('provider["registry.terraform.io/hashicorp/aws"]',
               'provider["registry.terraform.io/hashicorp/azurerm"]')  # fmt: skip

    def res(tf_type: str, provider: str, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"mode": "managed", "type": tf_type, "name": "r", "provider": provider,
                "instances": [{"attributes": attrs}]}  # fmt: skip

    return {"version": 4, "terraform_version": "1.7.5", "serial": 1, "lineage": "l", "resources": [
        res("aws_db_instance", aws, {"arn": DB, "identifier": "payments-db", "engine": "postgres",
                                     "password": "TFDBPASS", "tags": {"api_key": TF_TAG_KEY + suffix, "env": "prod"}}),
        res("aws_lambda_function", aws, {"arn": LAMBDA.replace("payments", "ledger"), "function_name": "ledger",
                                         "environment": [{"variables": {"API_TOKEN": TF_ENV_TOKEN + suffix}}]}),
        res("azurerm_resource_group", az, {"id": GROUP, "name": "rg-pay", "location": "westeurope",
                                           "tags": {"db_password": TF_GROUP_PASSWORD + suffix, "env": "prod"}}),
    ]}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """A store scanned once (its live secrets fingerprinted with the store's key file) and a
    config declaring them from a YAML file and a Terraform state, each value + `suffix`."""
    monkeypatch.delenv("DRIFTSCAN_FINGERPRINT_KEY", raising=False)
    cfg = tmp_path / "driftscan.yaml"
    (tmp_path / "kubeconfig").write_text("{}")
    cfg.write_text(yaml.safe_dump({"store": "store.duckdb", "desired": [
        {"path": "desired.yaml"}, {"terraform": "terraform.tfstate"}, {"kubernetes": "manifests"}],
        "sources": [{"name": "k8s-test", "type": "kubernetes", "kubeconfig": "kubeconfig"}]}))  # fmt: skip
    (tmp_path / "manifests").mkdir()
    fp = load_fingerprinter(load_config(cfg).key_path)  # creates the store's key, as a scan does
    with Store(tmp_path / "store.duckdb") as st:
        write(st, _live(fp))

    def declare(suffix: str) -> Path:
        (tmp_path / "desired.yaml").write_text(yaml.safe_dump(_yaml(suffix)))
        (tmp_path / "terraform.tfstate").write_text(json.dumps(_state(suffix)))
        (tmp_path / "manifests" / "settings.yaml").write_text(_manifest(suffix))
        return cfg

    return declare


def _diff(cfg: Path) -> tuple[int, dict[str, Any], str]:
    res = CliRunner().invoke(app, ["diff", "-c", str(cfg), "--format", "json"])
    return res.exit_code, json.loads(res.stdout), res.output


def _stored_text(cfg: Path) -> str:
    """Everything the declared-state views and the drift view hold, as text, and the file's bytes."""
    with Store(cfg.parent / "store.duckdb", read_only=True) as st:
        parts = [
            st.query(f"select coalesce(string_agg(t::varchar, '|'), '') from {view} t")[1][0][0]
            for view in ("desired", "desired_attrs", "drift", "drift_changes")
        ]
    return "|".join(parts) + (cfg.parent / "store.duckdb").read_bytes().decode("latin-1")


def _changes(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {c["resource"]: [p["path"] for p in c["changes"]] for c in doc["changes"]}


def test_an_unchanged_declared_secret_is_no_drift_and_is_never_stored_in_clear(
    project: Callable[[str], Path],
) -> None:
    """Declared secrets under tags (labels too), properties, app settings, environment, Compute
    metadata and Secret data compare equal to the live fingerprints, and no cleartext reaches the store or
    the diff's output."""
    cfg = project("")
    code, doc, out = _diff(cfg)
    assert code == 0 and _changes(doc) == {}, out
    assert doc["coverage"]["managed"] == 8 and doc["coverage"]["unmanaged"] == 0
    text = _stored_text(cfg)
    assert not any(s in out or s in text for s in SECRETS)
    assert "TFDBPASS" not in text  # a state attribute no mapping declares stays out anyway


def test_a_changed_declared_secret_is_drift_shown_as_fingerprints(
    project: Callable[[str], Path],
) -> None:
    """A declared secret that differs from the live one is drift at its path, both sides keyed
    fingerprints, and the new value is no more stored in clear than the old."""
    cfg = project("-rotated")
    code, doc, out = _diff(cfg)
    assert code == 1, out
    assert _changes(doc) == {
        LAMBDA: ["environment.API_TOKEN", "tags.api_token"],
        SITE.lower(): ["appSettings.DB_PASSWORD", "properties.connectionString",
                       "properties.connectionStrings[0].connectionString"],
        VM: ["resource.metadata.items[0].value"],
        SECRET: ["data.password"],
        DB: ["tags.api_key"],
        LAMBDA.replace("payments", "ledger"): ["environment.API_TOKEN"],
        GROUP.lower(): ["tags.db_password"],
        SETTINGS: ["tags.api-token"],
    }  # fmt: skip
    for c in doc["changes"]:
        for p in c["changes"]:
            assert p["desired"].startswith("hmac-sha256:") and p["actual"].startswith(
                "hmac-sha256:"
            ), p
    text = _stored_text(cfg)
    assert not any(s in out or s in text for s in SECRETS)
