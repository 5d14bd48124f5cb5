"""The CIS Kubernetes 1.9 rules: each passes and fails on objects shaped by the collector's own
normaliser, reports not assessed where the facts were not read, and finds both verdicts on the
emulator's cluster scanned by the real collector."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftscan.assets import rules_dir
from driftscan.model import Finding, Resource, Slice, SourceRun
from driftscan.providers.kubernetes import KubernetesSource
from driftscan.providers.kubernetes import keys as K
from driftscan.providers.kubernetes.kinds import BY_KIND
from driftscan.providers.kubernetes.normalise import document
from driftscan.sandbox.k8s import KubeEmulator, demo_cluster
from driftscan.sandbox.k8s import objects as o
from driftscan.sandbox.k8s.estate import CIS_BAD_NAMESPACE, CIS_GOOD_NAMESPACE, cis_objects
from driftscan.store import Store
from tests.collect.k8s.conftest import collect
from tests.compliance.conftest import by_resource, check, config
from tests.conftest import TEST_FP

SRC = "k8s-prod"
P = f"k8s://{SRC}"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
IMAGE = "registry.example/app:1@" + o.digest("app 1")

CIS_K8S = (
    "k8s_rbac_secrets_access", "k8s_rbac_wildcards", "k8s_rbac_pod_create",
    "k8s_rbac_escalation_verbs", "k8s_default_sa_automount", "k8s_pod_sa_token_automount",
    "k8s_pod_host_pid", "k8s_pod_host_ipc", "k8s_pod_host_network",
    "k8s_pod_privilege_escalation", "k8s_pod_run_as_non_root", "k8s_pod_added_capabilities",
    "k8s_pod_host_path", "k8s_pod_host_ports", "k8s_namespace_network_policy",
    "k8s_namespace_pod_security", "k8s_pod_secret_env", "k8s_pod_seccomp",
    "k8s_default_namespace_used", "k8s_pod_privileged",
)  # fmt: skip


# -- a cluster written into the store the way the collector writes it -------------------------


def resource(obj: dict[str, Any]) -> Resource:
    """One API object as the collector records it (the same normaliser, key and type)."""
    kind = BY_KIND[obj["kind"]]
    name = obj["metadata"]["name"]
    ns = obj["metadata"].get("namespace") if kind.namespaced else None
    return Resource(
        key=K.key(SRC, ns, kind.kind, name), provider="kubernetes", source=SRC, account=SRC,
        region="prod-cluster", type=kind.type, name=K.display_name(ns, name),
        tags=dict(obj["metadata"].get("labels") or {}),
        attrs=document(copy.deepcopy(obj), kind.kind, TEST_FP),
    )  # fmt: skip


def scan(
    store: Store,
    objs: list[dict[str, Any]],
    *,
    namespaces: list[str] | None = None,
    failed: list[Slice] = (),  # type: ignore[assignment]
) -> dict[str, dict[str, Finding]]:
    """Write the objects as one scan (an ok slice per namespace, as the collector records them,
    plus `failed`) and check it; findings by rule and resource."""
    run = SourceRun(SRC, "kubernetes")
    run.resources.extend(resource(x) for x in objs)
    cover = {"account": SRC, "region": "prod-cluster"}
    run.slices.append(Slice(SRC, "kubernetes", "_cluster/Namespace", **cover,
                            types=["Namespace"], keys=[K.namespace_prefix(SRC, None)]))  # fmt: skip
    seen = {x["metadata"]["namespace"] for x in objs if x["metadata"].get("namespace")}
    seen |= {x["metadata"]["name"] for x in objs if x["kind"] == "Namespace"}
    for ns in sorted(seen if namespaces is None else set(namespaces)):
        run.slices.append(
            Slice(SRC, "kubernetes", ns, **cover, keys=[K.namespace_prefix(SRC, ns)])  # type: ignore[arg-type]
        )
    run.slices.extend(failed)
    run.finish()
    store.write_scan([run], started_at=T0, finished_at=T0, tool_version="test")
    res = check(store, config())
    return {r: by_resource(res, r) for r in {f.rule for f in res.findings}}


def failed_kind(ns: str, kind: str) -> Slice:
    """The slice the collector records when one kind of one namespace cannot be listed."""
    return Slice(SRC, "kubernetes", f"{ns}/{kind}", "failed", reason="denied", detail="403",
                 account=SRC, region="prod-cluster", types=[BY_KIND[kind].type],
                 keys=[K.namespace_prefix(SRC, ns)])  # fmt: skip


def container(name: str = "app", extra: dict[str, Any] | None = None, **sc: Any) -> dict[str, Any]:
    """A container with the securityContext given (hardened by default) and `extra` fields."""
    ctx = {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
           "capabilities": {"drop": ["ALL"]}, **sc}  # fmt: skip
    ctx = {k: v for k, v in ctx.items() if v is not None}
    return o.container(name, IMAGE, securityContext=ctx, **(extra or {}))


def spec(*containers: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A hardened pod spec (seccomp RuntimeDefault, no token) with `kw` laid over it."""
    base: dict[str, Any] = {"automountServiceAccountToken": False,
                            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}  # fmt: skip
    base.update(kw)
    return o.pod_spec(list(containers) or [container()], **base)


def deploy(ns: str, name: str, pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A Deployment with its ReplicaSet and one pod."""
    return o.workload(ns, name, IMAGE, IMAGE.replace(":1@", "@"), replicas=1, spec=pod_spec)


def ns_objs(*names: str, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [o.namespace(n, labels) for n in names]


def dkey(ns: str, name: str) -> str:
    return f"{P}/{ns}/Deployment/{name}"


# -- pods and pod templates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "field"),
    [("k8s_pod_host_pid", "hostPID"), ("k8s_pod_host_ipc", "hostIPC"),
     ("k8s_pod_host_network", "hostNetwork")],
)  # fmt: skip
def test_host_namespaces(store: Store, rule: str, field: str) -> None:
    """A template sharing a host namespace alarms, one that does not passes; the pods a
    Deployment owns are judged through its template, and kube-system is left out."""
    objs = [
        *ns_objs("shop", "kube-system"),
        *deploy("shop", "bad", spec(**{field: True})),
        *deploy("shop", "good", spec(**{field: False})),
        *deploy("kube-system", "proxy", spec(**{field: True})),
    ]
    f = scan(store, objs)[rule]
    assert f[dkey("shop", "bad")].status == "alarm" and field in f[dkey("shop", "bad")].reason
    assert f[dkey("shop", "good")].status == "ok"
    assert not any("/Pod/" in k or "/ReplicaSet/" in k or "/kube-system/" in k for k in f)


def test_bare_pods_jobs_and_cronjobs_are_evaluated(store: Store) -> None:
    """A pod no controller owns, a CronJob's job template and an ownerless Job are evaluated; the
    Job a CronJob created is judged through the CronJob."""
    cron = o.cronjob("shop", "nightly", IMAGE)
    cron["spec"]["jobTemplate"]["spec"]["template"]["spec"] = spec(hostPID=True)
    job = o.job("shop", "once", IMAGE)
    job["spec"]["template"]["spec"] = spec()
    owned = o.job("shop", "nightly-1", IMAGE, owner_cronjob="nightly")
    pod = o.pod("shop", "debug", IMAGE, IMAGE, spec=spec(hostPID=True))
    f = scan(store, [*ns_objs("shop"), cron, job, owned, pod])["k8s_pod_host_pid"]
    assert f[f"{P}/shop/CronJob/nightly"].status == "alarm"
    assert f[f"{P}/shop/Job/once"].status == "ok"
    assert f[f"{P}/shop/Pod/debug"].status == "alarm"
    assert f"{P}/shop/Job/nightly-1" not in f


def test_privilege_escalation(store: Store) -> None:
    """allowPrivilegeEscalation false passes; unset (defaults to true) and privileged alarm,
    init containers included."""
    objs = [
        *ns_objs("shop"),
        *deploy("shop", "good", spec()),
        *deploy("shop", "unset", spec(container(allowPrivilegeEscalation=None))),
        *deploy("shop", "priv", spec(initContainers=[container("init", privileged=True)])),
    ]
    f = scan(store, objs)["k8s_pod_privilege_escalation"]
    assert f[dkey("shop", "good")].status == "ok"
    assert f[dkey("shop", "unset")].status == "alarm"
    assert "defaults to true" in f[dkey("shop", "unset")].reason
    assert f[dkey("shop", "priv")].status == "alarm"
    assert f[dkey("shop", "priv")].reason == "init: privileged"


def test_run_as_non_root(store: Store) -> None:
    """runAsNonRoot (on the container or inherited from the pod) or a non-zero runAsUser passes;
    runAsUser 0 or nothing set alarms."""
    objs = [
        *ns_objs("shop"),
        *deploy("shop", "direct", spec()),
        *deploy("shop", "inherited", spec(container(runAsNonRoot=None),
                securityContext={"runAsNonRoot": True})),
        *deploy("shop", "uid", spec(container(runAsNonRoot=None, runAsUser=1000))),
        *deploy("shop", "root", spec(container(runAsUser=0))),
        *deploy("shop", "unset", spec(container(runAsNonRoot=None))),
    ]  # fmt: skip
    f = scan(store, objs)["k8s_pod_run_as_non_root"]
    assert {n: f[dkey("shop", n)].status for n in ("direct", "inherited", "uid", "root", "unset")} == {
        "direct": "ok", "inherited": "ok", "uid": "ok", "root": "alarm", "unset": "alarm"
    }  # fmt: skip
    assert f[dkey("shop", "root")].reason == "app: runAsUser 0 (root)"


def test_added_capabilities(store: Store) -> None:
    """NET_BIND_SERVICE is allowed; SYS_ADMIN alarms, until the parameter allows it."""
    objs = [
        *ns_objs("shop"),
        *deploy("shop", "bind", spec(container(capabilities={"add": ["NET_BIND_SERVICE"]}))),
        *deploy("shop", "admin", spec(container(capabilities={"add": ["CAP_SYS_ADMIN", "NET_BIND_SERVICE"]}))),
    ]  # fmt: skip
    f = scan(store, objs)["k8s_pod_added_capabilities"]
    assert f[dkey("shop", "bind")].status == "ok"
    assert f[dkey("shop", "admin")].status == "alarm"
    assert f[dkey("shop", "admin")].reason == "app adds CAP_SYS_ADMIN"
    res = check(
        store, config(params={"k8s_allowed_capabilities": ["net_bind_service", "SYS_ADMIN"]})
    )
    assert by_resource(res, "k8s_pod_added_capabilities")[dkey("shop", "admin")].status == "ok"


def test_host_path_and_host_ports(store: Store) -> None:
    """A hostPath volume and a hostPort alarm, naming the path and port; none passes."""
    risky = spec(
        o.container("app", IMAGE, securityContext={"allowPrivilegeEscalation": False},
                    ports=[{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]),
        volumes=[{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}],
    )  # fmt: skip
    found = scan(
        store, [*ns_objs("shop"), *deploy("shop", "risky", risky), *deploy("shop", "good", spec())]
    )
    hp, ports = found["k8s_pod_host_path"], found["k8s_pod_host_ports"]
    assert hp[dkey("shop", "risky")].status == "alarm"
    assert hp[dkey("shop", "risky")].reason == "hostPath volumes: sock (/var/run/docker.sock)"
    assert ports[dkey("shop", "risky")].status == "alarm"
    assert ports[dkey("shop", "risky")].reason == "app binds host port 53/UDP"
    assert hp[dkey("shop", "good")].status == ports[dkey("shop", "good")].status == "ok"


def test_secret_env(store: Store) -> None:
    """A Secret in env or envFrom alarms; a Secret mounted as a volume and literal env pass."""
    env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]
    objs = [
        *ns_objs("shop"),
        *deploy("shop", "env", spec(container(extra={"env": env}))),
        *deploy("shop", "from", spec(container(extra={"envFrom": [{"secretRef": {"name": "all"}}]}))),
        *deploy("shop", "good", spec(container(extra={"env": [{"name": "MODE", "value": "x"}]}),
                volumes=[{"name": "db", "secret": {"secretName": "db"}}])),
    ]  # fmt: skip
    f = scan(store, objs)["k8s_pod_secret_env"]
    assert f[dkey("shop", "env")].status == "alarm"
    assert f[dkey("shop", "env")].reason == "app: env DB_PASSWORD from Secret db"
    assert f[dkey("shop", "from")].reason == "app: envFrom Secret all"
    assert f[dkey("shop", "good")].status == "ok"


def test_seccomp(store: Store) -> None:
    """RuntimeDefault on the pod or Localhost on the container passes; Unconfined or unset alarms."""
    objs = [
        *ns_objs("shop"),
        *deploy("shop", "pod", spec()),
        *deploy("shop", "local", spec(container(seccompProfile={"type": "Localhost"}),
                securityContext={})),
        *deploy("shop", "unconfined", spec(container(seccompProfile={"type": "Unconfined"}))),
        *deploy("shop", "unset", spec(securityContext={})),
    ]  # fmt: skip
    f = scan(store, objs)["k8s_pod_seccomp"]
    assert [f[dkey("shop", n)].status for n in ("pod", "local", "unconfined", "unset")] == [
        "ok", "ok", "alarm", "alarm"
    ]  # fmt: skip
    assert f[dkey("shop", "unconfined")].reason == "app: seccomp Unconfined"
    assert f[dkey("shop", "unset")].reason == "app: seccomp profile not set"


def test_service_account_token_automount(store: Store) -> None:
    """The pod's own setting wins; unset, the service account's decides; a missing account is
    an alarm (the token is mounted by default), one whose list failed is not assessed."""
    sa_off = {**o.service_account("shop", "quiet"), "automountServiceAccountToken": False}
    objs = [
        *ns_objs("shop", "other"),
        o.service_account("shop"), sa_off,
        *deploy("shop", "optout", spec()),
        *deploy("shop", "optin", spec(automountServiceAccountToken=True)),
        *deploy("shop", "quiet", spec(automountServiceAccountToken=None, serviceAccountName="quiet")),
        *deploy("shop", "dflt", spec(automountServiceAccountToken=None)),
        *deploy("shop", "ghost", spec(automountServiceAccountToken=None, serviceAccountName="gone")),
        *deploy("other", "app", spec(automountServiceAccountToken=None)),
    ]  # fmt: skip
    f = scan(store, objs, failed=[failed_kind("other", "ServiceAccount")])[
        "k8s_pod_sa_token_automount"
    ]
    got = {n: f[dkey("shop", n)].status for n in ("optout", "optin", "quiet", "dflt", "ghost")}
    assert got == {
        "optout": "ok",
        "optin": "alarm",
        "quiet": "ok",
        "dflt": "alarm",
        "ghost": "alarm",
    }
    assert "neither the pod nor the account opts out" in f[dkey("shop", "dflt")].reason
    assert "does not exist" in f[dkey("shop", "ghost")].reason
    assert f[dkey("other", "app")].status == "not_assessed"
    assert "could not be read" in f[dkey("other", "app")].reason


def test_default_service_account_automount(store: Store) -> None:
    """A default service account that opts out passes; one unset or true alarms; other accounts
    and kube-system's are left out."""
    objs = [
        {**o.service_account("a"), "automountServiceAccountToken": False},
        o.service_account("b"),
        {**o.service_account("c"), "automountServiceAccountToken": True},
        o.service_account("a", "builder"),
        o.service_account("kube-system"),
    ]
    f = scan(store, objs)["k8s_default_sa_automount"]
    assert {k: v.status for k, v in f.items()} == {
        f"{P}/a/ServiceAccount/default": "ok",
        f"{P}/b/ServiceAccount/default": "alarm",
        f"{P}/c/ServiceAccount/default": "alarm",
    }
    assert "not set" in f[f"{P}/b/ServiceAccount/default"].reason


# -- RBAC --------------------------------------------------------------------------------------

RBAC_CASES = {
    "k8s_rbac_secrets_access": (
        [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}],
        "rule 1 grants get, list, watch on secrets",
    ),
    "k8s_rbac_wildcards": (
        [{"apiGroups": ["apps"], "resources": ["deployments/*"], "verbs": ["get"]}],
        "rule 1 has * in resources",
    ),
    "k8s_rbac_pod_create": (
        [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete"]}],
        "rule 1 grants create on pods",
    ),
    "k8s_rbac_escalation_verbs": (
        [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}],
        "rule 1 grants impersonate on users",
    ),
}
HARMLESS = [
    {"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list"]},
    {"apiGroups": ["apps"], "resources": ["secrets"], "verbs": ["get"]},  # not the core group's
]


@pytest.mark.parametrize("rule", sorted(RBAC_CASES))
def test_rbac(store: Store, rule: str) -> None:
    """A Role and a ClusterRole with the grant alarm, naming the rule; a harmless role passes;
    system roles, kube-system's and the allow-listed built-ins are left out."""
    rules, reason = RBAC_CASES[rule]
    objs = [
        o.role("shop", "risky", [HARMLESS[0], *rules]),
        o.cluster_role("risky", rules),
        o.role("shop", "harmless", HARMLESS),
        o.cluster_role("system:controller", rules),
        o.role("kube-system", "risky", rules),
        o.cluster_role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
    ]
    f = scan(store, objs)[rule]
    role = f[f"{P}/shop/Role/risky"]
    assert role.status == "alarm" and role.reason == reason.replace("rule 1", "rule 2")
    assert f[f"{P}/_cluster/ClusterRole/risky"].status == "alarm"
    assert f[f"{P}/_cluster/ClusterRole/risky"].reason == reason
    assert f[f"{P}/shop/Role/harmless"].status == "ok"
    assert set(f) == {
        f"{P}/shop/Role/risky",
        f"{P}/_cluster/ClusterRole/risky",
        f"{P}/shop/Role/harmless",
    }


def test_rbac_wildcard_everything_and_allow_list(store: Store) -> None:
    """`*` everywhere alarms in every RBAC rule; naming the role in the allow-list leaves it out."""
    star = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    scanned = scan(store, [o.role("ops", "god", star)])
    for rule in RBAC_CASES:
        assert scanned[rule][f"{P}/ops/Role/god"].status == "alarm", rule
    res = check(store, config(params={"k8s_rbac_allowed_roles": ["ops/god"]}))
    for rule in RBAC_CASES:
        assert f"{P}/ops/Role/god" not in by_resource(res, rule)


# -- namespaces --------------------------------------------------------------------------------


def test_namespace_network_policy(store: Store) -> None:
    """A namespace with a NetworkPolicy passes, one without alarms; one whose policies could not
    be listed, or that the source did not scan, is not assessed."""
    objs = [*ns_objs("guarded", "open", "unread", "unscanned", "kube-system"),
            o.network_policy("guarded", "default-deny")]  # fmt: skip
    f = scan(store, objs, namespaces=["guarded", "open", "unread"],
             failed=[failed_kind("unread", "NetworkPolicy")])["k8s_namespace_network_policy"]  # fmt: skip
    ns = {k.rsplit("/", 1)[-1]: v for k, v in f.items()}
    assert {k: v.status for k, v in ns.items()} == {
        "guarded": "ok", "open": "alarm", "unread": "not_assessed", "unscanned": "not_assessed"
    }  # fmt: skip
    assert "no NetworkPolicy" in ns["open"].reason


def test_namespace_pod_security(store: Store) -> None:
    """restricted and baseline pass; privileged or no label alarms."""
    label = "pod-security.kubernetes.io/enforce"
    objs = [
        *ns_objs("a", labels={label: "restricted"}),
        *ns_objs("b", labels={label: "baseline"}),
        *ns_objs("c", labels={label: "privileged"}),
        *ns_objs("d", labels={f"{label}-version": "latest"}),
    ]
    f = scan(store, objs)["k8s_namespace_pod_security"]
    assert {k.rsplit("/", 1)[-1]: v.status for k, v in f.items()} == {
        "a": "ok", "b": "ok", "c": "alarm", "d": "alarm"
    }  # fmt: skip
    assert f[f"{P}/_cluster/Namespace/c"].reason == "enforces privileged"
    assert f[f"{P}/_cluster/Namespace/d"].reason == "no pod-security.kubernetes.io/enforce label"


def test_default_namespace_used(store: Store, tmp_path: Path) -> None:
    """Only the cluster's own objects in default pass; a team's object alarms, named; with a
    kind of default unread and nothing found, it is not assessed."""
    own = [*ns_objs("default"), o.service_account("default"),
           o.service("default", "kubernetes"), o.configmap("default", "kube-root-ca.crt", {"ca.crt": "x"})]  # fmt: skip
    key = f"{P}/_cluster/Namespace/default"
    assert scan(store, own)["k8s_default_namespace_used"][key].status == "ok"
    other = Store(tmp_path / "unread.duckdb")
    try:
        f = scan(other, own, failed=[failed_kind("default", "Secret")])
        assert f["k8s_default_namespace_used"][key].status == "not_assessed"
    finally:
        other.close()
    f = scan(store, [*own, *deploy("default", "legacy", spec())])["k8s_default_namespace_used"]
    assert f[key].status == "alarm"
    assert f[key].reason.startswith("3 object(s) in default: Deployment legacy, Pod legacy-")


def test_malformed_objects_fail_closed(store: Store) -> None:
    """Shapes no API server would return (rules as a mapping, containers without names or as a
    string) neither pass by accident nor break a rule: they alarm, and no rule errors."""
    odd = o.role("shop", "odd", [])
    odd["rules"] = {"x": {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}}
    nameless = spec(container())
    nameless["containers"] = [{"image": IMAGE}]
    stringy = spec()
    stringy["containers"] = "oops"
    objs = [*ns_objs("shop"), odd, o.deployment("shop", "nameless", IMAGE, spec=nameless),
            o.deployment("shop", "stringy", IMAGE, spec=stringy)]  # fmt: skip
    found = scan(store, objs)
    assert (
        found["k8s_rbac_secrets_access"][f"{P}/shop/Role/odd"].reason
        == "rule x grants get on secrets"
    )
    nonroot = found["k8s_pod_run_as_non_root"]
    assert nonroot[dkey("shop", "nameless")].reason == "0: runAsNonRoot not set, may run as root"
    assert nonroot[dkey("shop", "stringy")].status == "alarm"
    errors = [(r, k) for r in CIS_K8S for k, f in found.get(r, {}).items() if f.status == "error"]
    assert errors == []


# -- the pack ----------------------------------------------------------------------------------


def _rule_doc(rule: str) -> dict[str, Any]:
    return dict(yaml.safe_load((rules_dir() / f"{rule}.yaml").read_text()))


@pytest.mark.parametrize("rule", CIS_K8S)
def test_rule_declares_its_types(rule: str) -> None:
    """Every CIS Kubernetes rule names the resource types it evaluates, all of them read kinds."""
    types = _rule_doc(rule)["types"]
    known = {k.type for k in BY_KIND.values()}
    assert types and set(types) <= known, types


def test_shared_parameters_have_one_default() -> None:
    """A parameter several rules read has the same default in each (the pack merges them)."""
    seen: dict[str, Any] = {}
    for rule in CIS_K8S:
        for k, v in (_rule_doc(rule).get("params") or {}).items():
            assert seen.setdefault(k, v) == v, (rule, k)
    assert "k8s_system_namespaces" in seen


# -- the emulator's cluster, read by the real collector ----------------------------------------

# Rules that cannot show both verdicts on one cluster, and why.
ONE_VERDICT = {
    "k8s_default_namespace_used": "a cluster has one default namespace (the ok case is above)",
}


@pytest.fixture(scope="module", params=["cluster-reader", "namespaced-reader"])
def cluster_findings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, list[Finding]]]:
    """The demo cluster plus the CIS objects, collected over HTTPS and checked once: by a
    cluster-wide reader, and by one bound per namespace (every kind listed namespace by
    namespace)."""
    objs = [*demo_cluster()[0], *cis_objects()]
    tmp = tmp_path_factory.mktemp("cis-k8s")
    with KubeEmulator(objs, ca_dir=tmp / "ca") as kube:
        kube.namespaced_reader = request.param == "namespaced-reader"
        src = KubernetesSource(name="k8s-cis", type="kubernetes",
                               kubeconfig=str(kube.kubeconfig(tmp / "kubeconfig")))  # fmt: skip
        run = collect(src)
    assert run.status == "ok", run.slices
    store = Store(tmp / "cis.duckdb")
    try:
        store.write_scan([run], started_at=T0, finished_at=T0, tool_version="test")
        res = check(store, config())
    finally:
        store.close()
    out: dict[str, list[Finding]] = {}
    for f in res.findings:
        out.setdefault(f.rule, []).append(f)
    yield out


@pytest.mark.parametrize("rule", CIS_K8S)
def test_emulator_cluster_shows_both_verdicts(
    cluster_findings: dict[str, list[Finding]], rule: str
) -> None:
    """On the emulator's cluster each rule finds at least one passing and one failing object."""
    statuses = {f.status for f in cluster_findings.get(rule, [])}
    assert "alarm" in statuses, (rule, statuses)
    if rule not in ONE_VERDICT:
        assert "ok" in statuses, (rule, statuses)
    assert statuses <= {"ok", "alarm"}, (rule, statuses)


def test_emulator_cluster_verdicts_land_on_the_seeded_objects(
    cluster_findings: dict[str, list[Finding]],
) -> None:
    """The risky workload and namespace fail where the hardened ones pass."""
    k = "k8s://k8s-cis"
    by = {(f.rule, f.resource): f.status for fs in cluster_findings.values() for f in fs}
    pod_rules = [r for r in CIS_K8S if r.startswith("k8s_pod_")]
    for rule in pod_rules:
        assert by[(rule, f"{k}/{CIS_GOOD_NAMESPACE}/Deployment/hardened")] == "ok", rule
        assert by[(rule, f"{k}/{CIS_BAD_NAMESPACE}/Deployment/risky")] == "alarm", rule
    for rule in RBAC_CASES:
        assert by[(rule, f"{k}/{CIS_GOOD_NAMESPACE}/Role/config-reader")] == "ok", rule
        assert by[(rule, f"{k}/{CIS_BAD_NAMESPACE}/Role/too-broad")] == "alarm", rule
    for rule in ("k8s_namespace_network_policy", "k8s_namespace_pod_security"):
        assert by[(rule, f"{k}/_cluster/Namespace/{CIS_GOOD_NAMESPACE}")] == "ok", rule
        assert by[(rule, f"{k}/_cluster/Namespace/{CIS_BAD_NAMESPACE}")] == "alarm", rule
    assert by[("k8s_default_namespace_used", f"{k}/_cluster/Namespace/default")] == "alarm"


def test_privileged_containers_in_any_namespace(store: Store) -> None:
    """A privileged init container alarms and names it, without any scope configured; a
    hardened template passes; kube-system is left out."""
    objs = [
        *ns_objs("shop", "kube-system"),
        *deploy("shop", "good", spec()),
        *deploy("shop", "priv", spec(initContainers=[container("setup", privileged=True)])),
        *deploy("kube-system", "cni", spec(container(privileged=True))),
    ]
    f = scan(store, objs)["k8s_pod_privileged"]
    assert f[dkey("shop", "good")].status == "ok"
    assert f[dkey("shop", "priv")].status == "alarm" and "setup" in f[dkey("shop", "priv")].reason
    assert not any("/kube-system/" in k for k in f)
