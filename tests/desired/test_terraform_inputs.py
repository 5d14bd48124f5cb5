"""Files people point `terraform:` at by mistake, encodings, globs with a bad file, and bounds."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import driftscan.cli  # noqa: F401 - registers every command
from driftscan.clikit import app
from driftscan.config import Config, validate_config
from driftscan.desired import load_desired
from driftscan.desired import terraform as tf
from driftscan.desired.terraform import expand_flatmap, parse_state
from driftscan.errors import ConfigError

DATA = Path(__file__).resolve().parents[1] / "data"
GOOD = (DATA / "desired_tf/envs/a/terraform.tfstate").read_text()
SECRET = "invented-backend-secret-9d3e"


def _config(base: Path, *entries: dict[str, Any]) -> Config:
    return validate_config({"desired": list(entries)}, {}, "driftscan.yaml", base)


def _err(text: str, name: str = "x.tfstate") -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        parse_state(text, name)
    assert exc.value.file == name
    return exc.value


def _backend(kind: str, config: dict[str, Any]) -> str:
    doc = {"version": 3, "serial": 1, "lineage": "0e0c1b2a",
           "backend": {"type": kind, "config": config, "hash": 4106315581}}  # fmt: skip
    return json.dumps(doc, indent=2)


class TestMistakenFiles:
    @pytest.mark.parametrize(
        ("kind", "config", "where"),
        [
            ("s3", {"bucket": "acme-tfstate", "key": "prod/network.tfstate", "region": "eu-west-1",
                    "secret_key": SECRET}, "s3://acme-tfstate/prod/network.tfstate"),
            ("azurerm", {"storage_account_name": "sttfstate", "container_name": "tfstate",
                         "key": "prod.terraform.tfstate", "access_key": SECRET},
             "azurerm storage account sttfstate, container tfstate, key prod.terraform.tfstate"),
            ("gcs", {"bucket": "acme-tf", "prefix": "env/prod", "credentials": SECRET},
             "gs://acme-tf/env/prod/default.tfstate"),
            ("remote", {"organization": "acme", "workspaces": {"name": "network-prod"},
                        "token": SECRET}, "organization acme, workspace network-prod"),
            ("http", {"address": f"https://ci:{SECRET}@state.example/tf?token={SECRET}"},
             "https://state.example/tf"),
        ],
    )  # fmt: skip
    def test_backend_settings_file_names_the_remote_state(
        self, kind: str, config: dict[str, Any], where: str
    ) -> None:
        """`.terraform/terraform.tfstate` says what it is and where the state is, never a credential."""
        err = _err(_backend(kind, config), ".terraform/terraform.tfstate")
        assert "backend settings file" in err.message and where in err.message
        assert err.key == "backend" and err.line == 5
        assert SECRET not in str(err)

    def test_s3_backend_suggests_the_entry_driftscan_reads(self) -> None:
        """For an S3 backend the message gives the s3:// entry to configure instead."""
        err = _err(_backend("s3", {"bucket": "b", "key": "k.tfstate"}))
        assert "point `terraform:` at s3://b/k.tfstate" in err.message

    def test_json_without_version_is_not_a_state(self) -> None:
        """A JSON object without `version` is "not a Terraform state", naming line 1."""
        err = _err('{"resources": []}')
        assert err.message.startswith("not a Terraform state") and err.line == 1
        plan = _err('{"format_version": "1.0", "values": {"root_module": {}}}')
        assert "terraform show -json" in plan.message

    @pytest.mark.parametrize("text", ["", "   \n\t\n"])
    def test_empty_file_says_empty(self, text: str) -> None:
        """An empty (or blank) file is reported as empty, not as broken JSON."""
        assert "empty file" in _err(text).message

    @pytest.mark.parametrize(
        ("version", "said"),
        [
            (1, "version 1 was written by Terraform before 0.7"),
            (2, "version 2 was written by Terraform before 0.7"),
            (5, "version 5 is newer than any this driftscan knows"),
            ('"4"', 'version "4" is not a state format version'),
        ],
    )
    def test_version_hint_names_terraform_versions(self, version: Any, said: str) -> None:
        """Unsupported versions say who wrote them and which versions driftscan reads."""
        err = _err('{\n  "version": ' + str(version) + "\n}")
        assert said in err.message and (err.key, err.line) == ("version", 2)
        assert "3 (Terraform 0.7 to 0.11, and terraformer)" in err.message
        assert "4 (Terraform 0.12 and later)" in err.message


class TestEncodings:
    @pytest.mark.parametrize(
        "raw",
        [
            codecs.BOM_UTF8 + GOOD.encode(),
            GOOD.encode("utf-16"),  # with its BOM, as PowerShell's `>` writes
            GOOD.encode("utf-16-le"),
            GOOD.encode("utf-16-be"),
        ],
        ids=["utf-8-bom", "utf-16-bom", "utf-16-le", "utf-16-be"],
    )
    def test_bom_and_utf16_are_read(self, tmp_path: Path, raw: bytes) -> None:
        """A UTF-8 BOM is accepted and UTF-16 states are read like UTF-8 ones."""
        (tmp_path / "s.tfstate").write_bytes(raw)
        ds = load_desired(_config(tmp_path, {"terraform": "s.tfstate"}))
        plain = load_desired(_config(DATA, {"terraform": "desired_tf/envs/a/terraform.tfstate"}))
        assert [d.key for d in ds.declarations] == [d.key for d in plain.declarations]
        assert ds.declarations

    def test_other_bytes_are_refused_naming_the_file(self, tmp_path: Path) -> None:
        """Bytes that are neither UTF-8 nor UTF-16 are a clear error naming the file."""
        (tmp_path / "s.tfstate").write_bytes(b'{"version": 4, "x": "\xff\xfe\xfa"}')
        with pytest.raises(ConfigError, match="not UTF-8 text") as exc:
            load_desired(_config(tmp_path, {"terraform": "s.tfstate"}))
        assert exc.value.file == "s.tfstate"


class TestGlobs:
    def _estate(self, tmp_path: Path) -> Path:
        for env in ("a", "b"):
            (tmp_path / env).mkdir()
            (tmp_path / env / "terraform.tfstate").write_text(
                (DATA / f"desired_tf/envs/{env}/terraform.tfstate").read_text()
            )
        (tmp_path / "broken").mkdir()
        (tmp_path / "broken" / "terraform.tfstate").write_text('{"version": 4, "resources": [')
        return tmp_path

    def test_one_bad_state_does_not_hide_the_others(self, tmp_path: Path) -> None:
        """A glob's bad state is an error naming it; the other states still load."""
        base = self._estate(tmp_path)
        ds = load_desired(_config(base, {"terraform": "*/terraform.tfstate"}))
        assert [d.source.split("#")[0] for d in ds.declarations] == [
            "a/terraform.tfstate",
            "b/terraform.tfstate",
        ]
        assert [e.file for e in ds.failed] == ["broken/terraform.tfstate"]
        assert "invalid JSON" in ds.failed[0].message

    def test_a_single_bad_file_is_still_an_error(self, tmp_path: Path) -> None:
        """Named alone, a bad state fails the load: there is nothing else to read."""
        base = self._estate(tmp_path)
        with pytest.raises(ConfigError, match="invalid JSON"):
            load_desired(_config(base, {"terraform": "broken/terraform.tfstate"}))

    def test_stats_names_the_failed_state_and_exits_3(self, tmp_path: Path) -> None:
        """`desired stats` lists what was read and names the state it could not read (exit 3)."""
        base = self._estate(tmp_path)
        cfg = base / "driftscan.yaml"
        cfg.write_text("desired:\n  - terraform: '*/terraform.tfstate'\n")
        res = CliRunner().invoke(app, ["desired", "stats", "-c", str(cfg), "--format", "json"])
        assert res.exit_code == 3, res.output
        doc = json.loads(res.stdout)
        assert doc["failed"] and "broken/terraform.tfstate" in doc["failed"][0]
        assert doc["providers"]["aws"]["mapped"] >= 2


class TestBounds:
    def test_oversized_state_is_refused_before_it_is_read(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A state larger than the bound is refused, naming the file."""
        monkeypatch.setattr(tf, "MAX_STATE_BYTES", 100)
        (tmp_path / "big.tfstate").write_text(GOOD)
        with pytest.raises(ConfigError, match="more than the 100 bytes") as exc:
            load_desired(_config(tmp_path, {"terraform": "big.tfstate"}))
        assert exc.value.file == "big.tfstate"

    def test_too_many_instances_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A state with more instances than the bound is refused before any is mapped."""
        monkeypatch.setattr(tf, "MAX_INSTANCES", 3)
        insts = [{"attributes": {"id": str(i)}} for i in range(4)]
        doc = {"version": 4, "resources": [{"mode": "managed", "type": "null_resource",
               "name": "n", "provider": "provider.null", "instances": insts}]}  # fmt: skip
        assert "4 resource instances, more than the 3" in _err(json.dumps(doc)).message

    def test_v3_flatmap_keys_deeper_than_the_bound_are_refused(self) -> None:
        """A flatmap key with more segments than the nesting bound is a located error."""
        flat = {".".join(["a"] * 500): "x"}
        doc = {"version": 3, "modules": [{"path": ["root"], "resources": {
            "null_resource.n": {"type": "null_resource", "primary": {"id": "1", "attributes": flat}}}}]}  # fmt: skip
        err = _err(json.dumps(doc))
        assert "nested deeper than" in err.message
        assert err.key == "modules.0.resources.null_resource.n.primary.attributes"


class TestFlatmap:
    def test_counts_maps_sets_and_dotted_map_keys(self) -> None:
        """`#` counts make lists (set hashes in order), `%` maps keep keys with dots whole."""
        flat = {
            "id": "sg-1",
            "tags.%": "2",
            "tags.Name": "web",
            "tags.kubernetes.io/cluster/prod": "owned",
            "ingress.#": "2",
            "ingress.2541437006.from_port": "443",
            "ingress.2541437006.cidr_blocks.#": "1",
            "ingress.2541437006.cidr_blocks.0": "0.0.0.0/0",
            "ingress.104.from_port": "80",
            "ingress.104.cidr_blocks.#": "0",
            "empty.#": "0",
            "blank.%": "0",
            "versioning.#": "1",
            "versioning.0.enabled": "true",
        }
        assert expand_flatmap(flat) == {
            "id": "sg-1",
            "tags": {"Name": "web", "kubernetes.io/cluster/prod": "owned"},
            "ingress": [
                {"from_port": "80", "cidr_blocks": []},
                {"from_port": "443", "cidr_blocks": ["0.0.0.0/0"]},
            ],
            "empty": [],
            "blank": {},
            "versioning": [{"enabled": "true"}],
        }

    def test_modules_and_counted_addresses(self) -> None:
        """v3 module paths and `TYPE.NAME.N` keys become v4's module and index."""
        doc = {"version": 3, "terraform_version": "0.11.14", "modules": [
            {"path": ["root"], "resources": {}},
            {"path": ["root", "net", "edge"], "resources": {
                "aws_eip.nat.1": {"type": "aws_eip", "provider": "provider.aws",
                                  "primary": {"id": "eipalloc-2", "attributes": {"domain": "vpc"}}},
                "aws_eip.nat.0": {"type": "aws_eip", "provider": "provider.aws",
                                  "primary": {"id": "eipalloc-1", "attributes": {}}},
                "data.aws_region.current": {"type": "aws_region", "primary": {"id": "eu-west-1"}},
            }},
        ]}  # fmt: skip
        state = parse_state(json.dumps(doc), "old.tfstate")
        eip = next(r for r in state.resources if r.type == "aws_eip")
        assert (eip.module, eip.name, eip.mode) == ("module.net.module.edge", "nat", "managed")
        assert sorted(i.index_key for i in eip.instances) == [0, 1]  # type: ignore[type-var]
        assert {i.attributes["id"] for i in eip.instances if i.attributes} == {
            "eipalloc-1",
            "eipalloc-2",
        }
        data = next(r for r in state.resources if r.type == "aws_region")
        assert data.mode == "data"


def test_diff_with_an_unreadable_state_is_incomplete_not_clean(tmp_path: Path) -> None:
    """A glob's unreadable state makes `diff` exit 3, naming it; the others are still diffed."""
    from driftscan.store import Store
    from tests.conftest import make_resources, make_run, write

    TestGlobs()._estate(tmp_path)
    with Store(tmp_path / "store.duckdb") as st:
        write(st, [make_run(make_resources(3))])
    cfg = tmp_path / "driftscan.yaml"
    cfg.write_text("store: store.duckdb\ndesired:\n  - terraform: '*/terraform.tfstate'\n")
    res = CliRunner().invoke(app, ["diff", "-c", str(cfg), "--format", "json"])
    assert res.exit_code == 3, res.output
    cov = json.loads(res.stdout)["coverage"]
    assert cov["scan_status"] == "complete"  # the scan itself was whole: the declared side was not
    assert (
        len(cov["desired_failed"]) == 1 and "broken/terraform.tfstate" in cov["desired_failed"][0]
    )
    assert cov["declared"] >= 2
    table = CliRunner().invoke(app, ["diff", "-c", str(cfg), "--format", "table"])
    assert table.exit_code == 3 and "declared state not read" in table.output


def test_an_empty_v3_state_declares_nothing() -> None:
    """A format 3 state without resources (Terraform 0.11 after destroy) loads as empty."""
    ds = load_desired(_config(DATA, {"terraform": "desired_tf/v3.tfstate"}))
    assert len(ds) == 0 and ds.terraform is not None and not ds.terraform.skipped


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"\\ud800x"', "a lone surrogate"),
        ('"a\\udfffb"', "a lone surrogate"),
        ("1e999999", "past 1e308: inf"),
        ("-1e999999", "past 1e308: -inf"),
        ("NaN", "NaN, Infinity"),
        ("Infinity", "NaN, Infinity"),
    ],
)
def test_values_no_store_can_hold_are_refused_with_their_key(value: str, message: str) -> None:
    """A lone surrogate crashed `diff` (exit 70, orjson refuses it); NaN read as the text
    "nan" and 1e999999 as infinity, silently. Each is refused, naming its key and line."""
    doc = json.loads(GOOD)
    doc["resources"][0]["instances"][0]["attributes"]["tags"] = {"owner": "__bad__"}
    text = json.dumps(doc, indent=1).replace('"__bad__"', value)
    e = _err(text)
    assert message in e.message and e.key is not None and e.key.endswith("tags.owner")
    assert (
        e.line == text.splitlines().index(next(ln for ln in text.splitlines() if value in ln)) + 1
    )


def test_a_pair_of_surrogates_is_one_character_and_kept() -> None:
    doc = json.loads(GOOD)
    doc["resources"][0]["instances"][0]["attributes"]["tags"] = {"owner": "\U0001f600"}
    state = parse_state(json.dumps(doc), "x.tfstate")  # ensure_ascii: "\ud83d\ude00"
    assert "\U0001f600" in json.dumps(state.model_dump(), ensure_ascii=False)
