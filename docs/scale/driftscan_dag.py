"""Airflow DAG: N driftscan shard workers (dynamic task mapping), then one ingest, report, export."""

from __future__ import annotations

import pendulum
from airflow.decorators import dag, task

SHARDS = 8
CONFIG = "/etc/driftscan/driftscan.yaml"
STAGE = "s3://acme-driftscan/stage"  # or a folder every worker and the ingest can reach


@dag(
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["driftscan"],
)
def driftscan_nightly() -> None:
    @task.bash(retries=2)
    def shard(k: int) -> str:
        # Every worker derives the same run id from the config hash and the UTC date.
        return f"driftscan scan -c {CONFIG} --shard {k}/{SHARDS} --stage {STAGE}"

    @task.bash(trigger_rule="all_done")
    def ingest() -> str:
        # all_done: a failed shard still gets an ingest, which records its units as not
        # assessed (exit 3 fails this task) instead of a scan that never happened.
        return f"driftscan ingest {STAGE} -c {CONFIG}"

    @task.bash(trigger_rule="all_done")
    def report_and_export() -> str:
        return f"driftscan report -c {CONFIG} && driftscan export -c {CONFIG} --out /data/export"

    shards = shard.expand(k=list(range(1, SHARDS + 1)))
    shards >> ingest() >> report_and_export()


driftscan_nightly()
