"""The store's tables and the documented views that rules, reports and `driftscan query` read."""

import importlib

SCHEMA_VERSION = "3"

# The stages' tables and views are kept beside their read and write functions: each module
# named here defines DDL (CREATE ... IF NOT EXISTS / CREATE OR REPLACE statements) and
# VIEW_DOCS, applied after the core schema. Imported when first needed, since those modules
# import the store's core, which imports this one.
EXTENSIONS = ("driftscan.store.drift", "driftscan.store.findings", "driftscan.store.attestations")


def extension_ddl() -> list[str]:
    """The DDL of every extension module, in order."""
    out = []
    for name in EXTENSIONS:
        mod = importlib.import_module(name)
        out.append(str(mod.DDL))
        VIEW_DOCS.update(getattr(mod, "VIEW_DOCS", {}))
    return out


# Tables carry no indexes or key constraints: DuckDB's bulk anti-joins are faster than index
# maintenance, and uniqueness is kept by the writer inside one transaction.
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
-- Which fingerprint key (its id, never the key) each scan's secrets were fingerprinted with:
-- a rotation shows as a change of key id, so a fingerprint that changed with it is explained.
CREATE TABLE IF NOT EXISTS fingerprint_key (scan_id BIGINT NOT NULL, key_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS scan_ledger (
    scan_id BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    tool_version VARCHAR NOT NULL,
    config_hash VARCHAR NOT NULL,
    rules_hash VARCHAR NOT NULL,
    resources BIGINT NOT NULL,
    content_hash VARCHAR NOT NULL,
    prev_hash VARCHAR NOT NULL,
    chain_hash VARCHAR NOT NULL,
    pruned BOOLEAN NOT NULL DEFAULT false,
    results_head VARCHAR NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS source_run (
    scan_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR,
    resources BIGINT NOT NULL,
    duration_s DOUBLE NOT NULL,
    identity VARCHAR
);
CREATE TABLE IF NOT EXISTS slice_run (
    scan_id BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reason VARCHAR,
    detail VARCHAR,
    account VARCHAR,
    region VARCHAR,
    types VARCHAR[] NOT NULL,
    keys VARCHAR[] NOT NULL,
    resources BIGINT NOT NULL
);
-- One row per distinct resource document, addressed by its content hash.
CREATE TABLE IF NOT EXISTS version (
    doc_hash VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    provider VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    region VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    tags JSON NOT NULL,
    attrs JSON NOT NULL,
    encrypted BOOLEAN,
    public BOOLEAN,
    error VARCHAR
);
-- The result chain: an append-only, hash-linked list of seals over what a later stage
-- stored for a scan (its findings, its drift, the reports written of it). Each seal holds
-- the content hash of those rows and the scan's own chain hash; `link` hashes the seal with
-- `prev_link`. Every ledger row records the chain's head when it was written (results_head),
-- so a deleted or rewritten seal breaks a link. The newest seal per (scan_id, kind) is the
-- current one; older ones stay as history. Retention never deletes these rows.
CREATE TABLE IF NOT EXISTS result_chain (
    seq BIGINT NOT NULL,
    scan_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    scan_chain_hash VARCHAR NOT NULL,
    prev_link VARCHAR NOT NULL,
    link VARCHAR NOT NULL
);
-- Every report folder written of a scan (absolute path), so `verify` knows them all without
-- a config; sealed into the result chain as kind 'report'.
CREATE TABLE IF NOT EXISTS report_run (
    scan_id BIGINT NOT NULL,
    folder VARCHAR NOT NULL,
    manifest_sha256 VARCHAR NOT NULL,
    signed BOOLEAN NOT NULL,
    key_id VARCHAR,
    written_at TIMESTAMP NOT NULL
);
-- Each attempt to anchor a scan's chain head outside the store (evidence.anchor).
CREATE TABLE IF NOT EXISTS anchor_run (
    scan_id BIGINT NOT NULL,
    target JSON NOT NULL,
    anchored_at TIMESTAMP NOT NULL,
    ok BOOLEAN NOT NULL,
    detail VARCHAR
);
-- Per-scan measurements (Resource.observed), merged into attrs by resources_at().
CREATE TABLE IF NOT EXISTS observation (
    scan_id BIGINT NOT NULL,
    key VARCHAR NOT NULL,
    data JSON NOT NULL
);
-- Validity intervals: key had version doc_hash from first_scan to last_scan (NULL = still
-- current). An unchanged rescan writes no rows here at all.
CREATE TABLE IF NOT EXISTS span (
    key VARCHAR NOT NULL,
    doc_hash VARCHAR NOT NULL,
    first_scan BIGINT NOT NULL,
    last_scan BIGINT
);
"""

# A resource carried forward from an earlier scan because its slice (or its whole source) was
# not read in scan n is present but not assessed: rules report not_assessed, drift never
# calls it missing.
VIEWS = """
-- The content address of one resource version. The writer and `verify` both use this macro,
-- so a stored row whose columns no longer match its address is caught.
CREATE OR REPLACE MACRO version_hash(key, provider, source, account, region, type, name, tags,
                                     attrs, encrypted, public, error) AS
    sha256(to_json({k: key, p: provider, s: source, a: account, r: region, t: type, n: name,
                    tg: tags::VARCHAR, atr: attrs::VARCHAR, e: encrypted, pu: public, er: error}));

CREATE OR REPLACE VIEW scans AS
    SELECT scan_id, started_at, finished_at, status, tool_version, config_hash, rules_hash,
           resources, chain_hash, pruned
    FROM scan_ledger;

CREATE OR REPLACE VIEW source_runs AS SELECT * FROM source_run;

CREATE OR REPLACE VIEW slices AS SELECT * FROM slice_run;

CREATE OR REPLACE VIEW reports AS SELECT * FROM report_run;

CREATE OR REPLACE VIEW resource_versions AS
    SELECT s.key, s.doc_hash, s.first_scan, s.last_scan, v.provider, v.source, v.account,
           v.region, v.type, v.name, v.tags, v.attrs, v.encrypted, v.public, v.error
    FROM span s JOIN version v USING (doc_hash);

-- A slice's `keys` name the resources it covers exactly, or by a pattern ending in `*` that
-- covers every key starting with what comes before it (a namespace: `k8s://src/payments/*`);
-- no keys means everything the slice's account, region and types cover.
CREATE OR REPLACE MACRO slice_has_key(keys, k) AS (
    len(keys) = 0 OR list_contains(keys, k)
    OR list_bool_or(list_transform(keys, lambda p: ends_with(p, '*') AND starts_with(k, p[:-2])))
);

CREATE OR REPLACE MACRO covered_by_failure(n, src, acct, reg, typ, k) AS (
    NOT EXISTS (SELECT 1 FROM source_run r WHERE r.scan_id = n AND r.source = src)
    OR EXISTS (
        SELECT 1 FROM slice_run sl
        WHERE sl.scan_id = n AND sl.status = 'failed' AND sl.source = src
          AND (sl.account IS NULL OR sl.account = acct)
          AND (sl.region IS NULL OR sl.region = reg)
          AND (len(sl.types) = 0 OR list_contains(sl.types, typ))
          AND slice_has_key(sl.keys, k)
    )
);

CREATE OR REPLACE MACRO resources_at(n) AS TABLE
    SELECT n AS scan_id, rv.key, rv.provider, rv.source, rv.account, rv.region, rv.type,
           rv.name, rv.tags,
           CASE WHEN o.data IS NULL THEN rv.attrs ELSE json_merge_patch(rv.attrs, o.data) END
               AS attrs,
           rv.encrypted, rv.public, rv.error, rv.doc_hash,
           rv.first_scan,
           NOT covered_by_failure(n, rv.source, rv.account, rv.region, rv.type, rv.key)
               AND rv.error IS NULL AS assessed
    FROM resource_versions rv
    LEFT JOIN observation o ON o.scan_id = n AND o.key = rv.key
    WHERE rv.first_scan <= n AND (rv.last_scan IS NULL OR rv.last_scan >= n);

CREATE OR REPLACE VIEW resources AS
    SELECT * FROM resources_at((SELECT max(scan_id) FROM scan_ledger WHERE NOT pruned));
"""

VIEW_DOCS = {
    "scans": "the scan ledger: id, times, status, tool version, config and rules hashes, chain hash",
    "source_runs": "per scan and source: status (ok|partial|failed), reason, resource count, duration",
    "slices": "per scan: each region × service / subscription / host slice, its status and reason",
    "reports": "every report folder written of a scan: path, manifest sha256, signed, key id",
    "resource_versions": "every distinct version of every resource with the scans it was valid in",
    "observation": "per scan and key: measurements that change every scan (clock offset, days "
    "left), merged into `attrs` by resources_at()",
    "resources": "the estate at the latest scan (`resources_at(N)` for scan N); `assessed` is false "
    "where the resource's slice was not read and its last known state is carried forward",
}


def view_docs() -> dict[str, str]:
    """Every documented view, the extensions' included."""
    extension_ddl()
    return dict(VIEW_DOCS)
