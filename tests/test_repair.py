"""k8s_scoring.repair: deterministic, minimal, safe repair of failing checks.

Table-driven: each case is a manifest, the checks the repair must fix, the checks it must leave failing (no safe
default), and why. Every case is also checked for the invariants: idempotent, schema validity kept, user-requested
fields unchanged, scores never lower, every change names a check that then passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from k8s_scoring import analyze, validate
from k8s_scoring.repair import NOT_REPAIRED, REPAIR_LEVELS, REPAIR_RULES, Change, RepairConfig, repair

STRICT = RepairConfig(level="strict")  # most cases below exercise every rule; the level tests are at the end

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

BARE_DEPLOYMENT = """\
# A web deployment, as a model writes it
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web  # the app
  labels:
    app: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: "nginx:1.25"
          ports:
            - containerPort: 80
          env:
            - name: MODE
              value: prod
          # trailing comment about the container
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
"""

HARDENED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector: {matchLabels: {app: api}}
      containers:
        - name: api
          image: registry.example.com/api:2.3.1
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /live, port: 8080}}
          resources:
            requests: {cpu: 200m, memory: 256Mi}
            limits: {cpu: "1", memory: 512Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
"""

TWO_CONTAINER_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: cache
  namespace: data
spec:
  containers:
  - name: redis
    image: redis:7.2
    ports:
    - containerPort: 6379
  - name: exporter
    image: oliver006/redis_exporter:v1.58.0
"""

CRONJOB_SMALL_LIMITS = """\
apiVersion: batch/v1
kind: CronJob
metadata:
    name: backup
    namespace: ops
spec:
    schedule: "0 3 * * *"
    jobTemplate:
        spec:
            template:
                spec:
                    restartPolicy: OnFailure
                    containers:
                      - name: backup
                        image: alpine:3.19
                        command: ["sh", "-c", "tar czf /backup/db.tgz /data"]
                        resources:
                            limits:
                                cpu: 50m
                                memory: 64Mi
"""

PRIVILEGED_DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
  namespace: monitoring
spec:
  selector:
    matchLabels:
      app: node-agent
  template:
    metadata:
      labels:
        app: node-agent
    spec:
      hostNetwork: true
      containers:
      - name: agent
        image: example/agent:1.0.0
        securityContext:
          privileged: true
          capabilities:
            drop:
            - NET_RAW
"""

ROOT_AND_SERVICE_ACCOUNT = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: data
spec:
  serviceName: db
  replicas: 1
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      serviceAccountName: db-operator
      securityContext:
        runAsUser: 0
      containers:
      - name: postgres
        image: postgres:16.2
        ports:
        - containerPort: 5432
          protocol: TCP
        securityContext:
          readOnlyRootFilesystem: false
          allowPrivilegeEscalation: true
        env:
        - name: POSTGRES_DB
          value: app
"""

MISSING_SELECTOR = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: jobs
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
      - name: worker
        image: example/worker:3.1
"""

LIST_OF_OBJECTS = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg
    namespace: app
  data:
    key: value
- apiVersion: batch/v1
  kind: Job
  metadata:
    name: migrate
    namespace: app
  spec:
    template:
      spec:
        restartPolicy: Never
        containers:
        - name: migrate
          image: example/migrate:1.2
"""

SERVICE_ONLY = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
"""

ALL_SECURITY = {"sec.no_privilege_escalation", "sec.read_only_root_fs", "sec.drop_all_capabilities",
                "sec.run_as_non_root", "sec.seccomp_runtime_default", "sec.no_automount_sa_token"}  # fmt: skip
ALL_RESOURCES = {"bp.cpu_requests", "bp.memory_requests", "bp.cpu_limits", "bp.memory_limits"}
PROBES = {"bp.liveness_probe", "bp.readiness_probe"}

# (id, manifest, checks fixed, checks left failing, whether every original line survives in order)
CASES = [
    # A bare Deployment with a port: every safe default applies, incl. TCP probes on port 80 and a soft spread
    # (replicas 3); the namespace is left alone (a deployment decision), the Service is untouched.
    ("bare_deployment", BARE_DEPLOYMENT, ALL_SECURITY | ALL_RESOURCES | PROBES | {"bp.pod_anti_affinity_or_spread"},
     {"bp.explicit_namespace"}, True),
    # Already hardened: nothing to do, the text comes back byte for byte.
    ("hardened", HARDENED, set(), set(), True),
    # The exporter has no port: a probe cannot be added to it, so the probe checks stay failing (the redis probe is
    # dropped too: a change must make its check pass); resources and security still apply to both containers.
    ("pod_container_without_port", TWO_CONTAINER_POD, ALL_SECURITY | ALL_RESOURCES, PROBES, True),
    # CronJob: probes are n/a; requests are not missing: the API server defaults them to the existing limits.
    ("cronjob_small_limits", CRONJOB_SMALL_LIMITS, ALL_SECURITY, set(), True),
    # privileged + hostNetwork were asked for: kept; allowPrivilegeEscalation: false would be rejected next to
    # privileged: true, so it is not added; ALL is appended to the user's drop list. No port: no probes.
    ("privileged_daemonset", PRIVILEGED_DAEMONSET,
     {"sec.read_only_root_fs", "sec.drop_all_capabilities", "sec.run_as_non_root", "sec.seccomp_runtime_default",
      "sec.no_automount_sa_token"} | ALL_RESOURCES,
     {"sec.no_privileged", "sec.no_host_network", "sec.no_privilege_escalation"} | PROBES, True),
    # runAsUser: 0, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true and a dedicated service account are
    # explicit choices: kept (their checks stay failing); replicas 1 is the user's.
    ("explicit_root_choices", ROOT_AND_SERVICE_ACCOUNT,
     {"sec.drop_all_capabilities", "sec.seccomp_runtime_default"} | ALL_RESOURCES | PROBES,
     {"sec.run_as_non_root", "sec.read_only_root_fs", "sec.no_privilege_escalation", "sec.no_automount_sa_token",
      "bp.min_replicas"}, True),
    # apps/v1 without a selector (schema-invalid): the selector is derived from the template labels, which also
    # makes the document schema-valid.
    ("missing_selector", MISSING_SELECTOR, ALL_SECURITY | ALL_RESOURCES | {"bp.selector_matches_labels"},
     {"bp.min_replicas"} | PROBES, True),
    # kind: List items are repaired in place; the ConfigMap has no container checks; a Job needs no probes.
    ("list_items", LIST_OF_OBJECTS, ALL_SECURITY | ALL_RESOURCES, set(), True),
    # A Service alone: only bp.explicit_namespace fails, which has no safe default.
    ("service_only", SERVICE_ONLY, set(), {"bp.explicit_namespace"}, True),
]


def _docs(text: str) -> list:
    return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]


def _objects(text: str) -> list[dict]:
    out = []
    for doc in _docs(text):
        out.extend(doc["items"] if doc.get("kind", "").endswith("List") else [doc])
    return out


def _pod_spec(obj: dict) -> dict:
    spec = obj.get("spec", {})
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec.get("template", {}).get("spec", {})


def _user_fields(text: str) -> list:
    """What a user asked for: kinds, names, namespaces, replicas, images, ports, env, commands, labels, selectors."""
    fields = []
    for obj in _objects(text):
        spec = obj.get("spec", {})
        pod = _pod_spec(obj)
        containers = [
            {k: c.get(k) for k in ("name", "image", "ports", "env", "command", "args")}
            for c in pod.get("containers", []) + pod.get("initContainers", [])
        ]
        fields.append(
            (obj["kind"], obj["metadata"], spec.get("replicas"), spec.get("selector"), containers,
             pod.get("hostNetwork"), pod.get("serviceAccountName"), obj.get("data"))
        )  # fmt: skip
    return fields


def _assert_user_fields_kept(text: str, out: str) -> None:
    before, after = _user_fields(text), _user_fields(out)
    # the only field repair may add among these is a selector that was missing (bp.selector_matches_labels)
    after = [(*a[:3], None if b[3] is None else a[3], *a[4:]) for a, b in zip(after, before)]
    assert after == before


def _failing(text: str) -> set[str]:
    return {cid for obj in analyze(text).objects for cid, res in obj.checks.items() if res == "fail"}


@pytest.mark.parametrize(("name", "text", "fixed", "left", "lines_kept"), CASES, ids=[c[0] for c in CASES])
def test_repair_cases(name, text, fixed, left, lines_kept):
    out, changes = repair(text, STRICT)
    before, after = analyze(text), analyze(out)
    # exactly the expected checks were repaired, and they now pass
    assert {c.check_id for c in changes} == fixed
    assert not (fixed & _failing(out)), _failing(out) & fixed
    assert left <= _failing(out)
    # idempotent
    assert repair(out, STRICT) == (out, [])
    # validity: still valid; schema-valid stays schema-valid (missing_selector becomes schema-valid)
    assert after.valid
    if validate(text).schema_valid or name == "missing_selector":
        assert validate(out).schema_valid, validate(out).errors
    # user-requested fields unchanged
    _assert_user_fields_kept(text, out)
    # scores never go down, and go up when something was repaired
    assert not (after.bp < before.bp) and not (after.security < before.security)  # NaN (n/a) stays NaN
    if changes:
        assert after.bp > before.bp or after.security > before.security
    else:
        assert out == text  # nothing to do: the input itself, byte for byte
    # comments and key order: every original line is still there, in order (unless a flow list grew)
    if lines_kept:
        remaining = iter(out.splitlines())
        for line in text.splitlines():
            assert any(line == candidate for candidate in remaining), f"line lost or moved: {line!r}"


def test_changes_name_their_object_and_path():
    out, changes = repair(BARE_DEPLOYMENT, STRICT)
    assert all(isinstance(c, Change) for c in changes)
    assert {(c.doc_index, c.kind, c.name, c.object) for c in changes} == {(0, "Deployment", "web", "Deployment/web")}
    by_check = {c.check_id: c for c in changes}
    assert by_check["sec.no_privilege_escalation"].path == (
        "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation"
    )
    assert by_check["sec.run_as_non_root"].path == "spec.template.spec.securityContext.runAsNonRoot"
    # each path exists in the output
    doc = _docs(out)[0]
    for change in changes:
        node = doc
        for part in change.path.replace("[", ".").replace("]", "").split("."):
            node = node[int(part)] if part.isdigit() else node[part]
    assert json.dumps(changes[0].to_dict())


def test_defaults_written():
    out, _ = repair(BARE_DEPLOYMENT, STRICT)
    container = _pod_spec(_docs(out)[0])["containers"][0]
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"},
                                      "limits": {"cpu": "500m", "memory": "512Mi"}}  # fmt: skip
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}
    }  # fmt: skip
    assert container["readinessProbe"]["tcpSocket"] == {"port": 80}
    assert container["livenessProbe"]["tcpSocket"] == {"port": 80}
    pod = _pod_spec(_docs(out)[0])
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert "runAsUser" not in pod["securityContext"]  # runAsNonRoot asserts; a UID would be a guess
    assert pod["automountServiceAccountToken"] is False
    assert pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"


BIG_REQUESTS = """apiVersion: v1
kind: Pod
metadata: {name: big, namespace: app}
spec:
  containers:
  - name: big
    image: example/big:1.0
    resources:
      requests: {cpu: "2", memory: 1Gi}
"""


def test_request_never_above_limit():
    # the added limits take the user's larger requests (request <= limit, or the API server rejects the pod)
    out, _ = repair(BIG_REQUESTS, STRICT)
    resources = _pod_spec(_docs(out)[0])["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "2", "memory": "1Gi"}, resources  # not 500m / 512Mi
    assert validate(out).schema_valid, validate(out).errors


def test_comments_key_order_and_untouched_documents():
    out, _ = repair(BARE_DEPLOYMENT, STRICT)
    assert out.startswith("# A web deployment, as a model writes it\n")
    assert "  name: web  # the app\n" in out
    # the comment that closed the container still follows it (it is not pushed above the new keys)
    container_block = out.split("        - name: web\n")[1].split("---\n")[0]
    assert container_block.index("securityContext:") < container_block.index("# trailing comment about the container")
    # original keys keep their order; new keys come after them
    container = _pod_spec(_docs(out)[0])["containers"][0]
    assert list(container)[:4] == ["name", "image", "ports", "env"]
    # the untouched Service document is copied byte for byte
    assert out.split("---\n")[1] == BARE_DEPLOYMENT.split("---\n")[1]
    assert '"nginx:1.25"' in out  # quoting kept


def test_indentation_and_line_endings_kept():
    out, changes = repair(CRONJOB_SMALL_LIMITS, STRICT)
    assert changes
    assert "                        securityContext:\n" in out  # the document's 4-space indentation
    crlf = CRONJOB_SMALL_LIMITS.replace("\n", "\r\n")
    out_crlf, changes_crlf = repair(crlf, STRICT)
    assert [c.path for c in changes_crlf] == [c.path for c in changes]
    assert out_crlf == out.replace("\n", "\r\n")


def test_run_as_user_option():
    # opt-in: with a configured UID, the pod also gets runAsUser
    out, changes = repair(TWO_CONTAINER_POD, RepairConfig(run_as_user=10001, level="strict"))
    assert _docs(out)[0]["spec"]["securityContext"]["runAsUser"] == 10001
    assert any(c.path == "spec.securityContext.runAsUser" for c in changes)


def test_selected_checks_only():
    out, changes = repair(BARE_DEPLOYMENT, RepairConfig(checks=frozenset({"bp.cpu_requests"})))
    assert [c.check_id for c in changes] == ["bp.cpu_requests"]
    assert "memory" not in out


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "# only a comment\n",  # comment-only
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",  # not YAML (unclosed flow mapping)
        "- just\n- a list\n",  # YAML, but not a Kubernetes object
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n",  # unrendered Helm
        "kind: Pod\nmetadata: {name: x}\n",  # no apiVersion
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n  - name: a\n    image: b:1\n"
        "    image: c:2\n",  # duplicate key: PyYAML keeps the last, the round-trip parser refuses; left alone
        "\x00\x01 binary",  # junk
    ],
)
def test_invalid_input_unchanged(text):
    assert repair(text, STRICT) == (text, [])


def test_never_raises_on_non_text():
    assert repair(None) == (None, [])  # type: ignore[arg-type]


def test_rules_are_data():
    ids = [rule.check_id for rule in REPAIR_RULES]
    assert len(ids) == len(set(ids))
    from k8s_scoring import CHECKS_BY_ID

    # every repaired or deliberately unrepaired id is a real check, and every check is in one of the two tables
    assert set(ids) | set(NOT_REPAIRED) == set(CHECKS_BY_ID)
    assert not set(ids) & set(NOT_REPAIRED)


def _corpus_workloads(step: int) -> list[str]:
    path = Path(__file__).resolve().parents[1] / "k8s_data" / "corpus" / "manifests.jsonl"
    if not path.exists():
        pytest.skip("bundled corpus not present")
    texts = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"):
                texts.append(record["yaml"])
    return texts[::step]


def test_invariants_on_real_manifests():
    """Real manifests from the bundled corpus (a fixed sample): idempotent, validity kept, the original contained
    in the result, no check regresses."""
    texts = _corpus_workloads(step=60)
    assert len(texts) >= 15
    improved = 0
    for text in texts:
        before = analyze(text)
        if not before.valid:
            continue
        out, changes = repair(text, STRICT)
        after = analyze(out)
        assert repair(out, STRICT) == (out, [])
        if validate(text).schema_valid:
            assert validate(out).schema_valid
        _assert_user_fields_kept(text, out)
        for old, new in zip(before.objects, after.objects):
            assert not [cid for cid, res in old.checks.items() if res != "fail" and new.checks[cid] == "fail"]
        improved += after.bp > before.bp or after.security > before.security
    assert improved >= len(texts) // 2


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.data())
def test_never_raises_on_damaged_manifests(data):
    """Model outputs are often truncated or have lines missing: repair must cope with any of them."""
    lines = BARE_DEPLOYMENT.splitlines(keepends=True)
    keep = data.draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
    cut = data.draw(st.integers(min_value=0, max_value=len(BARE_DEPLOYMENT)))
    text = "".join(line for line, k in zip(lines, keep) if k)[:cut]
    out, changes = repair(text, STRICT)
    assert isinstance(out, str)
    if not changes:
        assert out == text
    else:
        assert analyze(out).valid and repair(out, STRICT) == (out, [])
        assert {c.check_id for c in changes}.isdisjoint(_failing(out))


# ------------------------------------------------------------------------------------------------- repair levels
_SAFE_RULES = {"bp.cpu_requests", "bp.memory_requests", "bp.cpu_limits", "bp.selector_matches_labels",
               "bp.pod_anti_affinity_or_spread"}  # fmt: skip

LEVEL_CASES = [
    # the official nginx image runs as root and writes /var/cache/nginx: the safe level adds no runAsNonRoot, no
    # readOnlyRootFilesystem, no drop ALL, no probes; only requests, the CPU limit and a soft spread
    ("nginx_safe", BARE_DEPLOYMENT, "safe",
     {"bp.cpu_requests", "bp.memory_requests", "bp.cpu_limits", "bp.pod_anti_affinity_or_spread"}),
    # strict adds the hardening (and memory limits, probes, automount off) as well
    ("nginx_strict", BARE_DEPLOYMENT, "strict",
     {"bp.cpu_requests", "bp.memory_requests", "bp.cpu_limits", "bp.memory_limits", "bp.pod_anti_affinity_or_spread",
      "bp.liveness_probe", "bp.readiness_probe", "sec.run_as_non_root", "sec.read_only_root_fs",
      "sec.drop_all_capabilities", "sec.no_privilege_escalation", "sec.seccomp_runtime_default",
      "sec.no_automount_sa_token"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "level", "fixed"), LEVEL_CASES, ids=[c[0] for c in LEVEL_CASES])
def test_repair_levels(name, text, level, fixed):
    _, changes = repair(text, RepairConfig(level=level))
    assert {c.check_id for c in changes} == fixed


def test_default_level_is_safe_and_old_call_works():
    # `repair(text)` (the old call) = `repair(text, RepairConfig())` = the safe level
    assert RepairConfig().level == "safe"
    assert repair(BARE_DEPLOYMENT) == repair(BARE_DEPLOYMENT, RepairConfig(level="safe"))


def test_every_rule_declares_a_level_and_a_reason():
    assert REPAIR_LEVELS == ("safe", "strict")
    assert {rule.check_id for rule in REPAIR_RULES if rule.level == "safe"} == _SAFE_RULES
    for rule in REPAIR_RULES:
        assert rule.level in REPAIR_LEVELS and len(rule.reason) > 20, rule.check_id


def test_unknown_level_is_a_clear_error():
    with pytest.raises(ValueError, match="level must be one of safe, strict"):
        RepairConfig(level="aggressive")
