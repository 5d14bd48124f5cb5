"""Loading rule files: schema validation, errors that name file and line, frameworks, hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftscan.assets import rules_dir
from driftscan.compliance import load_dirs, validate_sql
from driftscan.errors import RuleError
from driftscan.store import Store
from tests.compliance.conftest import builtin_pack, config, write_rule

GOOD = "SELECT key AS resource, 'ok' AS status, 'fine' AS reason FROM resources"


class TestSchema:
    def test_builtin_pack_loads_with_frameworks(self) -> None:
        """The built-in pack loads, and rules get their frameworks from the mapping files."""
        pack = builtin_pack()
        assert len(pack.rules) >= 20 and {"pci-dss-4.0.1", "data-residency"} <= set(pack.frameworks)
        assert "1.3.1" in pack.rules["pci_no_open_ingress"].frameworks["pci-dss-4.0.1"]
        cov = pack.rules["coverage_slice_not_assessed"].frameworks
        assert cov["data-residency"] == ["DR-2"] and "12.5.2" in cov["pci-dss-4.0.1"]

    def test_missing_key_names_file_and_line(self, tmp_path: Path) -> None:
        """A rule without a required key fails with its file and the key named."""
        (tmp_path / "r1.yaml").write_text("id: r1\ntitle: t\nseverity: high\nquery: select 1\n")
        with pytest.raises(RuleError) as e:
            load_dirs([tmp_path])
        assert e.value.file == str(tmp_path / "r1.yaml") and "description" in e.value.message

    def test_bad_severity_names_its_line(self, tmp_path: Path) -> None:
        """An invalid severity is reported at the line of the severity key."""
        write_rule(tmp_path, "r1", GOOD, severity="urgent")
        with pytest.raises(RuleError) as e:
            load_dirs([tmp_path])
        assert e.value.line == 3 and "severity" in str(e.value)

    def test_id_must_equal_file_name(self, tmp_path: Path) -> None:
        """A rule whose id differs from its file name is refused."""
        path = write_rule(tmp_path, "r1", GOOD)
        path.rename(tmp_path / "other.yaml")
        with pytest.raises(RuleError, match="must equal the file name"):
            load_dirs([tmp_path])

    def test_duplicate_ids_across_folders(self, tmp_path: Path) -> None:
        """The same id in two folders is an error naming both files."""
        write_rule(tmp_path / "a", "r1", GOOD)
        write_rule(tmp_path / "b", "r1", GOOD)
        with pytest.raises(RuleError, match="duplicate rule id 'r1'"):
            load_dirs([tmp_path / "a", tmp_path / "b"])

    def test_rules_do_not_name_frameworks(self, tmp_path: Path) -> None:
        """A rule carrying its own framework sections is refused (mapping files own them)."""
        write_rule(tmp_path, "r1", GOOD, frameworks={"pci-dss-4.0.1": ["1.3.1"]})
        with pytest.raises(RuleError, match="frameworks"):
            load_dirs([tmp_path])

    def test_framework_naming_unknown_rule(self, tmp_path: Path) -> None:
        """A framework mapping that names an unknown rule id fails at its line."""
        write_rule(tmp_path, "r1", GOOD)
        (tmp_path / "frameworks").mkdir()
        (tmp_path / "frameworks" / "fw.yaml").write_text(
            "requirements:\n  '1.1':\n    rules: [r1]\n  '1.2':\n    rules: [nope]\n"
        )
        with pytest.raises(RuleError) as e:
            load_dirs([tmp_path])
        assert "nope" in e.value.message and e.value.line == 5

    def test_invalid_yaml_names_line(self, tmp_path: Path) -> None:
        """Broken YAML is a RuleError with the line of the problem."""
        (tmp_path / "r1.yaml").write_text("id: r1\ntitle: [unclosed\n")
        with pytest.raises(RuleError) as e:
            load_dirs([tmp_path])
        assert e.value.line is not None and e.value.file == str(tmp_path / "r1.yaml")


class TestHash:
    def test_hash_ignores_formatting_and_tracks_content(self, tmp_path: Path) -> None:
        """Reformatting a rule keeps the pack hash; changing its query changes it."""
        write_rule(tmp_path, "r1", GOOD)
        h1 = load_dirs([tmp_path]).hash
        text = (tmp_path / "r1.yaml").read_text()
        (tmp_path / "r1.yaml").write_text("# a comment\n" + text)
        assert load_dirs([tmp_path]).hash == h1
        write_rule(tmp_path, "r1", GOOD + " WHERE true")
        assert load_dirs([tmp_path]).hash != h1

    def test_builtin_hash_is_stable(self) -> None:
        """Loading the built-in pack twice gives the same hash."""
        assert load_dirs([rules_dir()]).hash == builtin_pack().hash


class TestSqlValidation:
    def test_builtin_pack_prepares_against_the_schema(self, store: Store) -> None:
        """Every built-in rule's SQL prepares against an empty store's views."""
        assert validate_sql(store, config(), builtin_pack()) == []

    def test_binder_error_names_file_and_line(self, tmp_path: Path, store: Store) -> None:
        """A query naming an unknown column fails at the line of that column in the rule file."""
        path = write_rule(
            tmp_path,
            "r1",
            "SELECT key AS resource,\n  'ok' AS status,\n  nonsense AS reason\nFROM resources",
        )
        errors = validate_sql(store, config(), load_dirs([tmp_path]))
        assert len(errors) == 1 and errors[0].file == str(path)
        query_line = path.read_text().splitlines().index("query: |") + 1
        assert errors[0].line == query_line + 3 and "nonsense" in errors[0].message

    def test_writes_and_missing_columns_are_refused(self, tmp_path: Path, store: Store) -> None:
        """A rule that is not one SELECT is refused on load; one lacking the contract columns
        does not validate."""
        path = write_rule(tmp_path, "r1", "DELETE FROM span")
        with pytest.raises(RuleError, match="SELECT") as info:
            load_dirs([tmp_path])
        assert info.value.file == str(path)
        path.unlink()
        write_rule(tmp_path, "r2", "SELECT key AS resource FROM resources")
        errors = {
            Path(e.file or "").stem: e.message
            for e in validate_sql(store, config(), load_dirs([tmp_path]))
        }
        assert "status, reason" in errors["r2"]
