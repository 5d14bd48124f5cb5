"""docs/scale/: the Kubernetes manifests deserialise into the API's objects with their required
fields, their driftscan commands use options that exist, and the Airflow DAG compiles (and
imports where Airflow is installed)."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from driftscan.cli import app
from driftscan.stage import parse_shard

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scale"
MODELS = {"ConfigMap": "V1ConfigMap", "PersistentVolumeClaim": "V1PersistentVolumeClaim",
          "CronJob": "V1CronJob"}  # fmt: skip


def _docs() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DOCS / "kubernetes.yaml").read_text()) if d]


def test_manifests_are_kubernetes_objects() -> None:
    from kubernetes.client import ApiClient

    docs = _docs()
    assert [d["kind"] for d in docs] == ["ConfigMap", "PersistentVolumeClaim", "CronJob", "CronJob"]
    client = ApiClient()
    for doc in docs:
        # The client's models refuse a missing required field (client-side validation).
        obj = client._ApiClient__deserialize(doc, MODELS[doc["kind"]])  # type: ignore[attr-defined]
        assert obj.metadata.name
    shards, ingest = (client._ApiClient__deserialize(d, "V1CronJob") for d in docs[2:])  # type: ignore[attr-defined]
    job = shards.spec.job_template.spec
    assert job.completion_mode == "Indexed" and job.completions == job.parallelism == 8
    # The config the pods mount is a driftscan config that loads.
    from driftscan.config import validate_config

    cfg = yaml.safe_load(docs[0]["data"]["driftscan.yaml"])
    assert validate_config(cfg, {}, "configmap", Path("/")).reports.formats == [
        "html",
        "json",
        "oscal",
    ]
    # The ingest runs after the shards (same minute field, a later hour).
    hour = lambda cron: int(cron.split()[1])  # noqa: E731
    assert hour(ingest.spec.schedule) > hour(shards.spec.schedule)


def _commands() -> list[list[str]]:
    out = []
    for doc in _docs():
        if doc["kind"] != "CronJob":
            continue
        for c in doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]:
            for line in " ".join(c["args"]).split(";"):
                words = shlex.split(line.replace("exec ", ""))
                if words and words[0] == "driftscan":
                    out.append(words[1:])
    return out


def test_every_documented_command_and_option_exists() -> None:
    cmds = _commands()
    assert {c[0] for c in cmds} == {"scan", "ingest", "report", "export"}
    runner = CliRunner()
    for words in cmds:
        help_text = runner.invoke(app, [words[0], "--help"], terminal_width=200).output
        for opt in (w for w in words if w.startswith("--")):
            assert opt in help_text, (words[0], opt)
    [scan] = [c for c in cmds if c[0] == "scan"]
    shard = scan[scan.index("--shard") + 1]
    # What each of the 8 pods passes: JOB_COMPLETION_INDEX 0..7 → shards 1/8 .. 8/8.
    made = [
        parse_shard(re.sub(r"\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)", str(i + 1), shard))
        for i in range(8)
    ]
    assert [(s.k, s.n) for s in made] == [(k, 8) for k in range(1, 9)]


def test_airflow_dag_compiles_and_imports_where_airflow_is() -> None:
    path = DOCS / "driftscan_dag.py"
    compile(path.read_text(), str(path), "exec")
    text = path.read_text()
    assert (
        "shard.expand(k=list(range(1, SHARDS + 1)))" in text and 'trigger_rule="all_done"' in text
    )
    if importlib.util.find_spec("airflow") is None:
        pytest.skip("Airflow is not installed: the DAG was compiled, not imported")
    spec = importlib.util.spec_from_file_location("driftscan_dag", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = [v for v in vars(module).values() if type(v).__name__ == "DAG"]
    assert dags and {t.task_id for t in dags[0].tasks} >= {"shard", "ingest"}
