"""Load the rule pack: one YAML file per rule, framework mapping files, and the pack's hash."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from driftscan.assets import rules_dir
from driftscan.config import Config
from driftscan.errors import ConfigError, RuleError, RuleQueryError
from driftscan.inputs import read_text
from driftscan.model import Severity, canonical_json
from driftscan.store.rule_context import check_select
from driftscan.yamlsrc import Lines, describe_validation, dotted, line_for, parse_yaml

BUILTIN = "builtin"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class RuleSpec(BaseModel):
    """The schema of one rule file (design §3.5); frameworks live in the mapping files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = Field(min_length=1)
    severity: Literal["info", "low", "medium", "high", "critical"]
    description: str = Field(min_length=1)
    risk: str = Field(min_length=1)
    remediation: str = Field(min_length=1)
    scope: str | None = None
    # The resource types the rule evaluates; empty for rules over drift, coverage or waivers.
    types: list[str] = Field(default_factory=list)
    # Defaults for the parameters the query reads with param('name'); config.params overrides.
    params: dict[str, Any] = Field(default_factory=dict)
    query: str = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("an id is lower-case letters, digits and underscores")
        return v


@dataclass(frozen=True)
class Rule:
    """A loaded rule: its spec, where it came from, and the frameworks that cite it."""

    spec: RuleSpec
    file: str
    query_line: int | None
    frameworks: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def severity(self) -> Severity:
        return self.spec.severity


@dataclass(frozen=True)
class Framework:
    """A framework mapping file: requirement → the rule ids that evidence it."""

    name: str
    title: str
    file: str
    requirements: dict[str, list[str]]
    titles: dict[str, str]
    # Requirements (or their parts) that no rule can check: evidenced by attestations.
    manual: frozenset[str] = frozenset()
    lines: Lines = field(default_factory=dict, repr=False, compare=False)
    version: str | None = None
    source: str | None = None  # where the standard is published (a URL or document name)
    # The providers a provider-specific benchmark is about (CIS AWS: aws); empty for a
    # framework over every provider. A report leaves out a framework none of whose providers
    # the scan read.
    providers: frozenset[str] = frozenset()

    def line(self, req: str) -> int | None:
        """The line of requirement `req` in the framework file."""
        return line_for(self.lines, ("requirements", req))


@dataclass
class RulePack:
    """Every loaded rule by id, the framework mappings, and the pack's content hash."""

    rules: dict[str, Rule]
    frameworks: dict[str, Framework]
    hash: str
    dirs: list[Path]

    def params(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Rule parameter defaults with config.params laid over them."""
        out: dict[str, Any] = {}
        for rule in self.rules.values():
            out.update(rule.spec.params)
        out.update(overrides)
        return out

    def select(self, framework: str | None = None, rule_ids: list[str] | None = None) -> list[Rule]:
        """The rules to evaluate, sorted by id: all, or those a framework maps, or those named."""
        chosen = sorted(self.rules.values(), key=lambda r: r.id)
        if framework is not None:
            fw = self.framework(framework)
            mapped = {rid for ids in fw.requirements.values() for rid in ids}
            chosen = [r for r in chosen if r.id in mapped]
        if rule_ids:
            unknown = sorted(set(rule_ids) - set(self.rules))
            if unknown:
                raise RuleError(f"no rule with id {', '.join(unknown)}")
            chosen = [r for r in chosen if r.id in rule_ids]
        return chosen

    def framework(self, name: str) -> Framework:
        if name not in self.frameworks:
            known = ", ".join(sorted(self.frameworks)) or "none"
            raise RuleError(f"no framework '{name}' (loaded: {known})")
        return self.frameworks[name]


def rule_dirs(config: Config) -> list[Path]:
    """The folders named by config.rules; `builtin` is the pack shipped with driftscan."""
    out = []
    for entry in config.rules:
        p = rules_dir() if entry == BUILTIN else config.resolve(entry)
        if not p.is_dir():
            why = "is not a folder" if p.exists() else "does not exist"
            raise RuleError(f"rule folder '{entry}' {why}", file=str(p))
        out.append(p)
    return out


def load_pack(config: Config) -> RulePack:
    """Load and validate every rule and framework file of the configured folders."""
    return load_dirs(rule_dirs(config))


def load_dirs(dirs: list[Path]) -> RulePack:
    """Load rules from folders (each *.yaml is one rule; frameworks/*.yaml are mappings)."""
    rules: dict[str, Rule] = {}
    canon: dict[str, Any] = {}
    frameworks: dict[str, Framework] = {}
    for d in dirs:
        for path in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]):
            rule, data = _load_rule(path)
            if rule.id in rules:
                raise RuleError(
                    f"duplicate rule id '{rule.id}' (also in {rules[rule.id].file})",
                    file=str(path),
                    line=1,
                )
            rules[rule.id] = rule
            canon[f"rule:{rule.id}"] = data
        fdir = d / "frameworks"
        for path in sorted([*fdir.glob("*.yaml"), *fdir.glob("*.yml")]) if fdir.is_dir() else []:
            fw, data = _load_framework(path, frameworks.get(path.stem))
            frameworks[fw.name] = fw
            canon[f"framework:{fw.name}:{path}"] = data
    for fw in frameworks.values():
        _check_framework_ids(fw, rules)
    # Rules do not name framework sections: a rule's frameworks come from the mapping files.
    cites: dict[str, dict[str, list[str]]] = {rid: {} for rid in rules}
    for fw in sorted(frameworks.values(), key=lambda f: f.name):
        for req, ids in fw.requirements.items():
            for rid in ids:
                cites[rid].setdefault(fw.name, []).append(req)
    final = {
        rid: Rule(
            r.spec,
            r.file,
            r.query_line,
            {k: sorted(set(v), key=_req_key) for k, v in sorted(cites[rid].items())},
        )
        for rid, r in sorted(rules.items())
    }
    # Canonical content, not bytes or paths: reformatting a file or moving the pack does not
    # change the hash, changing what a rule says does.
    body = canonical_json(
        {"rules": {k: v for k, v in canon.items() if k.startswith("rule:")},
         "frameworks": {n: {"title": f.title, "requirements": f.requirements,
                            "manual": sorted(f.manual)}
                        for n, f in sorted(frameworks.items())}}
    )  # fmt: skip
    return RulePack(final, frameworks, hashlib.sha256(body.encode()).hexdigest(), list(dirs))


def _req_key(req: str) -> tuple[Any, ...]:
    # "1.10.1" after "1.9"; non-numeric parts compare as text.
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", req))


def _parse(path: Path) -> tuple[Any, Lines]:
    try:
        text = read_text(path)
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, not a regular file, too large
        raise RuleError(f"cannot read: {exc}", file=str(path)) from None
    try:
        return parse_yaml(text, str(path))
    except ConfigError as exc:
        raise RuleError(exc.message, file=str(path), line=exc.line) from None


def _load_rule(path: Path) -> tuple[Rule, Any]:
    data, lines = _parse(path)
    if not isinstance(data, dict):
        raise RuleError(
            "a rule file is a mapping (id, title, severity, ..., query)", file=str(path), line=1
        )
    if "frameworks" in data:
        raise RuleError(
            "rules do not name framework sections; map them in frameworks/<framework>.yaml",
            file=str(path),
            line=lines.get(("frameworks",)),
        )
    try:
        spec = RuleSpec.model_validate(data)
    except ValidationError as exc:
        loc, msg = describe_validation(exc, data)
        raise RuleError(
            f"{dotted(loc)}: {msg}", file=str(path), line=line_for(lines, loc)
        ) from None
    if spec.id != path.stem:
        raise RuleError(
            f"id '{spec.id}' must equal the file name '{path.stem}'",
            file=str(path),
            line=lines.get(("id",)),
        )
    qline = lines.get(("query",))
    try:
        check_select(spec.query)
    except RuleQueryError as exc:
        raise RuleError(f"query: {exc.message}", file=str(path), line=qline) from None
    return Rule(spec, str(path), qline), data


def _load_framework(path: Path, merge: Framework | None) -> tuple[Framework, Any]:
    data, lines = _parse(path)
    f = str(path)
    if not isinstance(data, dict) or not isinstance(data.get("requirements"), dict):
        raise RuleError(
            "a framework file has `requirements: {id: {title, rules: [...]}}`", file=f, line=1
        )
    reqs: dict[str, list[str]] = dict(merge.requirements) if merge else {}
    titles: dict[str, str] = dict(merge.titles) if merge else {}
    manual: set[str] = set(merge.manual) if merge else set()
    for req, body in data["requirements"].items():
        loc: tuple[str | int, ...] = ("requirements", str(req))
        ids = body.get("rules", []) if isinstance(body, dict) else body
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise RuleError(
                f"{dotted(loc)}: expected a list of rule ids", file=f, line=line_for(lines, loc)
            )
        is_manual = isinstance(body, dict) and body.get("manual") is True
        if not ids and not is_manual:
            raise RuleError(
                f"{dotted(loc)}: a requirement has `rules: [...]`, or `manual: true`, or both",
                file=f,
                line=line_for(lines, loc),
            )
        if is_manual:
            manual.add(str(req))
        reqs[str(req)] = sorted({*reqs.get(str(req), []), *ids})
        if isinstance(body, dict) and body.get("title"):
            titles[str(req)] = str(body["title"])
    providers = data.get("providers", [])
    if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
        raise RuleError(
            "providers: expected a list of provider names (aws, azure, gcp, kubernetes, ssh)",
            file=f,
            line=line_for(lines, ("providers",)),
        )
    fw = Framework(
        name=path.stem,
        title=str(data.get("title") or (merge.title if merge else path.stem)),
        file=f,
        requirements=dict(sorted(reqs.items(), key=lambda kv: _req_key(kv[0]))),
        titles=titles,
        manual=frozenset(manual),
        lines=lines,
        version=_text(data.get("version")) or (merge.version if merge else None),
        source=_text(data.get("source")) or (merge.source if merge else None),
        providers=frozenset(providers) | (merge.providers if merge else frozenset()),
    )
    return fw, data


def _text(v: Any) -> str | None:
    # `version: 3.0` is a float to YAML; the catalogue means the text.
    return None if v is None or isinstance(v, (dict, list)) else str(v)


def _check_framework_ids(fw: Framework, rules: dict[str, Rule]) -> None:
    for req, ids in fw.requirements.items():
        for rid in ids:
            if rid not in rules:
                line = line_for(fw.lines, ("requirements", req, "rules"))
                raise RuleError(
                    f"requirement {req} maps unknown rule '{rid}'", file=fw.file, line=line
                )
