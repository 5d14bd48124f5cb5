"""The project's corpus of Terraform states (tests/data/tfcorpus): mapping share and format 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftscan.config import Config, validate_config
from driftscan.desired import Declaration, load_desired
from driftscan.desired.terraform import TfLoad, provider_share, type_stats

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = DATA / "tfcorpus"
# Values the corpus's states hold in clear (passwords, keys, tokens): never declared or stored.
SECRETS = (
    "invented-Secret-123",
    "invented-token-do-not-store",
    "invented-storage-key-do-not-store",
    "invented-law-key",
    "invented-kube-token",
)


def _config(*entries: dict[str, Any]) -> Config:
    return validate_config({"desired": list(entries)}, {}, "driftscan.yaml", DATA)


@pytest.fixture(scope="module")
def corpus() -> tuple[list[Declaration], TfLoad]:
    ds = load_desired(_config({"terraform": "tfcorpus/*.tfstate"}))
    assert ds.terraform is not None and not ds.failed
    return ds.declarations, ds.terraform


def test_corpus_maps_at_least_80_percent_of_aws_and_azurerm_instances(
    corpus: tuple[list[Declaration], TfLoad],
) -> None:
    """Of the managed instances of AWS and azurerm types in the corpus, at least 80 % are mapped."""
    _, load = corpus
    share = provider_share(type_stats(load))
    for provider, s in share.items():
        print(  # the figure the issue asks to see, with -s
            f"{provider}: {s['mapped']}/{s['instances']} mapped ({s['mapped_pct']} %), "
            f"{s['presence_only']} presence only, {s['skipped']} skipped"
        )
    assert set(share) == {"aws", "azurerm"}
    assert share["aws"]["instances"] >= 200 and share["azurerm"]["instances"] >= 80
    assert share["aws"]["mapped_pct"] >= 80.0
    assert share["azurerm"]["mapped_pct"] >= 80.0


def test_every_corpus_file_and_format_is_read(corpus: tuple[list[Declaration], TfLoad]) -> None:
    """Format 3 (Terraform 0.11, terraformer), 0.12's format 4 and today's all give declarations."""
    decls, _ = corpus
    files = {d.source.split("#")[0].rsplit("/", 1)[-1] for d in decls}
    assert files == {p.name for p in CORPUS.glob("*.tfstate")}
    v3 = [d for d in decls if "/v3-" in d.source]
    assert {d.provider for d in v3} == {"aws", "azure"} and len(v3) > 60


def test_no_secret_from_a_state_is_declared(corpus: tuple[list[Declaration], TfLoad]) -> None:
    """Passwords, keys and tokens that the states hold never reach a declaration."""
    decls, _ = corpus
    text = json.dumps([(d.key, d.declared) for d in decls])
    for secret in SECRETS:
        assert secret not in text
    fn = next(d for d in decls if d.key and d.key.endswith(":function:create-order"))
    assert fn.declared["environment"]["API_TOKEN"].startswith("hmac-sha256:")


def test_children_fold_into_their_parents(corpus: tuple[list[Declaration], TfLoad]) -> None:
    """Associations, attachments and rules join the resource the collector stores them in."""
    decls, _ = corpus
    by_key = {d.key: d for d in decls}
    prod = "arn:aws:iam::210987654321"
    role = by_key[f"{prod}:role/prod-ecs-exec"]
    assert role.declared["attached_policy_arns"] == [
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    ]
    tables = [d for d in decls if d.type == "AWS::EC2::RouteTable" and "subnets" in d.declared]
    assert tables and all(len(d.declared["subnets"]) >= 1 for d in tables)
    public = next(d for d in tables if d.name == "prod-public")
    assert len(public.declared["subnets"]) == 3
    nic = next(d for d in decls if d.key and d.key.endswith("/networkinterfaces/nic-vm-web-0")
               and "rg-workload-prod" in d.key)  # fmt: skip
    assert nic.type == "microsoft.network/networkinterfaces"
    assert nic.declared["networkSecurityGroup"].endswith("/networkSecurityGroups/nsg-web")
    assert not any("|" in (d.key or "") for d in decls)  # no association keyed as a resource
    nsg_app = next(d for d in decls if d.key and d.key.endswith("/nsg-app")
                   and "rg-workload-prod" in d.key)  # fmt: skip
    assert nsg_app.declared["public"] is False  # its rule resource opens 8080 to a subnet only


class TestFormat3:
    def test_v3_and_v4_of_one_estate_declare_the_same(self) -> None:
        """A format 3 and a format 4 state of the same estate give identical declarations."""
        v4 = load_desired(_config({"terraform": "tfcorpus/twin/estate-v4.tfstate"}))
        v3 = load_desired(_config({"terraform": "tfcorpus/twin/estate-v3.tfstate"}))

        def shape(ds: Any) -> list[tuple[Any, ...]]:
            return sorted(
                (d.key, d.provider, d.type, d.account, d.region, d.name,
                 json.dumps(d.declared, sort_keys=True), d.presence_only, d.source.split("#")[1])
                for d in ds.declarations
            )  # fmt: skip

        got3, got4 = shape(v3), shape(v4)
        assert len(got4) > 60
        assert got3 == got4
        assert v3.terraform.mapped == v4.terraform.mapped
        assert v3.terraform.skipped == v4.terraform.skipped

    def test_security_group_sets_by_hash_index_regroup_like_v4(self) -> None:
        """Rules written as v3 set entries (hash indices) regroup into the collector's shape."""
        ds = load_desired(_config({"terraform": "tfcorpus/v3-aws-app-tf011.tfstate"}))
        alb = next(d for d in ds.declarations if d.name == "prod-alb")
        assert [(r["from_port"], r["cidrs"]) for r in alb.declared["ingress"]] == [
            (443, ["0.0.0.0/0"]),
            (80, ["0.0.0.0/0"]),
        ]
        assert alb.declared["public"] is True
        assert alb.declared["tags"]["Name"] == "prod-alb"


def test_no_secret_from_a_state_reaches_the_store(tmp_path: Path) -> None:
    """After a diff against states holding passwords, keys and tokens, the store holds none."""
    import shutil

    from typer.testing import CliRunner

    import driftscan.cli  # noqa: F401 - registers every command
    from driftscan.clikit import app
    from driftscan.store import Store
    from tests.conftest import make_resources, make_run, write

    for name in ("azure-landing-zone", "aws-serverless-staging", "aws-app-prod", "azure-aks"):
        shutil.copy(CORPUS / f"{name}.tfstate", tmp_path)
    shutil.copy(CORPUS / "v3-azure-landing-zone.tfstate", tmp_path)
    with Store(tmp_path / "store.duckdb") as st:
        write(st, [make_run(make_resources(3))])
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text("store: store.duckdb\ndesired:\n  - terraform: '*.tfstate'\n")
    res = CliRunner().invoke(app, ["diff", "-c", str(cfg), "--format", "json"])
    assert res.exit_code in (1, 3), res.output
    assert json.loads(res.stdout)["coverage"]["declared"] > 50
    data = (tmp_path / "store.duckdb").read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in data and secret not in res.output
    with Store(tmp_path / "store.duckdb", read_only=True) as st:
        _, rows = st.query("SELECT value FROM desired_attr")
    values = json.dumps([list(r) for r in rows], default=str)
    assert len(rows) > 200 and not any(s in values for s in SECRETS)
    assert "hmac-sha256:" in values  # the Lambda environment, as fingerprints
