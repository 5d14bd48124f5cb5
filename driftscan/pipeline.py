"""The one composer: scan, diff, check, report and the nightly run, as plain functions.

Commands and users' scripts call these; each stage records what it did in the store.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftscan import providers
from driftscan.collect.base import ProgressFn, run_sources
from driftscan.errors import ConfigError, ExitCode, RuleError
from driftscan.model import FindingStatus, ScanRecord, SourceRun
from driftscan.redaction import Fingerprinter, load_fingerprinter
from driftscan.runlog import RunLog

# Each stage's modules (the store and DuckDB, drift and deepdiff, compliance, the report) are
# imported by the function that runs the stage, so importing this one stays cheap.
if TYPE_CHECKING:
    from driftscan.compliance import CheckResult, RulePack
    from driftscan.config import Config
    from driftscan.drift import DriftResult, ScanDelta
    from driftscan.report import ReportResult
    from driftscan.stage import Shard
    from driftscan.stage.ingest import Assembled
    from driftscan.store import HistoryEntry, Store


@dataclass
class ScanOutcome:
    """What one scan stored, with the per-source runs behind it."""

    record: ScanRecord
    runs: list[SourceRun]
    # Evidence not written outside the store (heads file, anchor): the scan itself is kept.
    evidence_errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.record.status == "complete"


def select_sources(config: Config, names: Sequence[str] | None) -> list[object]:
    """The configured sources (or only those named), with file paths resolved."""
    chosen = [config.source(n) for n in names] if names else list(config.sources)
    out: list[object] = []
    for src in chosen:
        # The provider's fields that name local files: relative means "beside the config file".
        fields = providers.get(src.type).path_fields
        paths = {f: str(config.resolve(v)) for f in fields if (v := getattr(src, f, None))}
        out.append(src.model_copy(update=paths) if paths else src)
    return out


def collect(
    config: Config,
    sources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    *,
    fingerprint: Fingerprinter | None = None,
) -> list[SourceRun]:
    """Read every selected source concurrently; failures become not-assessed slices. Secrets
    are fingerprinted with `fingerprint` (default: the store's key)."""
    selected = select_sources(config, sources)
    if not selected:
        raise ConfigError("no sources configured", file=config.file, key="sources")
    fp = fingerprint or load_fingerprinter(config.key_path)
    return run_sources(selected, progress, fingerprint=fp, concurrency=config.concurrency)


def scan(
    config: Config,
    store: Store | Callable[[], Store],
    *,
    sources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    pack: RulePack | None = None,
) -> ScanOutcome:
    """Collect into a staging bundle, then write everything observed in one transaction
    sealed into the chain. `store` is an open store, or a function that opens it: then it
    is opened (and closed) only for that transaction, after collection and the bundle's
    checks, so readers work while the scan collects (`driftscan scan`). `pack`: the rule pack
    already loaded (its hash goes to the ledger; None records none)."""
    rules_hash = pack.hash if pack is not None else ""
    with collected(config, sources=sources, progress=progress, pack=pack) as staged:
        if not callable(store):
            return staged.ingest(store, rules_hash)
        with store() as st:
            return staged.ingest(st, rules_hash)


@dataclass
class Collected:
    """One scan's sources collected into a verified staging bundle, not yet in any store."""

    config: Config
    folder: Path
    assembled: Assembled
    attested: list[Any] | None
    sources: Sequence[str] | None

    def ingest(self, store: Store, rules_hash: str = "") -> IngestOutcome:
        """Write the bundle into `store` as one scan, in one transaction."""
        return ingest(self.config, store, [self.folder], sources=self.sources,
                      rules_hash=rules_hash, once=False, attested=self.attested,
                      assembled=self.assembled)  # fmt: skip


@contextmanager
def collected(
    config: Config,
    *,
    sources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    pack: RulePack | None = None,
) -> Iterator[Collected]:
    """Collect every selected source into a temporary staging bundle and verify it, touching
    no store; the bundle is removed on leaving."""
    # Before collecting: a bad attestation or a missing evidence file fails fast (exit 2).
    attested = read_attestations(config, pack)
    with staging() as folder:
        stage(config, folder, sources=sources, progress=progress)
        asm = assemble_bundles(config, [folder], sources=sources)
        yield Collected(config, folder, asm, attested, sources)


@contextmanager
def staging() -> Iterator[Path]:
    """A temporary folder for one scan's bundle (under $TMPDIR), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="driftscan-stage-") as tmp:
        yield Path(tmp)


@dataclass
class StageOutcome:
    """What one (shard of a) scan wrote into its staging bundle."""

    folder: Path
    run_id: str
    shard: Shard
    runs: list[SourceRun]
    units: list[str]

    @property
    def complete(self) -> bool:
        return all(r.status == "ok" for r in self.runs)


def stage(
    config: Config,
    folder: Path,
    *,
    shard: Shard | None = None,
    run_id: str | None = None,
    sources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
) -> StageOutcome:
    """Collect shard K/N of the work units (default: all of them) into a staging bundle in
    `folder`, streaming resources to Parquet as they come; touches no store."""
    from driftscan import __version__
    from driftscan.stage import BundleWriter, default_run_id, plan_shard, write_manifest
    from driftscan.stage.bundle import MANIFEST
    from driftscan.stage.shard import ONE

    shard = shard or ONE
    selected = select_sources(config, sources)
    if not selected:
        raise ConfigError("no sources configured", file=config.file, key="sources")
    fp = load_fingerprinter(config.key_path)
    plan = plan_shard(selected, shard)
    run_id = run_id or default_run_id(config.digest)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # a retried shard's: not a bundle until done
    started = datetime.now(UTC)
    writer = BundleWriter(folder)
    runs = run_sources(plan.sources, progress, fingerprint=fp, concurrency=config.concurrency,
                       sink=writer.add)  # fmt: skip
    for r in runs:  # a run built without the sink (a script's collector) is staged whole
        if r.resources:
            writer.add(r.resources)
            r.spooled, r.resources = r.spooled + len(r.resources), []
    entry = writer.close()
    write_manifest(folder, run_id=run_id, shard=(shard.k, shard.n), config_hash=config.digest,
                   tool_version=__version__, started_at=started, finished_at=datetime.now(UTC),
                   units=plan.units, runs=runs, files=[entry] if entry else [],
                   fingerprint=fp)  # fmt: skip
    return StageOutcome(folder, run_id, shard, runs, plan.units)


def assemble_bundles(
    config: Config,
    folders: Sequence[Path],
    *,
    run_id: str | None = None,
    sources: Sequence[str] | None = None,
) -> Assembled:
    """Read and verify the bundles of one run under `folders` (hashes, seals, run id, config
    hash, shard numbering) into the runs of one scan; touches no store."""
    from driftscan.stage.ingest import assemble

    return assemble(folders, sources=select_sources(config, sources), config_hash=config.digest,
                    fingerprint=load_fingerprinter(config.key_path), run_id=run_id)  # fmt: skip


@dataclass
class IngestOutcome(ScanOutcome):
    """A scan written from staging bundles, with what was wrong with the shards."""

    assembled: Assembled | None = None
    already: bool = False  # these bundles were ingested before: nothing written


def ingest(
    config: Config,
    store: Store,
    folders: Sequence[Path],
    *,
    run_id: str | None = None,
    sources: Sequence[str] | None = None,
    rules_hash: str = "",
    once: bool = True,
    attested: list[Any] | None = None,
    assembled: Assembled | None = None,
) -> IngestOutcome:
    """Verify every bundle of one run under `folders` and write them as one scan, in one
    transaction. A missing, duplicated or altered shard leaves its units not assessed.
    With `once`, the run is recorded: the same bundles again write nothing. `attested`:
    the config's attestations, already read (default: read them now); `assembled`: the
    bundles already verified by assemble_bundles (before the store was opened)."""
    from driftscan import __version__
    from driftscan.store.staged import ingested

    if attested is None:
        attested = read_attestations(config)
    fp = load_fingerprinter(config.key_path)
    asm = assembled or assemble_bundles(config, folders, run_id=run_id, sources=sources)
    if once:
        prior = ingested(store, asm.run_id)
        if prior is not None:
            if prior[1] != asm.digest:
                raise ConfigError(
                    f"run '{asm.run_id}' was ingested as scan {prior[0]} from other bundles; "
                    "scan again under a new --run-id",
                    key="--run-id",
                )
            return IngestOutcome(store.scan(prior[0]), asm.runs, assembled=asm, already=True)
    now = datetime.now(UTC)
    record = store.write_scan(
        asm.runs,
        started_at=asm.started_at or now,
        finished_at=asm.finished_at or now,
        tool_version=__version__,
        config_hash=config.digest,
        rules_hash=rules_hash,
        key_id=fp.key_id,
        staged=asm.files,
        staged_run=(asm.run_id, asm.digest, asm.shards) if once else None,
    )
    if attested is not None:
        from driftscan.store.attestations import write_attestations

        write_attestations(store, record.scan_id, [a.row() for a in attested])
    out = IngestOutcome(record, asm.runs, assembled=asm)
    if store.heads_error:
        out.evidence_errors.append(store.heads_error)
    if config.evidence.anchor is not None:
        # After the commit: an anchor that cannot be written is recorded, never loses the scan.
        from driftscan.evidence.anchor import anchor_scan

        failed = anchor_scan(config.evidence.anchor, config.resolve, store, record)
        if failed:
            out.evidence_errors.append(failed)
    return out


def read_attestations(config: Config, pack: RulePack | None = None) -> list[Any] | None:
    """The attestations of the config and its attestations/ folder, checked against the
    loaded frameworks, evidence hashed (AttestationRecord); None when none is configured."""
    from driftscan.compliance.attestations import configured, load_attestations

    if not configured(config):
        return None
    return list(load_attestations(config, (pack or load_rules(config)).frameworks))


def diff(config: Config, store: Store, scan_id: int | None = None) -> DriftResult:
    """Drift of a scan (default: the latest) against the declared state; stored per scan."""
    from driftscan.desired import load_desired
    from driftscan.drift import compare

    return compare(store, load_desired(config), scan_id=scan_id, ignore=config.ignore)


def load_rules(config: Config) -> RulePack:
    """The configured rule pack (built-in and user folders), validated; once per run."""
    from driftscan.compliance import load_pack

    return load_pack(config)


def validate_rules(config: Config, store: Store, pack: RulePack) -> list[RuleError]:
    """Prepare every rule's SQL against the store's views; one RuleError per rule that fails."""
    from driftscan.compliance import validate_sql

    return validate_sql(store, config, pack)


def delta(
    store: Store, scan_id: int | None, against: int, config: Config | None = None
) -> ScanDelta:
    """What changed in the live estate between two scans (config's `ignore` rules apply)."""
    from driftscan.drift import between

    return between(store, scan_id, against, config.ignore if config else ())


@dataclass
class Version:
    """One version of a resource in its timeline, with what changed from the one before."""

    entry: HistoryEntry
    changes: list[dict[str, Any]]
    # The scan in which the resource was absent after this version (deleted, or gone from
    # what was read), when it is not followed at once by another version; and when it ran.
    gone_scan: int | None = None
    gone_at: datetime | None = None
    reappeared: bool = False  # this version follows an absence


def history(store: Store, key: str) -> list[Version]:
    """Every version of one resource, oldest first, each with its changes from the previous,
    and the scans in which it disappeared and reappeared."""
    from driftscan.drift.changes import doc_changes
    from driftscan.providers import registry

    out: list[Version] = []
    prev: dict[str, Any] | None = None
    for v in store.history(key, normalised=registry().normalise_key(key)):
        out.append(Version(v, [] if prev is None else doc_changes(prev, v.doc)))
        prev = v.doc
    for cur, nxt in zip(out, [*out[1:], None], strict=False):
        after = cur.entry.next_scan
        if after is not None and (nxt is None or nxt.entry.first_scan != after):
            cur.gone_scan, cur.gone_at = after, cur.entry.next_at
    for cur, nxt in itertools.pairwise(out):
        nxt.reappeared = cur.gone_scan is not None
    return out


def check(
    config: Config,
    store: Store,
    scan_id: int | None = None,
    framework: str | None = None,
    *,
    pack: RulePack | None = None,
    notify: Callable[[str], None] | None = None,
) -> CheckResult:
    """Evaluate the rule pack (or one framework's rules) for a scan, default the latest, and
    store the findings with their lifecycle. `result.exit_code` follows design §3.3.

    Like make (design §6.3): a scan never diffed while a desired state is configured is
    diffed first, and `notify` is told so."""
    from driftscan.compliance import evaluate
    from driftscan.store import reads

    n = scan_id if scan_id is not None else reads.latest_scan(store)
    # The arguments first (a scan that exists, a framework the pack has): a mistake is one
    # error line, not a diff announced and run before it.
    if n is not None:
        store.scan(n)
    pack = pack or load_rules(config)
    pack.select(framework, None)
    if config.desired and n is not None and not store.read_only and not reads.diffed(store, n):
        (notify or _quiet)(f"scan {n} was never diffed against the desired state: diffing it first")
        diff(config, store, n)
    return evaluate(config, store, pack=pack, scan_id=scan_id, framework=framework)


def _quiet(message: str) -> None:
    pass


def report(
    config: Config,
    store: Store,
    scan_id: int | None = None,
    formats: Sequence[str] | None = None,
    out_dir: str | Path | None = None,
    *,
    pack: RulePack | None = None,
    notify: Callable[[str], None] | None = None,
) -> ReportResult:
    """Write the evidence report of a scan (default: the latest) into a new, sealed folder
    under `out_dir` (default: reports.dir); formats default to reports.formats. The folder is
    recorded in the store (when it is open for writing), so `verify` knows every report.
    `pack` is the rule pack already loaded for this run (default: load it). A scan whose
    rules were never evaluated is checked first (and diffed, if need be), and `notify` told."""
    from driftscan.report import build_report_data, write_report
    from driftscan.report.signing import signer_for
    from driftscan.store import reads
    from driftscan.store.evidence import record_report

    n = scan_id if scan_id is not None else reads.latest_scan(store)
    if n is not None:
        store.scan(n)  # exists: a mistake is one error line, not a check run before it
    pack = pack or load_rules(config)  # once, for the check below and the report's data
    if n is not None and not store.read_only and not reads.checked(store, n):
        (notify or _quiet)(f"scan {n} was never checked: evaluating the rules first")
        check(config, store, n, pack=pack, notify=notify)

    root = Path(out_dir) if out_dir is not None else config.resolve(config.reports.dir)
    data = build_report_data(config, store, scan_id, reports_root=root, pack=pack)
    res = write_report(
        data,
        root,
        list(formats or config.reports.formats),
        signer=signer_for(config),
        passing_limit=config.reports.pdf_passing_limit,
    )
    if not store.read_only:
        record_report(store, res.scan_id, res.folder, res.manifest_sha256, signed=res.signed,
                      key_id=res.key_id)  # fmt: skip
    return res


@dataclass
class RunOutcome:
    """Everything one `driftscan run` did, and the exit code it earns (design §3.3)."""

    scan: ScanOutcome
    drift: DriftResult | None = None
    check: CheckResult | None = None
    report: ReportResult | None = None
    pruned: list[int] = field(default_factory=list)
    duration_s: float = 0.0
    # One driftscan.notify.Delivery per configured notifier (sent or failed).
    notifications: list[Any] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        if not self.scan.complete or (
            self.check is not None and self.check.exit_code == ExitCode.INCOMPLETE
        ):
            return ExitCode.INCOMPLETE
        if (self.drift is not None and self.drift.has_drift) or (
            self.check is not None and self.check.exit_code == ExitCode.FINDINGS
        ):
            return ExitCode.FINDINGS
        return ExitCode.OK


def run(
    config: Config,
    store: Store | Callable[[], Store],
    *,
    sources: Sequence[str] | None = None,
    log: RunLog | None = None,
    with_report: bool = True,
    progress: ProgressFn | None = None,
) -> RunOutcome:
    """scan → diff (when state is declared) → check → report → retention.

    `store` is an open store, or a function that opens it: then the sources are collected
    into a staging bundle first and the store is opened only afterwards, for the ingest and
    the stages after it, so readers work while the run collects (`driftscan run`). The rule
    pack is loaded once, first, so a broken rule file fails before a long scan."""
    log = log or RunLog(quiet=True)
    start = time.monotonic()
    pack = load_rules(config)
    log.event("run.started", config=config.file, store=str(config.store_path), rules_hash=pack.hash)
    if not callable(store):
        scanned = scan(config, store, sources=sources, progress=progress, pack=pack)
        return _after_scan(config, store, scanned, pack, log, with_report, start)
    with collected(config, sources=sources, progress=progress, pack=pack) as staged, store() as st:
        scanned = staged.ingest(st, pack.hash)
        return _after_scan(config, st, scanned, pack, log, with_report, start)


def _after_scan(
    config: Config,
    store: Store,
    scanned: ScanOutcome,
    pack: RulePack,
    log: RunLog,
    with_report: bool,
    start: float,
) -> RunOutcome:
    """The stages of a run after its scan is stored: diff, check, report, retention, notify."""
    rec = scanned.record
    for r in scanned.runs:
        log.event("source.finished", source=r.source, status=r.status, reason=r.reason,
                  resources=r.resource_count, seconds=round(r.duration_s, 2),
                  not_assessed=[{"slice": s.name, "reason": s.reason, "detail": s.detail}
                                for s in r.slices if s.status == "failed"])  # fmt: skip
    log.event("scan.finished", scan=rec.scan_id, status=rec.status, resources=rec.resources)
    for problem in scanned.evidence_errors:
        log.event("anchor.failed", level="error", scan=rec.scan_id, error=problem)
    out = RunOutcome(scanned)
    if config.desired:
        out.drift = diff(config, store, rec.scan_id)
        kinds = {
            k: sum(1 for d in out.drift.drifts if d.kind == k)
            for k in ("missing", "unmanaged", "changed")
        }
        log.event("diff.finished", scan=rec.scan_id, counts=kinds)
    out.check = check(config, store, rec.scan_id, pack=pack)
    statuses: tuple[FindingStatus, ...] = ("ok", "alarm", "error", "skip", "not_assessed")
    log.event("check.finished", scan=rec.scan_id, counts={s: out.check.count(s) for s in statuses})
    if with_report and config.reports.formats:
        out.report = report(config, store, rec.scan_id, pack=pack)
        for note in out.report.notes:  # what a killed earlier run left, now cleared up
            log.event("report.repaired", level="warn", note=note)
        log.event("report.written", scan=rec.scan_id, folder=str(out.report.folder))
    if config.store.keep_days:
        from driftscan.store.retention import compact_store, prune

        out.pruned = prune(store, config.store.keep_days, now=datetime.now(UTC))
        if out.pruned:
            before, after = compact_store(store)
            log.event("retention.pruned", scans=out.pruned, bytes_before=before, bytes_after=after)
    if config.notify:
        from driftscan.notify import deliver

        out.notifications = deliver(config, out, log)
    out.duration_s = time.monotonic() - start
    log.event(
        "run.finished", scan=rec.scan_id, exit_code=out.exit_code, seconds=round(out.duration_s, 2)
    )
    return out
