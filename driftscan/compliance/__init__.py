"""Compliance: the rule loader, the SQL engine, scopes, waivers and the finding lifecycle."""

from driftscan.compliance.engine import CheckResult, evaluate, finding_doc, validate_sql
from driftscan.compliance.rules import Framework, Rule, RulePack, RuleSpec, load_dirs, load_pack

__all__ = [
    "CheckResult",
    "Framework",
    "Rule",
    "RulePack",
    "RuleSpec",
    "evaluate",
    "finding_doc",
    "load_dirs",
    "load_pack",
    "validate_sql",
]
