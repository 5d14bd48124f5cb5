"""The built-in framework catalogues: complete, titled, validated, extensible (issue 19)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from driftscan.assets import rules_dir
from driftscan.compliance import load_dirs
from driftscan.errors import RuleError
from driftscan.yamlsrc import parse_yaml
from tests.compliance.conftest import builtin_pack

# Framework id -> (fewest requirements a whole catalogue has, the shape of its ids).
CATALOGUES = {
    "pci-dss-4.0.1": (240, r"(\d{1,2}|A[1-3])(\.\d{1,2}){2,4}"),
    "cis-aws-foundations-3.0": (55, r"[1-5](\.\d{1,2}){1,2}"),
    "cis-azure-foundations-2.1": (100, r"([1-9]|10)(\.\d{1,2}){1,2}"),
    "cis-kubernetes-1.9": (100, r"[1-5](\.\d{1,2}){1,2}"),
    "cis-gcp-foundations-3.0": (70, r"[1-8](\.\d{1,2}){1,2}"),
    "soc2-2017-tsc": (50, r"(CC[1-9]|A1|C1|PI1|P[1-8])\.\d"),
    "data-residency": (3, r"DR-\d+"),
}
# Rules about the scan itself rather than the estate: they may go uncited. Every other rule
# in the pack evidences some requirement, or it is evidence nobody can file.
META_RULES = frozenset({"coverage_slice_not_assessed", "waiver_expired"})


def _framework_file(name: str) -> Path:
    return rules_dir() / "frameworks" / f"{name}.yaml"


def _copy_pack(tmp_path: Path) -> Path:
    """A writable copy of the built-in pack (rules and frameworks) to break on purpose."""
    dest = tmp_path / "pack"
    shutil.copytree(rules_dir(), dest, ignore=shutil.ignore_patterns("*.md"))
    return dest


class TestBuiltinCatalogues:
    def test_every_catalogue_loads_with_a_plausible_count(self) -> None:
        """Each built-in catalogue loads and holds about as many requirements as its standard."""
        pack = builtin_pack()
        assert set(CATALOGUES) <= set(pack.frameworks)
        for name, (least, _) in CATALOGUES.items():
            assert len(pack.frameworks[name].requirements) >= least, name

    def test_requirement_ids_have_the_standards_shape(self) -> None:
        """Every requirement id looks like one of its standard's ids (a typo would not)."""
        pack = builtin_pack()
        for name, (_, shape) in CATALOGUES.items():
            bad = [r for r in pack.frameworks[name].requirements if not re.fullmatch(shape, r)]
            assert bad == [], name

    def test_pci_covers_all_twelve_principal_requirements(self) -> None:
        """PCI DSS lists requirements under each of its 12 principal requirements."""
        reqs = builtin_pack().frameworks["pci-dss-4.0.1"].requirements
        assert {r.split(".")[0] for r in reqs if r[0].isdigit()} == {str(i) for i in range(1, 13)}

    def test_every_requirement_has_a_short_title(self) -> None:
        """Every requirement carries a title of at most 15 words (a paraphrase, not the text)."""
        pack = builtin_pack()
        for name in CATALOGUES:
            fw = pack.frameworks[name]
            for req in fw.requirements:
                title = fw.titles.get(req, "")
                assert title.strip() and len(title.split()) <= 15, f"{name} {req}: {title!r}"

    def test_every_requirement_is_mapped_or_manual(self) -> None:
        """No built-in requirement is left with neither rules nor manual: true."""
        pack = builtin_pack()
        for name in CATALOGUES:
            fw = pack.frameworks[name]
            empty = [r for r, ids in fw.requirements.items() if not ids and r not in fw.manual]
            assert empty == [], name

    def test_catalogues_give_version_and_source(self) -> None:
        """Each catalogue file names its title, version and source."""
        for name in CATALOGUES:
            data, _ = parse_yaml(_framework_file(name).read_text(), name)
            assert all(str(data.get(k) or "").strip() for k in ("title", "version", "source")), name

    def test_requirement_ids_are_unique_in_each_file(self) -> None:
        """No requirement key is written twice in a file (the loaded map would hide it)."""
        key = re.compile(r'^  "([^"]+)":\s*$')
        for name in CATALOGUES:
            lines = _framework_file(name).read_text().splitlines()
            ids = [m.group(1) for m in map(key.match, lines) if m]
            assert len(ids) == len(set(ids)) == len(builtin_pack().frameworks[name].requirements)

    def test_every_estate_rule_is_cited(self) -> None:
        """Every rule except the meta rules evidences at least one framework requirement."""
        pack = builtin_pack()
        uncited = sorted(rid for rid, r in pack.rules.items() if not r.frameworks)
        assert [r for r in uncited if r not in META_RULES] == []

    def test_automated_share_of_cis_aws(self) -> None:
        """Most CIS AWS recommendations are automated: the benchmark is mostly API-visible."""
        fw = builtin_pack().frameworks["cis-aws-foundations-3.0"]
        mapped = [r for r, ids in fw.requirements.items() if ids]
        assert len(mapped) >= 20 and {"1.10", "1.14", "3.2", "3.7", "5.1"} <= set(mapped)

    def test_manual_only_requirements_cite_no_rule(self) -> None:
        """A people-only PCI requirement (the security policy) is manual and maps no rule."""
        fw = builtin_pack().frameworks["pci-dss-4.0.1"]
        assert "12.1.1" in fw.manual and fw.requirements["12.1.1"] == []
        assert "8.3.6" in fw.manual or fw.requirements["8.3.6"]


class TestCatalogueErrors:
    def test_unknown_rule_id_names_file_and_line(self, tmp_path: Path) -> None:
        """A catalogue citing a rule no folder defines fails at that requirement's rules line."""
        pack = _copy_pack(tmp_path)
        path = pack / "frameworks" / "cis-aws-foundations-3.0.yaml"
        lines = path.read_text().splitlines()
        at = next(i for i, x in enumerate(lines) if x.startswith("    rules: ["))
        lines[at] = lines[at].replace("rules: [", "rules: [no_such_rule, ", 1)
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(RuleError) as e:
            load_dirs([pack])
        assert "unknown rule 'no_such_rule'" in e.value.message
        assert (e.value.file, e.value.line) == (str(path), at + 1)

    def test_requirement_with_neither_rules_nor_manual_names_file_and_line(
        self, tmp_path: Path
    ) -> None:
        """A requirement left with only a title fails at its id's line."""
        pack = _copy_pack(tmp_path)
        path = pack / "frameworks" / "pci-dss-4.0.1.yaml"
        lines = path.read_text().splitlines()
        key = next(i for i, x in enumerate(lines) if x == '  "12.1.1":')
        assert lines[key + 2].startswith("    manual: true")
        del lines[key + 2]
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(RuleError) as e:
            load_dirs([pack])
        assert "requirements.12.1.1" in e.value.message and "manual: true" in e.value.message
        assert (e.value.file, e.value.line) == (str(path), key + 1)

    def test_duplicate_requirement_id_names_file_and_line(self, tmp_path: Path) -> None:
        """A requirement id written twice fails at the second occurrence."""
        pack = _copy_pack(tmp_path)
        path = pack / "frameworks" / "soc2-2017-tsc.yaml"
        text = path.read_text()
        extra = '  "CC1.1":\n    title: Written twice\n    manual: true\n'
        path.write_text(text + extra)
        with pytest.raises(RuleError) as e:
            load_dirs([pack])
        assert "duplicate key 'CC1.1'" in e.value.message
        assert (e.value.file, e.value.line) == (str(path), len(text.splitlines()) + 1)


def _readme_block(first_line: str) -> str:
    """The ```yaml block of rules/README.md that starts with first_line."""
    text = (rules_dir() / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    return next(b for b in blocks if b.startswith(first_line))


class TestUserFrameworks:
    def test_readme_example_loads_and_extends_the_builtin(self, tmp_path: Path) -> None:
        """The README's company policy loads, and its pci-dss-4.0.1 file extends the built-in."""
        mine = tmp_path / "my-rules"
        (mine / "frameworks").mkdir(parents=True)
        (mine / "frameworks" / "acme-policy.yaml").write_text(
            _readme_block("# my-rules/frameworks/acme-policy.yaml")
        )
        (mine / "frameworks" / "pci-dss-4.0.1.yaml").write_text(
            _readme_block("# my-rules/frameworks/pci-dss-4.0.1.yaml")
        )
        rule = (rules_dir() / "host_clock_offset.yaml").read_text()
        (mine / "acme_chrony_config_pinned.yaml").write_text(
            rule.replace("id: host_clock_offset", "id: acme_chrony_config_pinned", 1)
        )
        pack = load_dirs([rules_dir(), mine])
        acme = pack.frameworks["acme-policy"]
        assert acme.requirements == {"ISP-4.1": ["host_clock_offset"], "ISP-4.2": []}
        assert acme.manual == {"ISP-4.2"}
        pci = pack.frameworks["pci-dss-4.0.1"]
        builtin = builtin_pack().frameworks["pci-dss-4.0.1"]
        assert pci.requirements["10.6.1"] == sorted(
            {*builtin.requirements["10.6.1"], "acme_chrony_config_pinned"}
        )
        assert len(pci.requirements) == len(builtin.requirements)
        assert pci.titles["10.6.1"] == builtin.titles["10.6.1"] and pci.title == builtin.title
        assert pack.rules["acme_chrony_config_pinned"].frameworks == {"pci-dss-4.0.1": ["10.6.1"]}
        assert pack.rules["host_clock_offset"].frameworks["acme-policy"] == ["ISP-4.1"]

    def test_user_framework_with_unknown_rule_fails_in_its_file(self, tmp_path: Path) -> None:
        """A user's catalogue citing a rule that is not loaded names the user's file."""
        mine = tmp_path / "my-rules" / "frameworks"
        mine.mkdir(parents=True)
        (mine / "acme-policy.yaml").write_text(
            'title: ACME\nrequirements:\n  "ISP-1":\n    title: t\n    rules: [acme_missing]\n'
        )
        with pytest.raises(RuleError) as e:
            load_dirs([rules_dir(), tmp_path / "my-rules"])
        assert (e.value.file, e.value.line) == (str(mine / "acme-policy.yaml"), 5)
