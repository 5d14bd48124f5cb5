"""Declared state in YAML: resources by key or identity, hosts, folders, and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftscan.config import validate_config
from driftscan.desired import compare_versions, load_desired
from driftscan.desired.declaration import Check, identity
from driftscan.errors import ConfigError
from driftscan.providers.azure.keys import azure_type

DATA = Path(__file__).resolve().parents[1] / "data"


def _config(tmp_path: Path, *entries: dict[str, str]) -> object:
    return validate_config({"desired": list(entries)}, {}, str(tmp_path / "driftscan.yaml"), DATA)


class TestLoading:
    def test_folder_loads_every_yaml_file_in_order(self, tmp_path: Path) -> None:
        """A folder entry reads every *.yaml below it, sorted, and names each file and line."""
        ds = load_desired(_config(tmp_path, {"path": "desired/"}))  # type: ignore[arg-type]
        assert ds.files == ["desired/cloud.yaml", "desired/hosts/web.yaml"]
        sources = [d.source for d in ds.declarations]
        assert sources == [
            "desired/cloud.yaml:3",
            "desired/cloud.yaml:8",
            "desired/cloud.yaml:11",
            "desired/hosts/web.yaml:2",
        ]

    def test_resource_declarations_are_partial_documents(self, tmp_path: Path) -> None:
        """Facets and tags keep their names; every other key is an attribute."""
        d = load_desired(_config(tmp_path, {"path": "desired/cloud.yaml"})).declarations  # type: ignore[arg-type]
        assert d[0].key == "arn:aws:s3:::bucket-000000" and d[0].type == "AWS::S3::Bucket"
        assert d[0].declared == {
            "versioning": "Enabled",
            "tags": {"team": "t0"},
            "encrypted": True,
            "public": False,
        }
        assert d[1].declared == {"versioning": "Enabled", "rules": [{"port": 443}]}

    def test_identity_declaration_of_a_bucket_gets_its_key(self, tmp_path: Path) -> None:
        """Bucket names are global, so a bucket named by identity is keyed by its ARN at once."""
        d = load_desired(_config(tmp_path, {"path": "desired/cloud.yaml"})).declarations[2]  # type: ignore[arg-type]
        assert (d.key, d.region, d.name, d.declared) == (
            "arn:aws:s3:::bucket-000002",
            "us-east-1",
            "bucket-000002",
            {"size": 2},
        )

    def test_host_declaration(self, tmp_path: Path) -> None:
        """A host becomes ssh://<name> with exact values and lower bounds as checks."""
        (h,) = load_desired(_config(tmp_path, {"path": "desired/hosts"})).declarations  # type: ignore[arg-type]
        assert (h.key, h.provider, h.type) == ("ssh://web-01", "ssh", "host")
        assert h.declared["packages"] == {"nginx": "1.24.0-2"}
        assert h.declared["files"]["/etc/falcon/policy.json"] == {"sha256": "1" * 64}
        assert h.declared["containers"]["payments"]["digest"] == "sha256:aaaa"
        assert h.checks == [
            Check(("packages", "openssl"), "min_version", "3.0.13"),
            Check(("certs", "/etc/ssl/certs/payments.pem", "days_left"), "min", 30),
        ]

    def test_dotted_attribute_names_nest(self, tmp_path: Path) -> None:
        """`health_check.path: /x` declares the nested attribute health_check.path."""
        f = tmp_path / "tg.yaml"
        f.write_text(
            "resources:\n  - key: arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/a/b\n    health_check.path: /healthz\n"
        )
        (d,) = load_desired(_config(tmp_path, {"path": str(f)})).declarations  # type: ignore[arg-type]
        assert d.declared == {"health_check": {"path": "/healthz"}}
        assert d.type == "AWS::ElasticLoadBalancingV2::TargetGroup"


class TestErrors:
    @pytest.mark.parametrize(
        ("name", "line", "key", "message"),
        [
            ("unknown_host_key.yaml", 4, "hosts[0].pakages_min", "unknown key"),
            ("no_identity.yaml", 3, "resources[1]", "give a 'key'"),
            ("syntax.yaml", 4, None, "invalid YAML"),
        ],
    )
    def test_error_names_file_line_and_key(
        self, tmp_path: Path, name: str, line: int, key: str | None, message: str
    ) -> None:
        """Malformed declared state is refused with the file, the line and the key."""
        with pytest.raises(ConfigError) as exc:
            load_desired(_config(tmp_path, {"path": f"desired_bad/{name}"}))  # type: ignore[arg-type]
        err = exc.value
        assert err.file == f"desired_bad/{name}" and err.line == line and err.key == key
        assert message in err.message

    def test_missing_path_is_an_error(self, tmp_path: Path) -> None:
        """A declared-state path that does not exist is an error, never an empty declaration."""
        with pytest.raises(ConfigError, match="file not found"):
            load_desired(_config(tmp_path, {"path": "desired/nope.yaml"}))  # type: ignore[arg-type]

    def test_unquoted_version_is_refused(self, tmp_path: Path) -> None:
        """A version YAML reads as a number (1.10 → 1.1) is refused rather than mangled."""
        f = tmp_path / "h.yaml"
        f.write_text("hosts:\n  - name: a\n    packages: {nginx: 1.10}\n")
        with pytest.raises(ConfigError) as exc:
            load_desired(_config(tmp_path, {"path": str(f)}))  # type: ignore[arg-type]
        assert exc.value.line == 3 and exc.value.key == "hosts[0].packages.nginx"


class TestIdentityAndVersions:
    def test_identity_from_keys(self) -> None:
        """ARNs, Azure IDs and host keys give provider, account, region and type."""
        i = identity("arn:aws:rds:us-east-1:111122223333:db:payments-db")
        assert (i.provider, i.account, i.region, i.type, i.name) == (
            "aws", "111122223333", "us-east-1", "AWS::RDS::DBInstance", "payments-db",
        )  # fmt: skip
        az = identity(
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Sql/servers/a/databases/b"
        )
        assert az.key == az.key.lower() and az.type == "microsoft.sql/servers/databases"
        assert (
            azure_type("/subscriptions/s/resourcegroups/rg")
            == "microsoft.resources/subscriptions/resourcegroups"
        )
        assert identity("ssh://web-01").type == "host"

    @pytest.mark.parametrize(
        ("a", "b", "sign"),
        [
            ("3.0.13", "3.0.2", 1),
            ("3.0.2-0ubuntu1.15", "3.0.13-1", -1),
            ("1:1.0", "2.0", 1),
            ("1.0-2", "1.0-10", -1),
            ("1.0~rc1", "1.0", -1),
            ("2.36-9+deb12u4", "2.36-9", 1),
            ("1.24.0-2", "1.24.0-2", 0),
            ("1.2a", "1.2", 1),
        ],
    )
    def test_debian_version_order(self, a: str, b: str, sign: int) -> None:
        """Versions compare as dpkg does: epoch, numeric runs, `~` before the end, revision."""
        c = compare_versions(a, b)
        assert (c > 0) - (c < 0) == sign


class TestDeclaredTwice:
    def _load(self, tmp_path: Path, *files: tuple[str, str]) -> None:
        for name, text in files:
            (tmp_path / name).write_text(text)
        cfg = validate_config(
            {"desired": [{"path": name} for name, _ in files]}, {},
            str(tmp_path / "driftscan.yaml"), tmp_path,
        )  # fmt: skip
        load_desired(cfg)

    def test_a_key_declared_in_two_files_names_both_places(self, tmp_path: Path) -> None:
        one = "resources:\n  - key: arn:aws:s3:::b\n    versioning: Enabled\n"
        two = "resources:\n  - key: arn:aws:s3:::other\n  - key: arn:aws:s3:::b\n"
        with pytest.raises(ConfigError) as exc:
            self._load(tmp_path, ("one.yaml", one), ("two.yaml", two))
        msg = str(exc.value)
        assert "'arn:aws:s3:::b' is declared more than once: at one.yaml:2 and two.yaml:3" in msg
        assert "other" not in msg

    def test_the_same_identity_twice_in_one_file(self, tmp_path: Path) -> None:
        """By identity (provider, type, region, name) counts as the same resource too, and every
        duplicate is listed, not only the first."""
        text = (
            "resources:\n"
            "  - {provider: aws, type: 'AWS::S3::Bucket', region: us-east-1, name: x}\n"
            "  - {provider: aws, type: 'AWS::S3::Bucket', region: us-east-1, name: x}\n"
            "  - {key: 'arn:aws:s3:::y'}\n"
            "  - {key: 'arn:aws:s3:::y'}\n"
        )
        with pytest.raises(ConfigError) as exc:
            self._load(tmp_path, ("d.yaml", text))
        msg = str(exc.value)
        assert "at d.yaml:2 and d.yaml:3" in msg and "at d.yaml:4 and d.yaml:5" in msg

    def test_distinct_declarations_load(self, tmp_path: Path) -> None:
        self._load(
            tmp_path,
            ("d.yaml", "resources:\n  - {key: 'arn:aws:s3:::a'}\n  - {key: 'arn:aws:s3:::b'}\n"),
        )
