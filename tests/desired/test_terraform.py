"""Terraform state v4 as declared state: type mappings, globs, s3:// objects and located errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from driftscan.config import Config, validate_config
from driftscan.desired import Declaration, load_desired
from driftscan.errors import ConfigError

DATA = Path(__file__).resolve().parents[1] / "data"
A, R = "111122223333", "eu-west-1"


def _config(*entries: dict[str, Any]) -> Config:
    return validate_config({"desired": list(entries)}, {}, "driftscan.yaml", DATA)


@pytest.fixture(scope="module")
def state() -> dict[str, Declaration]:
    ds = load_desired(_config({"terraform": "desired_tf/terraform.tfstate"}))
    return {d.key: d for d in ds.declarations if d.key}


class TestMappings:
    def test_split_bucket_resources_merge_into_the_bucket(
        self, state: dict[str, Declaration]
    ) -> None:
        """Encryption, public access block and versioning resources join their bucket's declaration."""
        d = state["arn:aws:s3:::acme-archive"]
        assert d.type == "AWS::S3::Bucket" and d.source.endswith("#aws_s3_bucket.archive")
        assert d.declared["encrypted"] is True and d.declared["versioning"] == "Enabled"
        assert d.declared["public_access_block"]["RestrictPublicBuckets"] is True
        assert d.declared["tags"] == {"owner": "data", "env": "prod"}  # tags_all: default tags too
        assert state["arn:aws:s3:::acme-split-only"].declared == {"versioning": "Suspended"}

    def test_security_group_rules_regroup_like_the_collector(
        self, state: dict[str, Declaration]
    ) -> None:
        """Inline rules and rule resources become one entry per protocol and port range."""
        d = state[f"arn:aws:ec2:{R}:{A}:security-group/sg-0a1b2c3d"]
        https = [r for r in d.declared["ingress"] if r["from_port"] == 443]
        assert https == [
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidrs": ["0.0.0.0/0"],
             "ipv6_cidrs": ["::/0"], "groups": [], "prefix_lists": []},
        ]  # fmt: skip
        assert len(d.declared["ingress"]) == 2 and d.declared["public"] is True
        assert (
            d.declared["egress"][0]["protocol"] == "-1"
            and d.declared["egress"][0]["from_port"] is None
        )

    def test_aws_types_map_to_collector_attributes(self, state: dict[str, Declaration]) -> None:
        """Each mapped AWS type is keyed by its ARN and declares the collector's attribute names."""
        db = state[f"arn:aws:rds:{R}:{A}:db:payments-db"]
        assert db.type == "AWS::RDS::DBInstance"
        assert db.declared["engine_version"] == "15.4" and db.declared["backup_retention_days"] == 7
        assert (db.declared["encrypted"], db.declared["public"]) == (True, False)
        assert "password" not in json.dumps(db.declared)
        inst = state[f"arn:aws:ec2:{R}:{A}:instance/i-0abc"]
        assert inst.declared["image_id"] == "ami-12345678" and inst.declared["public"] is False
        lb = next(
            d for d in state.values() if d.type == "AWS::ElasticLoadBalancingV2::LoadBalancer"
        )
        assert lb.declared["scheme"] == "internet-facing" and lb.declared["subnets"] == [
            "subnet-1",
            "subnet-2",
        ]
        tg = next(d for d in state.values() if d.type == "AWS::ElasticLoadBalancingV2::TargetGroup")
        assert tg.declared["health_check"] == {
            "protocol": "HTTP",
            "port": "traffic-port",
            "path": "/",
        }
        assert state[f"arn:aws:ec2:{R}:{A}:volume/vol-1"].declared["size_gib"] == 8
        assert state[f"arn:aws:kms:{R}:{A}:key/1234abcd"].declared["rotation_enabled"] is True

    def test_lambda_environment_is_fingerprinted(self, state: dict[str, Declaration]) -> None:
        """Environment values from the state are compared as fingerprints and never kept in clear."""
        d = state[f"arn:aws:lambda:{R}:{A}:function:payments"]
        assert d.declared["environment"]["API_TOKEN"].startswith("hmac-sha256:")
        assert "tf-canary-do-not-store" not in json.dumps(d.declared)

    def test_azure_ids_are_lower_cased(self, state: dict[str, Declaration]) -> None:
        """Azure resources are keyed by their lower-cased ARM ID with lower-case ARM types."""
        azure = {d.type: d for d in state.values() if d.provider == "azure"}
        assert set(azure) == {
            "microsoft.resources/subscriptions/resourcegroups",
            "microsoft.storage/storageaccounts",
            "microsoft.compute/virtualmachines",
            "microsoft.network/networksecuritygroups",
            "microsoft.keyvault/vaults",
            "microsoft.sql/servers",
        }
        assert all(d.key == (d.key or "").lower() for d in azure.values())
        assert azure["microsoft.resources/subscriptions/resourcegroups"].region == "westeurope"
        assert azure["microsoft.storage/storageaccounts"].declared["public"] is False
        assert azure["microsoft.network/networksecuritygroups"].declared == {"public": True}

    def test_unmapped_types_count_as_present_only(self) -> None:
        """A type without a mapping is managed by presence; one without any key is listed as skipped."""
        ds = load_desired(_config({"terraform": "desired_tf/terraform.tfstate"}))
        assert ds.presence_only == {"aws_cloudwatch_event_rule": 1}
        # an alias's ARN reads like its function's: never keyed, so never a false "missing"
        assert ds.skipped == {"aws_lambda_alias": 1, "random_id": 1}
        rule = next(d for d in ds.declarations if d.key == f"arn:aws:events:{R}:{A}:rule/nightly")
        assert rule.presence_only and rule.type is None
        role = next(d for d in ds.declarations if d.key == f"arn:aws:iam::{A}:role/payments-fn")
        assert not role.presence_only and role.type == "AWS::IAM::Role"
        assert not any(d.key == A for d in ds.declarations)  # data sources declare nothing

    def test_module_and_index_in_the_source(self, state: dict[str, Declaration]) -> None:
        """A module's counted resource names its full address as its desired source."""
        assert state["arn:aws:s3:::acme-logs-0"].source.endswith(
            "#module.logging.aws_s3_bucket.logs[0]"
        )


class TestInputs:
    def test_glob_reads_every_matching_state(self) -> None:
        """A glob entry reads every state it matches, in order."""
        ds = load_desired(_config({"terraform": "desired_tf/envs/*/terraform.tfstate"}))
        assert [d.source.split("#")[0] for d in ds.declarations] == [
            "desired_tf/envs/a/terraform.tfstate",
            "desired_tf/envs/b/terraform.tfstate",
        ]

    def test_glob_matching_nothing_is_an_error(self) -> None:
        """A pattern that matches no state is an error, never an empty declaration."""
        with pytest.raises(ConfigError, match="no Terraform state matches") as exc:
            load_desired(_config({"terraform": "desired_tf/nope/*.tfstate"}))
        assert exc.value.key == "desired[0].terraform"

    @pytest.mark.parametrize(
        ("name", "line", "key", "message"),
        [
            ("v2.tfstate", 2, "version", "version 2 was written by Terraform before 0.7"),
            ("truncated.tfstate", 34, None, "invalid JSON"),
            ("unknown_key.tfstate", 9, "workspace", "unknown key"),
        ],
    )
    def test_bad_state_names_file_line_and_key(
        self, name: str, line: int, key: str | None, message: str
    ) -> None:
        """Wrong format versions, truncated JSON and unknown keys name the file, line and key."""
        with pytest.raises(ConfigError) as exc:
            load_desired(_config({"terraform": f"desired_tf/{name}"}))
        err = exc.value
        assert (err.file, err.line, err.key) == (f"desired_tf/{name}", line, key)
        assert message in err.message


@pytest.fixture(scope="module")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server on 127.0.0.1 with a bucket holding a state; dummy credentials in env only."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            mp.delenv(k, raising=False)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/driftscan-tests/config")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/driftscan-tests/credentials")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        try:
            s3 = boto3.client("s3", endpoint_url=url)
            s3.create_bucket(Bucket="tf-state")
            s3.put_object(Bucket="tf-state", Key="prod/terraform.tfstate",
                          Body=(DATA / "desired_tf/terraform.tfstate").read_bytes())  # fmt: skip
            s3.put_object(
                Bucket="tf-state",
                Key="old.tfstate",
                Body=(DATA / "desired_tf/v2.tfstate").read_bytes(),
            )
            yield url
        finally:
            server.stop()


class TestS3:
    def test_state_is_read_from_s3(self, moto_s3: str) -> None:
        """An s3://bucket/key entry is read with the entry's endpoint and mapped like a file."""
        ds = load_desired(
            _config({"terraform": "s3://tf-state/prod/terraform.tfstate", "endpoint_url": moto_s3})
        )
        keys = {d.key for d in ds.declarations}
        assert "arn:aws:s3:::acme-archive" in keys
        bucket = next(d for d in ds.declarations if d.key == "arn:aws:s3:::acme-archive")
        assert bucket.source == "s3://tf-state/prod/terraform.tfstate#aws_s3_bucket.archive"

    def test_missing_object_and_bad_version_are_config_errors(self, moto_s3: str) -> None:
        """A missing object, or a state in another format version, is a ConfigError naming the URI."""
        with pytest.raises(ConfigError) as exc:
            load_desired(
                _config({"terraform": "s3://tf-state/nope.tfstate", "endpoint_url": moto_s3})
            )
        assert (
            exc.value.file == "s3://tf-state/nope.tfstate"
            and exc.value.key == "desired[0].terraform"
        )
        with pytest.raises(ConfigError) as exc:
            load_desired(
                _config({"terraform": "s3://tf-state/old.tfstate", "endpoint_url": moto_s3})
            )
        assert exc.value.key == "version" and exc.value.line == 2


def test_keys_without_an_arn_take_the_region_of_what_they_name() -> None:
    """A NAT gateway keys in its subnet's region; others in the state's most common one."""
    from driftscan.desired.terraform import TfLoad, TfState, declarations

    def inst(t: str, a: dict[str, Any]) -> dict[str, Any]:
        return {"mode": "managed", "type": t, "name": a["id"], "provider": "provider.aws",
                "instances": [{"attributes": a}]}  # fmt: skip

    east, west = "us-east-1", "eu-west-1"
    resources = [
        inst("aws_acm_certificate", {"id": "c", "arn": f"arn:aws:acm:{east}:{A}:certificate/c"}),
        inst("aws_subnet", {"id": "subnet-e", "arn": f"arn:aws:ec2:{east}:{A}:subnet/subnet-e"}),
        *(inst("aws_sqs_queue", {"id": f"q{i}", "arn": f"arn:aws:sqs:{west}:{A}:q{i}"}) for i in range(3)),
        inst("aws_nat_gateway", {"id": "nat-1", "subnet_id": "subnet-e"}),
        inst("aws_ebs_encryption_by_default", {"id": "ebs", "enabled": True}),
    ]  # fmt: skip
    out = TfLoad()
    declarations(TfState.model_validate({"version": 4, "resources": resources}), "s", out)
    keys = {d.key for d in out.declarations}
    assert f"arn:aws:ec2:{east}:{A}:natgateway/nat-1" in keys
    assert f"arn:aws:ec2:{west}:{A}:ebs-encryption-by-default" in keys


def test_unmapped_arns_of_collected_types_are_never_keyed() -> None:
    """A GuardDuty filter's or a stream consumer's ARN reads like its parent's: skipped, not keyed."""
    from driftscan.desired.terraform import TfLoad, TfState, declarations

    det = f"arn:aws:guardduty:{R}:{A}:detector/d1"
    resources = [
        {"mode": "managed", "type": t, "name": "x", "provider": "provider.aws",
         "instances": [{"attributes": {"id": "x", "arn": arn}}]}
        for t, arn in (("aws_guardduty_filter", f"{det}/filter/f"),
                       ("aws_kinesis_stream_consumer", f"arn:aws:kinesis:{R}:{A}:stream/s/consumer/c:1"),
                       ("aws_eks_node_group", f"arn:aws:eks:{R}:{A}:nodegroup/c/ng/1"))
    ]  # fmt: skip
    out = TfLoad()
    declarations(TfState.model_validate({"version": 4, "resources": resources}), "s", out)
    assert out.skipped == {"aws_guardduty_filter": 1, "aws_kinesis_stream_consumer": 1}
    assert out.presence_only == {"aws_eks_node_group": 1}
    assert [d.type for d in out.declarations] == [None]


def test_known_wrong_keys_are_gone() -> None:
    """An azapi action and a NIC/NSG association are never keyed as resources of their own."""
    from driftscan.desired.terraform import TfLoad, TfState, declarations

    sub = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers"
    nic, nsg = (
        f"{sub}/Microsoft.Network/networkInterfaces/nic",
        f"{sub}/Microsoft.Network/networkSecurityGroups/nsg",
    )
    resources = [
        {"mode": "managed", "type": "azapi_resource_action", "name": "restart",
         "provider": 'provider["registry.terraform.io/azure/azapi"]',
         "instances": [{"attributes": {"id": f"{sub}/Microsoft.Web/sites/app/restart", "action": "restart"}}]},
        {"mode": "managed", "type": "azurerm_network_interface_security_group_association", "name": "a",
         "provider": 'provider["registry.terraform.io/hashicorp/azurerm"]',
         "instances": [{"attributes": {"id": f"{nic}|{nsg}", "network_interface_id": nic,
                                       "network_security_group_id": nsg}}]},
    ]  # fmt: skip
    out = TfLoad()
    declarations(TfState.model_validate({"version": 4, "resources": resources}), "s", out)
    assert out.skipped == {"azapi_resource_action": 1}
    [nic_decl] = out.declarations
    assert (nic_decl.key, nic_decl.type) == (nic.lower(), "microsoft.network/networkinterfaces")
    assert nic_decl.declared == {"networkSecurityGroup": nsg}
